import type { RequestHandler } from 'express';
import type { TracingConfig } from './tracing-config.ts';

/**
 * The gateway's tracing hooks. Each is called from one place (REST and MCP listeners, executor, delivery service
 * and worker, logger). With tracing off (no OTLP endpoint) every hook is a pass-through and no OpenTelemetry
 * module is loaded: the SDK lives in tracing-sdk.ts, imported only by startTracing when an endpoint is set.
 */
export interface TracingRuntime {
  /** HTTP server span per request: joins the caller's `traceparent`, answers `X-Trace-Id`. */
  readonly httpServer: RequestHandler;
  /** `enter: false` for a step that starts no span or log line inside: not making it current saves a context switch. */
  step<T>(name: string, run: () => T, describe?: (result: Awaited<T>) => SpanFacts, enter?: boolean): T;
  upstreamAttempt<T extends { readonly status: number }>(
    attempt: UpstreamAttempt,
    headers: Readonly<Record<string, string>>,
    send: (headers: Readonly<Record<string, string>>) => Promise<T>,
  ): Promise<T>;
  toolCall<T>(tool: string, meta: TraceCarrier | undefined, run: () => Promise<T>): Promise<T>;
  deliveryAttempt<T>(delivery: DeliveryTraceInfo, run: () => Promise<T>): Promise<T>;
  setFacts(facts: SpanFacts): void;
  bind<F extends (...args: never[]) => unknown>(fn: F): F;
  traceparent(): string | undefined;
  logFields(): Record<string, string>;
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

/** Input validation and shaping, as one span. */
export function traceValidation<T extends { readonly ok: boolean }>(run: () => T): T {
  if (!runtime) return run();
  return runtime.step('gateway.validate', run, (result) => (result.ok ? {} : { error: 'invalid-input' }), false);
}

/** An idempotency-guarded run (the record lookup, the call, the record's write), as one span. */
export function traceIdempotency<T extends { readonly replayed?: boolean }>(run: () => Promise<T>): Promise<T> {
  if (!runtime) return run();
  return runtime.step('gateway.idempotency', run, (result) => ({
    attributes: { 'gateway.idempotency.replayed': result.replayed === true },
  }));
}

/** An async acceptance (validation and the commit to the delivery queue): the span later deliveries link to. */
export function traceAcceptance<T extends { readonly ok: boolean }>(run: () => Promise<T>): Promise<T> {
  if (!runtime) return run();
  return runtime.step('gateway.accept', run, (result) => (result.ok ? {} : { error: 'not-accepted' }));
}

/** One upstream HTTP attempt as a client span; `send` gets the headers plus `traceparent` unless its plugin opts out. */
export function traceUpstreamAttempt<T extends { readonly status: number }>(
  attempt: UpstreamAttempt,
  headers: Readonly<Record<string, string>>,
  send: (headers: Readonly<Record<string, string>>) => Promise<T>,
): Promise<T> {
  if (!runtime) return send(headers);
  return runtime.upstreamAttempt(attempt, headers, send);
}

/** MCP `tools/call`, named after the tool, joining `_meta.traceparent` when the client sent one. */
export function traceToolCall<T>(tool: string, meta: TraceCarrier | undefined, run: () => Promise<T>): Promise<T> {
  if (!runtime) return run();
  return runtime.toolCall(tool, meta, run);
}

/** One delivery attempt: a trace of its own, linked to the span that accepted the delivery. */
export function traceDeliveryAttempt<T>(delivery: DeliveryTraceInfo, run: () => Promise<T>): Promise<T> {
  if (!runtime) return run();
  return runtime.deliveryAttempt(delivery, run);
}

/** `fn` to run later (an event listener) inside the span in progress: its log lines join the trace. */
export function bindToTrace<F extends (...args: never[]) => unknown>(fn: F): F {
  return runtime ? runtime.bind(fn) : fn;
}

/** Adds facts (e.g. a delivery's outcome) to the span in progress. */
export function noteOnSpan(facts: SpanFacts): void {
  runtime?.setFacts(facts);
}

/** `{acceptedTraceparent}` of the span in progress, to keep with a queued delivery; `{}` when not traced. */
export function acceptedTrace(): { acceptedTraceparent?: string } {
  const traceparent = runtime?.traceparent();
  return traceparent ? { acceptedTraceparent: traceparent } : {};
}

/** pino mixin: `trace_id` and `span_id` of the span in progress, so a log line joins its trace. A new object each
 * time: pino merges the line into it. */
export function traceLogFields(): Record<string, string> {
  return runtime ? runtime.logFields() : {};
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The trace id of a W3C `traceparent` (undefined when it is not one). */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  const match = traceparent === undefined ? undefined : TRACEPARENT.exec(traceparent);
  return match?.[2];
}
