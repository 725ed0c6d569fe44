import type { RequestHandler } from 'express';
import type { TracingConfig } from './tracing-config.ts';

declare const scopeBrand: unique symbol;
/**
 * The span a piece of work runs in, handed from caller to callee (the REST response's locals, the MCP auth info, the
 * executor's request, a delivery attempt). Passed explicitly rather than through async context: Node 20's
 * AsyncLocalStorage hooks every promise of the process, which a traced request paid for on every await.
 * Undefined when tracing is off.
 */
export type TraceScope = { readonly [scopeBrand]: true };

/**
 * The gateway's tracing hooks. Each is called from one place (REST and MCP listeners, executor, delivery service
 * and worker, the log lines of a traced piece of work). With tracing off (no OTLP endpoint) every hook is a
 * pass-through and no OpenTelemetry module is loaded: the SDK lives in tracing-sdk.ts, imported only by startTracing
 * when an endpoint is set.
 */
export interface TracingRuntime {
  /** HTTP server span per request: joins the caller's `traceparent`, answers `X-Trace-Id`, leaves its scope in
   * `response.locals.traceScope`. */
  readonly httpServer: RequestHandler;
  step<T>(parent: TraceScope | undefined, name: string, run: (scope: TraceScope) => T, describe?: (result: Awaited<T>) => SpanFacts): T;
  upstreamAttempt<T extends { readonly status: number }>(
    parent: TraceScope | undefined,
    attempt: UpstreamAttempt,
    headers: Readonly<Record<string, string>>,
    send: (headers: Readonly<Record<string, string>>) => Promise<T>,
  ): Promise<T>;
  toolCall<T>(
    tool: string,
    meta: TraceCarrier | undefined,
    parent: TraceScope | undefined,
    run: (scope: TraceScope) => Promise<T>,
  ): Promise<T>;
  deliveryAttempt<T>(delivery: DeliveryTraceInfo, run: (scope: TraceScope) => Promise<T>): Promise<T>;
  setFacts(scope: TraceScope | undefined, facts: SpanFacts): void;
  traceparent(scope: TraceScope | undefined): string | undefined;
  logFields(scope: TraceScope | undefined): Record<string, string>;
  shutdown(): Promise<void>;
}

/** Attributes and an error flag for the span in progress (never a secret, a query value or a body). */
export interface SpanFacts {
  readonly attributes?: Readonly<Record<string, string | number | boolean>>;
  /** Marks the span failed, with this `error.type`. */
  readonly error?: string;
}

export interface UpstreamAttempt {
  readonly pluginId: string;
  readonly operationId: string;
  readonly method: string;
  /** The upstream path template (`/users/{id}`), never the filled path. */
  readonly pathTemplate: string;
  readonly baseUrl: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

export interface DeliveryTraceInfo {
  readonly id: string;
  readonly pluginId: string;
  readonly operationId: string;
  readonly attempts: number;
  readonly acceptedTraceparent?: string | undefined;
}

/** Where W3C trace context travels (`traceparent`, `tracestate`): HTTP headers, an MCP request's `_meta`. */
export type TraceCarrier = Readonly<Record<string, unknown>>;

let runtime: TracingRuntime | undefined;

/** Starts the OpenTelemetry SDK when `config` is set; the returned stop flushes what is buffered. */
export async function startTracing(config: TracingConfig | undefined): Promise<(() => Promise<void>) | undefined> {
  if (!config) return undefined;
  const { createTracingRuntime } = await import('./tracing-sdk.ts');
  const started = createTracingRuntime(config);
  runtime = started;
  return async () => {
    if (runtime === started) runtime = undefined;
    await started.shutdown();
  };
}

/** Express middleware for the HTTP server span, or undefined when tracing is off (mount nothing). */
export function traceHttpRequests(): RequestHandler | undefined {
  return runtime?.httpServer;
}

/** The scope `traceHttpRequests` left on a response (undefined when tracing is off). */
export function traceScopeOf(response: { readonly locals: Record<string, unknown> }): TraceScope | undefined {
  return response.locals.traceScope as TraceScope | undefined;
}

/** Input validation and shaping, as one span. */
export function traceValidation<T extends { readonly ok: boolean }>(parent: TraceScope | undefined, run: () => T): T {
  if (!runtime) return run();
  return runtime.step(parent, 'gateway.validate', run, (result) => (result.ok ? {} : { error: 'invalid-input' }));
}

/** An idempotency-guarded run (the record lookup, the call, the record's write), as one span. */
export function traceIdempotency<T extends { readonly replayed?: boolean }>(
  parent: TraceScope | undefined,
  run: (scope: TraceScope | undefined) => Promise<T>,
): Promise<T> {
  if (!runtime) return run(undefined);
  return runtime.step(parent, 'gateway.idempotency', run, (result) => ({
    attributes: { 'gateway.idempotency.replayed': result.replayed === true },
  }));
}

/** An async acceptance (validation and the commit to the delivery queue): the span later deliveries link to. */
export function traceAcceptance<T extends { readonly ok: boolean }>(
  parent: TraceScope | undefined,
  run: (scope: TraceScope | undefined) => Promise<T>,
): Promise<T> {
  if (!runtime) return run(undefined);
  return runtime.step(parent, 'gateway.accept', run, (result) => (result.ok ? {} : { error: 'not-accepted' }));
}

/** One upstream HTTP attempt as a client span; `send` gets the headers plus `traceparent` unless its plugin opts out. */
export function traceUpstreamAttempt<T extends { readonly status: number }>(
  parent: TraceScope | undefined,
  attempt: UpstreamAttempt,
  headers: Readonly<Record<string, string>>,
  send: (headers: Readonly<Record<string, string>>) => Promise<T>,
): Promise<T> {
  if (!runtime) return send(headers);
  return runtime.upstreamAttempt(parent, attempt, headers, send);
}

/** MCP `tools/call`, named after the tool, joining `_meta.traceparent` when the client sent one (else `parent`, the
 * HTTP request's span). */
export function traceToolCall<T>(
  tool: string,
  meta: TraceCarrier | undefined,
  parent: TraceScope | undefined,
  run: (scope: TraceScope | undefined) => Promise<T>,
): Promise<T> {
  if (!runtime) return run(undefined);
  return runtime.toolCall(tool, meta, parent, run);
}

/** One delivery attempt: a trace of its own, linked to the span that accepted the delivery. */
export function traceDeliveryAttempt<T>(delivery: DeliveryTraceInfo, run: (scope: TraceScope | undefined) => Promise<T>): Promise<T> {
  if (!runtime) return run(undefined);
  return runtime.deliveryAttempt(delivery, run);
}

/** Adds facts (e.g. a delivery's outcome) to the span of `scope`. */
export function noteOnSpan(scope: TraceScope | undefined, facts: SpanFacts): void {
  if (scope) runtime?.setFacts(scope, facts);
}

/** `{acceptedTraceparent}` of the span of `scope`, to keep with a queued delivery; `{}` when not traced. */
export function acceptedTrace(scope: TraceScope | undefined): { acceptedTraceparent?: string } {
  const traceparent = scope ? runtime?.traceparent(scope) : undefined;
  return traceparent ? { acceptedTraceparent: traceparent } : {};
}

/** `trace_id` and `span_id` of the span of `scope`, spread into a log line so it joins its trace; `{}` when not traced. */
export function traceLogFields(scope: TraceScope | undefined): Record<string, string> {
  return scope && runtime ? runtime.logFields(scope) : {};
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The trace id of a W3C `traceparent` (undefined when it is not one). */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  const match = traceparent === undefined ? undefined : TRACEPARENT.exec(traceparent);
  return match?.[2];
}
