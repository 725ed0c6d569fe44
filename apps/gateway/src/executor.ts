import { setTimeout as sleep } from 'node:timers/promises';
import {
  type ExecutionRequest,
  InputError,
  MAX_REPORTED_PROBLEMS,
  type OperationContext,
  type OperationExecutor,
  type OperationFailure,
  type OperationResult,
  type UpstreamRequest,
  type UpstreamResponse,
} from '@gateway/core';
import type { Logger } from 'pino';
import type { DeliveryError } from './delivery/delivery-store.ts';
import { inject, injectable } from 'tsyringe';
import type { GatewayConfig } from './config.ts';
import type { IdempotencyGuard } from './idempotency/idempotency-guard.ts';
import type { Metrics } from './observability/metrics.ts';
import { type TraceScope, traceIdempotency, traceLogFields, traceUpstreamAttempt, traceValidation } from './observability/tracing.ts';
import type { LoadedOperation, PluginRegistry } from './plugins/plugin-registry.ts';
import {
  CONFIG,
  IDEMPOTENCY_GUARD,
  LOGGER,
  METRICS,
  OUTBOUND_BUDGET,
  PLUGIN_REGISTRY,
  UPSTREAM_CLIENT,
  UPSTREAM_HEALTH,
} from './tokens.ts';
import { failureFromStatus, failureFromTransport } from './upstream/classify-response.ts';
import { secretRefs } from './upstream/credentials.ts';
import { defaultUpstreamRequest } from './upstream/default-request.ts';
import { redactJson } from './upstream/redact.ts';
import type { OutboundBudget } from './upstream/outbound-budget.ts';
import { backoffMs, isRetryableStatus, retryAfterMs } from './upstream/retry-policy.ts';
import type { UpstreamHealth } from './upstream/upstream-health.ts';
import { type UpstreamTransport, UpstreamTransportError } from './upstream/upstream-transport.ts';

type Attempt = { readonly response: UpstreamResponse } | { readonly error: UpstreamTransportError };

/** A call as the gateway runs it: the contract's request and the span it runs in (tracing on). */
export type TracedRequest = ExecutionRequest & { readonly trace?: TraceScope | undefined };

/** Validate, shape, inject credentials, call upstream (with retries), map the answer: the only path upstream. */
@injectable()
export class Executor implements OperationExecutor {
  constructor(
    @inject(PLUGIN_REGISTRY) private readonly registry: PluginRegistry,
    @inject(UPSTREAM_CLIENT) private readonly client: UpstreamTransport,
    @inject(CONFIG) private readonly config: GatewayConfig,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(METRICS) private readonly metrics: Metrics,
    @inject(IDEMPOTENCY_GUARD) private readonly idempotency: IdempotencyGuard,
    @inject(OUTBOUND_BUDGET) private readonly budget: OutboundBudget,
    @inject(UPSTREAM_HEALTH) private readonly health: UpstreamHealth,
  ) {}

  async execute(request: TracedRequest): Promise<OperationResult> {
    const prepared = this.prepare(request, 'direct', request.trace);
    if (!prepared.ok) return { ok: false, failure: prepared.failure, requestId: request.requestId, attempts: 0 };
    const { entry, upstreamRequest } = prepared;
    if (request.idempotencyKey === undefined) return this.call(entry, upstreamRequest, request, request.trace);
    return traceIdempotency(request.trace, (scope) =>
      this.idempotency.run(request, () => this.call(entry, upstreamRequest, request, scope)),
    );
  }

  /** Validates and shapes an input into the upstream request it stands for, without sending anything. */
  prepare(
    request: Pick<ExecutionRequest, 'pluginId' | 'operationId' | 'input' | 'requestId'>,
    delivery: OperationContext['delivery'],
    trace: TraceScope | undefined,
  ): PreparedRequest {
    return traceValidation(trace, () => this.shape(request, delivery));
  }

  private shape(
    request: Pick<ExecutionRequest, 'pluginId' | 'operationId' | 'input' | 'requestId'>,
    delivery: OperationContext['delivery'],
  ): PreparedRequest {
    const entry = this.registry.find(request.pluginId, request.operationId);
    if (!entry) {
      return {
        ok: false,
        failure: {
          kind: 'unknown-operation',
          status: 404,
          title: 'Unknown operation',
          detail: `No operation ${request.pluginId}/${request.operationId}.`,
        },
      };
    }
    const problems = entry.validateInput(request.input);
    if (problems.length > 0) return { ok: false, failure: invalidInput(problems) };
    try {
      const { toRequest } = entry.operation.upstream;
      const shaped = toRequest ? toRequest(request.input, { requestId: request.requestId, delivery, receivedAt: Date.now() }) : undefined;
      const upstreamRequest = defaultUpstreamRequest(entry.operation, request.input as Record<string, unknown>, shaped);
      return { ok: true, entry, upstreamRequest };
    } catch (error) {
      if (error instanceof InputError) return { ok: false, failure: invalidInput(error.problems) };
      throw error;
    }
  }

  /**
   * One attempt at a queued delivery, paced by the same outbound budget as synchronous calls (waiting for its
   * slot as long as it takes), classified for the delivery worker: no retries here, the worker schedules them.
   */
  async deliverOnce(
    delivery: {
      readonly pluginId: string;
      readonly operationId: string;
      readonly requestId: string;
      readonly request: UpstreamRequest;
      /** The delivery attempt's span. */
      readonly trace?: TraceScope | undefined;
    },
    signal?: AbortSignal,
    holdsProbe = false,
  ): Promise<DeliveryAttempt> {
    const { pluginId } = delivery;
    const entry = this.registry.find(pluginId, delivery.operationId);
    if (!entry) {
      if (holdsProbe) this.health.release(pluginId);
      return {
        outcome: 'rejected',
        error: { type: 'unknown-operation', detail: `No operation ${pluginId}/${delivery.operationId} is loaded.` },
      };
    }
    if (!(await this.budget.acquire(pluginId, Number.POSITIVE_INFINITY, signal))) {
      if (holdsProbe) this.health.release(pluginId);
      return { outcome: 'interrupted' };
    }
    // The breaker may have opened while this delivery waited for its slot: it waits too, unattempted.
    if (!holdsProbe && !this.health.admit(pluginId, 'delivery').admitted) return { outcome: 'held' };
    const deadline = performance.now() + this.config.upstreamTimeoutMs;
    const request = { pluginId, operationId: delivery.operationId, input: undefined, requestId: delivery.requestId };
    const started = performance.now();
    const attempt = await this.attempt(entry, delivery.request, request, deadline, 1, delivery.trace);
    const upstreamMs = performance.now() - started;
    if ('response' in attempt && attempt.response.status >= 200 && attempt.response.status < 300) {
      this.health.observe(pluginId, 'answered');
      return { outcome: 'delivered', status: attempt.response.status, upstreamMs };
    }
    const upstreamTitle = entry.loaded.mode === 'sandbox' ? `${entry.loaded.descriptor.title} (sandbox)` : entry.loaded.descriptor.title;
    const failure = this.failure(entry, attempt, upstreamTitle);
    if ('response' in attempt) this.health.observe(pluginId, failure.kind === 'upstream-refused-gateway' ? 'key-refused' : 'answered');
    const error = {
      ...(failure.upstreamStatus !== undefined ? { status: failure.upstreamStatus } : {}),
      type: failure.kind,
      detail: failure.detail,
    };
    if ('error' in attempt || isRetryableStatus(attempt.response.status)) {
      const retryAfter = 'response' in attempt ? retryAfterMs(attempt.response.headers['retry-after']) : undefined;
      return { outcome: 'retry', error, upstreamMs, ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}) };
    }
    if (failure.kind === 'upstream-refused-gateway') return { outcome: 'refused', error };
    return { outcome: 'rejected', error, upstreamMs };
  }

  /** Attempts the call until it succeeds, fails for good, or the next attempt would pass the deadline. */
  private async call(
    entry: LoadedOperation,
    upstreamRequest: UpstreamRequest,
    request: ExecutionRequest,
    scope: TraceScope | undefined,
  ): Promise<OperationResult> {
    const { loaded, operation } = entry;
    const { requestId } = request;
    const deadline = performance.now() + this.config.upstreamTimeoutMs;
    const upstreamTitle = loaded.mode === 'sandbox' ? `${loaded.descriptor.title} (sandbox)` : loaded.descriptor.title;
    const labels = { plugin: loaded.descriptor.id, operation: operation.id };
    let attempts = 0;

    for (;;) {
      const admission = this.health.admit(loaded.descriptor.id, 'sync');
      if (!admission.admitted) {
        return { ok: false, failure: upstreamUnavailable(upstreamTitle, admission.retryInMs), requestId, attempts };
      }
      // A slot so late that the call would have too little time left to run is refused at once instead.
      const granted = await this.budget.acquire(
        loaded.descriptor.id,
        Math.max(0, deadline - performance.now() - this.config.upstreamTimeoutMs / 2),
        request.signal,
      );
      if (!granted) {
        if (admission.probe) this.health.release(loaded.descriptor.id);
        const failure = outboundLimited(upstreamTitle, this.config.upstreamRateLimit);
        return { ok: false, failure, requestId, attempts };
      }
      attempts += 1;
      if (attempts > 1) this.metrics.upstreamRetries.inc(labels);
      const attempt = await this.attempt(entry, upstreamRequest, request, deadline, attempts, scope);
      this.observeSync(entry, attempt, upstreamTitle);
      if ('response' in attempt && attempt.response.status >= 200 && attempt.response.status < 300) {
        const body = operation.upstream.fromResponse ? operation.upstream.fromResponse(attempt.response) : attempt.response.body;
        return { ok: true, status: attempt.response.status, body, requestId, attempts };
      }
      const retryable = 'error' in attempt ? attempt.error.failure !== 'timeout' : isRetryableStatus(attempt.response.status);
      const delay =
        'response' in attempt
          ? retryDelayMs(attempt.response, attempts, this.config.upstreamRetryBaseMs)
          : backoffMs(attempts, this.config.upstreamRetryBaseMs);
      const hasTime = performance.now() + delay < deadline - 1;
      if (!retryable || attempts > this.config.upstreamRetries || !hasTime) {
        return { ok: false, failure: this.failure(entry, attempt, upstreamTitle), requestId, attempts };
      }
      this.logger.info({ requestId, ...labels, attempt: attempts, retryInMs: delay, ...traceLogFields(scope) }, 'retrying upstream call');
      await sleep(delay);
    }
  }

  private async attempt(
    entry: LoadedOperation,
    upstreamRequest: UpstreamRequest,
    request: ExecutionRequest,
    deadline: number,
    attempt: number,
    scope: TraceScope | undefined,
  ): Promise<Attempt> {
    const { loaded, operation } = entry;
    const started = performance.now();
    // One literal per line, spreads last (spread, then add: slow on Node 20; docs/performance.md).
    const line = (facts: object) => ({
      requestId: request.requestId,
      plugin: loaded.descriptor.id,
      operation: operation.id,
      attempt,
      ...facts,
      ...traceLogFields(scope),
    });
    const observe = (status: string) => {
      const labels = { plugin: loaded.descriptor.id, operation: operation.id, status };
      this.metrics.upstreamRequests.inc(labels);
      this.metrics.upstreamDuration.observe(labels, (performance.now() - started) / 1000);
      return Math.round(performance.now() - started);
    };
    try {
      const traced = {
        pluginId: loaded.descriptor.id,
        operationId: operation.id,
        method: upstreamRequest.method,
        pathTemplate: operation.upstream.path,
        baseUrl: loaded.baseUrl,
        attempt,
      };
      const response = await traceUpstreamAttempt(
        scope,
        traced,
        { 'x-request-id': request.requestId, ...loaded.credentials.headers },
        (headers) =>
          this.client.send({
            baseUrl: loaded.baseUrl,
            request: upstreamRequest,
            headers,
            query: loaded.credentials.query,
            timeoutMs: Math.max(1, Math.round(deadline - started)),
            ...(request.signal ? { signal: request.signal } : {}),
          }),
      );
      const durationMs = observe(String(response.status));
      this.logger.info(line({ upstreamStatus: response.status, durationMs }), 'upstream answered');
      // Secrets an upstream echoes are removed as its answer arrives, before anything maps, cuts, stores or relays it.
      const body = redactJson(response.body, this.registry.secrets());
      return { response: body === response.body ? response : { ...response, body } };
    } catch (error) {
      if (!(error instanceof UpstreamTransportError)) throw error;
      const durationMs = observe(error.failure);
      // A call its caller gave up on (a closed client connection) says nothing about the upstream.
      if (!request.signal?.aborted) this.health.observe(loaded.descriptor.id, 'connection-failed');
      this.logger.warn(line({ failure: error.failure, code: error.code, durationMs }), 'upstream did not answer');
      return { error };
    }
  }

  /**
   * What a synchronous answer tells the breaker: any answer but a refusal of the gateway's key closes it. A refusal
   * leaves it as it is: pausing deliveries is the worker's decision (its probes are what reopen them).
   */
  private observeSync(entry: LoadedOperation, attempt: Attempt, upstreamTitle: string): void {
    if (!('response' in attempt)) return;
    const { status } = attempt.response;
    const refused = (status < 200 || status >= 300) && this.failure(entry, attempt, upstreamTitle).kind === 'upstream-refused-gateway';
    if (!refused) this.health.observe(entry.loaded.descriptor.id, 'answered');
  }

  private failure(entry: LoadedOperation, attempt: Attempt, upstreamTitle: string): OperationFailure {
    if ('error' in attempt) return failureFromTransport(attempt.error, upstreamTitle, this.config.upstreamTimeoutMs);
    const { response } = attempt;
    if (entry.operation.upstream.errors === 'passthrough') return passthrough(response, upstreamTitle);
    return failureFromStatus(response, {
      upstreamTitle,
      credentialSources: secretRefs(entry.loaded.descriptor.upstream.auth).map((ref) => ref.source),
      notFoundStatuses: entry.operation.responses?.notFound ?? [],
    });
  }
}

export type PreparedRequest =
  | { readonly ok: true; readonly entry: LoadedOperation; readonly upstreamRequest: UpstreamRequest }
  | { readonly ok: false; readonly failure: OperationFailure };

/** How one delivery attempt ended, as the worker acts on it. */
export type DeliveryAttempt =
  | { readonly outcome: 'delivered'; readonly status: number; readonly upstreamMs: number }
  /** Transient (transport failure, 408, 429, 5xx but 501/505): try again later. */
  | { readonly outcome: 'retry'; readonly error: DeliveryError; readonly retryAfterMs?: number; readonly upstreamMs?: number }
  /** The upstream refused the gateway's own key or address: pause, never dead-letter. */
  | { readonly outcome: 'refused'; readonly error: DeliveryError }
  /** The upstream rejected this request itself (400, ...): dead at once. */
  | { readonly outcome: 'rejected'; readonly error: DeliveryError; readonly upstreamMs?: number }
  /** Stopped before sending (shutdown). */
  | { readonly outcome: 'interrupted' }
  /** Not sent: the upstream's breaker opened while it waited for its slot (it waits, unattempted). */
  | { readonly outcome: 'held' };

/** A 429 without `Retry-After` waits at least a second: retrying it at once only adds to the upstream's load. */
const MIN_RATE_LIMITED_WAIT_MS = 1000;

function retryDelayMs(response: UpstreamResponse, attempts: number, baseMs: number): number {
  const stated = retryAfterMs(response.headers['retry-after']);
  if (stated !== undefined) return stated;
  const backoff = backoffMs(attempts, baseMs);
  return response.status === 429 ? Math.max(MIN_RATE_LIMITED_WAIT_MS, backoff) : backoff;
}

/** An input's problems as a failure: the first MAX_REPORTED_PROBLEMS listed, the rest counted. */
export function invalidInput(problems: OperationFailure['problems']): OperationFailure {
  const all = problems ?? [];
  const listed = all.slice(0, MAX_REPORTED_PROBLEMS);
  const omitted = all.length - listed.length;
  return {
    kind: 'invalid-input',
    status: 400,
    title: 'Invalid input',
    detail: listed.map((p) => `${p.pointer || '/'} ${p.message}`).join('; ') + (omitted > 0 ? `; and ${omitted} more problems` : ''),
    problems: listed,
    ...(omitted > 0 ? { omittedProblems: omitted } : {}),
  };
}

function outboundLimited(upstream: string, ratePerSecond: number): OperationFailure {
  return {
    kind: 'upstream-rate-limited',
    status: 429,
    title: `Outbound limit for ${upstream} reached`,
    detail: `The gateway sends at most ${ratePerSecond} requests per second to ${upstream} (UPSTREAM_RATE_LIMIT) and this request could not be sent within its deadline. Wait and send it again.`,
    retryAfterSeconds: 1,
  };
}

/** The breaker is open: nothing was sent, and nothing will be until a probe finds the upstream answering again. */
function upstreamUnavailable(upstream: string, retryInMs: number): OperationFailure {
  return {
    kind: 'upstream-unavailable',
    status: 503,
    title: `${upstream} is unavailable`,
    detail: `${upstream} could not be reached on its last attempts; the gateway sends nothing to it until a probe gets an answer again. Nothing was sent; try again after Retry-After.`,
    retryAfterSeconds: Math.max(1, Math.ceil(retryInMs / 1000)),
  };
}

/** The upstream's own answer, relayed as it came (already without secrets). */
function passthrough(response: UpstreamResponse, upstream: string): OperationFailure {
  const { status } = response;
  const title = `${upstream} answered ${status}`;
  const detail =
    response.body === undefined || response.body === '' ? `${title} with no body.` : `${title} (its answer is relayed unchanged).`;
  return { kind: 'upstream-status', status, title, detail, upstreamStatus: status, upstreamBody: response.body };
}
