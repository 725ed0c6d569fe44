import type { Environment } from '@gateway/core';

/** Tracing as the standard OpenTelemetry variables set it; undefined (off) unless an OTLP endpoint is given. */
export interface TracingConfig {
  /** Where spans are POSTed: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, else OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`. */
  readonly tracesUrl: string;
  readonly protocol: 'http/protobuf' | 'http/json';
  readonly serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES, decoded; `service.name` comes from OTEL_SERVICE_NAME when that is set. */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly sampler: { readonly name: SamplerName; readonly ratio: number };
  /** OTEL_BSP_SCHEDULE_DELAY: how long finished spans wait to be sent in one batch. */
  readonly scheduleDelayMs: number;
  /** UPSTREAM_TRACEPARENT_OFF: plugins whose upstream is sent no `traceparent`/`tracestate` (`*`: none is). */
  readonly propagationOff: ReadonlySet<string>;
}

export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

const DEFAULT_SERVICE_NAME = 'gateway';

/** Reads the OTEL_* variables the gateway honours; `fail` builds the start-up error (it names the variable). */
export function readTracingConfig(environment: Environment, fail: (message: string) => Error): TracingConfig | undefined {
  const value = (name: string): string | undefined => environment[name]?.trim() || undefined;
  const disabled = (value('OTEL_SDK_DISABLED') ?? 'false').toLowerCase();
  if (disabled !== 'true' && disabled !== 'false')
    throw fail(`OTEL_SDK_DISABLED must be true or false (got "${environment.OTEL_SDK_DISABLED}")`);
  const exporter = (value('OTEL_TRACES_EXPORTER') ?? 'otlp').toLowerCase();
  if (exporter !== 'otlp' && exporter !== 'none')
    throw fail(
      `OTEL_TRACES_EXPORTER must be otlp or none (got "${environment.OTEL_TRACES_EXPORTER}"): this gateway exports OTLP over HTTP only`,
    );
  const tracesUrl = tracesEndpoint(value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'), value('OTEL_EXPORTER_OTLP_ENDPOINT'), fail);
  if (disabled === 'true' || exporter === 'none' || tracesUrl === undefined) return undefined;

  const protocolName = value('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = value(protocolName) ?? 'http/protobuf';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json')
    throw fail(`${protocolName} must be http/protobuf or http/json (got "${protocol}"): this gateway does not export over gRPC`);

  const samplerName = (value('OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on').toLowerCase();
  if (!(SAMPLERS as readonly string[]).includes(samplerName))
    throw fail(`OTEL_TRACES_SAMPLER must be one of ${SAMPLERS.join(', ')} (got "${environment.OTEL_TRACES_SAMPLER}")`);
  const rawRatio = value('OTEL_TRACES_SAMPLER_ARG');
  const ratio = rawRatio === undefined ? 1 : Number(rawRatio);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1)
    throw fail(`OTEL_TRACES_SAMPLER_ARG must be a sampling ratio from 0 to 1 (got "${rawRatio}")`);

  const rawDelay = value('OTEL_BSP_SCHEDULE_DELAY');
  const scheduleDelayMs = rawDelay === undefined ? 5000 : Number(rawDelay);
  if (!Number.isInteger(scheduleDelayMs) || scheduleDelayMs < 1 || scheduleDelayMs > 600_000)
    throw fail(`OTEL_BSP_SCHEDULE_DELAY must be milliseconds from 1 to 600000 (got "${rawDelay}")`);

  const resourceAttributes = parseResourceAttributes(value('OTEL_RESOURCE_ATTRIBUTES') ?? '', fail);
  const serviceName = value('OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? DEFAULT_SERVICE_NAME;
  const propagationOff = new Set(
    (environment.UPSTREAM_TRACEPARENT_OFF ?? '')
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean),
  );
  return {
    tracesUrl,
    protocol,
    serviceName,
    resourceAttributes,
    sampler: { name: samplerName as SamplerName, ratio },
    scheduleDelayMs,
    propagationOff,
  };
}

function tracesEndpoint(signal: string | undefined, base: string | undefined, fail: (message: string) => Error): string | undefined {
  const [name, raw] = signal ? ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', signal] : ['OTEL_EXPORTER_OTLP_ENDPOINT', base];
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fail(`${name} must be an http(s) URL such as http://127.0.0.1:4318 (got "${raw}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw fail(`${name} must be an http(s) URL such as http://127.0.0.1:4318 (got "${raw}")`);
  // The specification: the per-signal endpoint is used as it is; the base one gets the signal's path.
  return signal ? raw : `${url.href.replace(/\/$/, '')}/v1/traces`;
}

/** `key=value,key=value` with percent-encoded values (the W3C Baggage octet rules the specification refers to). */
function parseResourceAttributes(raw: string, fail: (message: string) => Error): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    const key = at > 0 ? pair.slice(0, at).trim() : '';
    let decoded: string | undefined;
    try {
      decoded = at > 0 ? decodeURIComponent(pair.slice(at + 1).trim()) : undefined;
    } catch {
      decoded = undefined;
    }
    if (key === '' || decoded === undefined)
      throw fail(`OTEL_RESOURCE_ATTRIBUTES must be key=value pairs separated by commas, values percent-encoded (bad entry "${pair}")`);
    attributes[key] = decoded;
  }
  return attributes;
}
