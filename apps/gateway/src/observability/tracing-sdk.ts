import {
  type Attributes,
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
  ATTR_URL_SCHEME,
} from '@opentelemetry/semantic-conventions';
import type { RequestHandler } from 'express';
import type { TraceCarrier, TraceScope, TracingRuntime, UpstreamAttempt } from './tracing.ts';
import type { TracingConfig } from './tracing-config.ts';

// Incubating semantic-convention names, copied as the package advises rather than importing its incubating entry.
const ATTR_URL_TEMPLATE = 'url.template';
const ATTR_MCP_METHOD_NAME = 'mcp.method.name';
const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name';
const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
const ATTR_MESSAGING_OPERATION_NAME = 'messaging.operation.name';
const ATTR_MESSAGING_SYSTEM = 'messaging.system';

/** The response header that tells a caller which trace its request is in (beside X-Request-Id). */
export const TRACE_ID_HEADER = 'X-Trace-Id';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE']);

/** The OpenTelemetry SDK behind the hooks in tracing.ts: loaded only when an OTLP endpoint is configured. */
export function createTracingRuntime(config: TracingConfig): TracingRuntime {
  const propagator = new W3CTraceContextPropagator();
  const exporter =
    config.protocol === 'http/json' ? new JsonExporter({ url: config.tracesUrl }) : new ProtobufExporter({ url: config.tracesUrl });
  const provider = new TracerProvider({
    sampler: samplerOf(config.sampler),
    resource: defaultResource().merge(resourceFromAttributes({ ...config.resourceAttributes, [ATTR_SERVICE_NAME]: config.serviceName })),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: config.scheduleDelayMs })],
  });
  const tracer = provider.getTracer('gateway');
  const propagateAll = !config.propagationOff.has('*');
  // One entry per upstream base URL (bounded by the loaded plugins).
  const upstreams = new Map<string, Upstream>();

  // A scope is an OpenTelemetry Context; the type only keeps the gateway from depending on the SDK.
  const contextOf = (scope: TraceScope | undefined): Context => (scope as Context | undefined) ?? ROOT_CONTEXT;
  const scopeOf = (context: Context): TraceScope => context as unknown as TraceScope;
  const remote = (carrier: TraceCarrier): Context => propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
  const finish = (span: Span, facts: { attributes?: Attributes; error?: string } | undefined): void => {
    if (facts?.attributes) span.setAttributes(facts.attributes);
    if (facts?.error !== undefined) {
      span.setAttribute(ATTR_ERROR_TYPE, facts.error);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  };
  /** Runs `run` in `span` (`context` holds it; handed to `run` as its scope); ends it with what `describe` says of the
   * result, or as failed when it throws. */
  const within = <T>(
    span: Span,
    context: Context,
    run: (scope: TraceScope) => T,
    describe?: (result: Awaited<T>) => { attributes?: Attributes; error?: string },
  ): T => {
    const failed = (error: unknown): never => {
      finish(span, { error: error instanceof Error ? ((error as Error & { failure?: string }).failure ?? error.name) : 'unknown' });
      throw error;
    };
    let result: T;
    try {
      result = run(scopeOf(context));
    } catch (error) {
      return failed(error);
    }
    if (result instanceof Promise) {
      return result.then((value: Awaited<T>) => {
        finish(span, describe?.(value));
        return value;
      }, failed) as T;
    }
    finish(span, describe?.(result as Awaited<T>));
    return result;
  };

  const httpServer: RequestHandler = (request, response, next) => {
    const parent = remote(request.headers);
    const method = KNOWN_METHODS.has(request.method) ? request.method : '_OTHER';
    const span = tracer.startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: method,
          [ATTR_URL_SCHEME]: request.protocol,
          [ATTR_NETWORK_PROTOCOL_VERSION]: request.httpVersion,
          ...(typeof response.locals.requestId === 'string' ? { 'gateway.request_id': response.locals.requestId } : {}),
        },
      },
      parent,
    );
    const context = trace.setSpan(parent, span);
    response.setHeader(TRACE_ID_HEADER, span.spanContext().traceId);
    // `close` follows `finish` on every response, and comes alone when the connection went first: one listener.
    response.once('close', () => {
      const template: unknown = request.route?.path;
      if (typeof template === 'string') {
        span.setAttribute(ATTR_HTTP_ROUTE, template);
        span.updateName(`${method} ${template}`);
      }
      const status = response.statusCode;
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      if (!response.writableFinished) finish(span, { error: 'aborted' });
      else finish(span, status >= 500 ? { error: String(status) } : undefined);
    });
    response.locals.traceScope = scopeOf(context);
    next();
  };

  return {
    httpServer,
    step: (scope, name, run, describe) => {
      const parent = contextOf(scope);
      const span = tracer.startSpan(name, {}, parent);
      return within(span, trace.setSpan(parent, span), run, describe);
    },
    upstreamAttempt: (scope, attempt: UpstreamAttempt, headers, send) => {
      const parent = contextOf(scope);
      const upstream = upstreamOf(upstreams, attempt.baseUrl);
      const template = `${upstream.basePath}${attempt.pathTemplate}`;
      const span = tracer.startSpan(
        `${attempt.method} ${template}`,
        {
          kind: SpanKind.CLIENT,
          // Spreads last (spread, then add: slow on Node 20; docs/performance.md).
          attributes: {
            [ATTR_HTTP_REQUEST_METHOD]: attempt.method,
            [ATTR_URL_TEMPLATE]: template,
            'gateway.plugin': attempt.pluginId,
            'gateway.operation': attempt.operationId,
            ...upstream.attributes,
            ...(attempt.attempt > 1 ? { [ATTR_HTTP_REQUEST_RESEND_COUNT]: attempt.attempt - 1 } : {}),
          },
        },
        parent,
      );
      const context = trace.setSpan(parent, span);
      let sent = headers;
      if (propagateAll && !config.propagationOff.has(attempt.pluginId)) {
        const carrier: Record<string, string> = Object.assign({}, headers);
        propagator.inject(context, carrier, defaultTextMapSetter);
        sent = carrier;
      }
      return within(
        span,
        context,
        () => send(sent),
        (response) => ({
          attributes: { [ATTR_HTTP_RESPONSE_STATUS_CODE]: response.status },
          ...(response.status >= 400 ? { error: String(response.status) } : {}),
        }),
      );
    },
    toolCall: (tool, meta, scope, run) => {
      // A valid `_meta.traceparent` wins over the HTTP request's context; a malformed one is ignored.
      const given = typeof meta?.traceparent === 'string' ? remote(meta) : undefined;
      const parent = given && trace.getSpanContext(given) ? given : contextOf(scope);
      const span = tracer.startSpan(
        `tools/call ${tool}`,
        {
          kind: SpanKind.SERVER,
          attributes: { [ATTR_MCP_METHOD_NAME]: 'tools/call', [ATTR_GEN_AI_TOOL_NAME]: tool, [ATTR_GEN_AI_OPERATION_NAME]: 'execute_tool' },
        },
        parent,
      );
      return within(span, trace.setSpan(parent, span), run, (result) =>
        (result as { isError?: boolean } | undefined)?.isError === true ? { error: 'tool_error' } : {},
      );
    },
    deliveryAttempt: (delivery, run) => {
      const accepted = delivery.acceptedTraceparent
        ? trace.getSpanContext(remote({ traceparent: delivery.acceptedTraceparent }))
        : undefined;
      const links: Link[] = accepted ? [{ context: accepted }] : [];
      const span = tracer.startSpan(
        `deliver ${delivery.pluginId}.${delivery.operationId}`,
        {
          root: true,
          kind: SpanKind.CONSUMER,
          links,
          attributes: {
            [ATTR_MESSAGING_SYSTEM]: 'gateway',
            [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
            [ATTR_MESSAGING_OPERATION_NAME]: 'deliver',
            'gateway.delivery.id': delivery.id,
            'gateway.delivery.attempt': delivery.attempts,
            'gateway.plugin': delivery.pluginId,
            'gateway.operation': delivery.operationId,
          },
        },
        ROOT_CONTEXT,
      );
      return within(span, trace.setSpan(ROOT_CONTEXT, span), run);
    },
    setFacts: (scope, facts) => {
      const span = trace.getSpan(contextOf(scope));
      if (!span) return;
      if (facts.attributes) span.setAttributes(facts.attributes);
      if (facts.error !== undefined) {
        span.setAttribute(ATTR_ERROR_TYPE, facts.error);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    },
    traceparent: (scope) => {
      const context = trace.getSpanContext(contextOf(scope));
      if (!context || !trace.isSpanContextValid(context)) return undefined;
      return `00-${context.traceId}-${context.spanId}-0${(context.traceFlags & 1).toString(16)}`;
    },
    logFields: (scope): Record<string, string> => {
      const context = trace.getSpanContext(contextOf(scope));
      return context && trace.isSpanContextValid(context) ? { trace_id: context.traceId, span_id: context.spanId } : {};
    },
    shutdown: () => provider.shutdown(),
  };
}

function samplerOf({ name, ratio }: TracingConfig['sampler']): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

interface Upstream {
  readonly attributes: Attributes;
  readonly basePath: string;
}

/** `server.address`, `server.port`, `url.scheme` and the path prefix of an upstream base URL (never a query). */
function upstreamOf(cache: Map<string, Upstream>, baseUrl: string): Upstream {
  let upstream = cache.get(baseUrl);
  if (!upstream) {
    const url = new URL(baseUrl);
    const scheme = url.protocol.replace(/:$/, '');
    upstream = {
      attributes: {
        [ATTR_SERVER_ADDRESS]: url.hostname,
        [ATTR_SERVER_PORT]: url.port ? Number(url.port) : scheme === 'https' ? 443 : 80,
        [ATTR_URL_SCHEME]: scheme,
      },
      basePath: url.pathname.replace(/\/$/, ''),
    };
    cache.set(baseUrl, upstream);
  }
  return upstream;
}
