import { v7 as timeOrderedUuid } from 'uuid';
import { bodyPointer, type InputProblem, type OperationFailure, type OperationResult } from '@gateway/core';
import type { Logger } from 'pino';
import type { DeliveryConfig } from '../config.ts';
import { type Executor, invalidInput } from '../executor.ts';
import { type BatchItemResult, boundedResults } from '../batch-answer.ts';
import type { IdempotencyGuard } from '../idempotency/idempotency-guard.ts';
import type { CompiledOperation } from '@gateway/core';
import {
  type CapRefusal,
  type DeliveriesSummary,
  type DeliveryCaps,
  type DeliveryFilter,
  type DeliveryPage,
  type DeliveryRecord,
  type DeliveryStatus,
  type DeliveryStore,
  DeliveryStoreUnavailableError,
  type DeliverySummary,
  type NewDelivery,
} from './delivery-store.ts';
import type { DeliveryWorker } from './delivery-worker.ts';
import { acceptedTrace, type TraceScope, traceAcceptance, traceIdOf, traceLogFields } from '../observability/tracing.ts';
import type { DeliveryHealth } from './delivery-health.ts';
import { PayloadCodec } from './payload-codec.ts';

/** Each summary field is cut to this many characters: the summary stays small whatever the input. */
const SUMMARY_FIELD_MAX = 200;

/** What a client sees of a delivery: never the stored request (it may carry bound secrets) nor other clients' data. */
export interface DeliveryView {
  readonly id: string;
  readonly operation: string;
  readonly plugin: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly nextAttemptAt?: string;
  readonly deliveredAt?: string;
  readonly lastError?: { readonly status?: number; readonly type: string; readonly detail: string };
  readonly summary: DeliverySummary;
  /** The trace that accepted it (tracing on): every delivery attempt's trace links to that one. */
  readonly traceId?: string;
}

export interface AcceptRequest {
  readonly pluginId: string;
  readonly operationId: string;
  readonly requestId: string;
  readonly clientId: string;
  readonly idempotencyKey?: string;
  /** The span of the request that asks (tracing on): the acceptance is traced inside it. */
  readonly trace?: TraceScope | undefined;
}

/**
 * Accepts requests for durable delivery and answers questions about them. Accepting validates and shapes exactly
 * as a synchronous call does (the executor's `prepare`), commits to the store, and only then answers.
 */
export class DeliveryService {
  constructor(
    private readonly parts: {
      readonly store: DeliveryStore;
      readonly executor: Pick<Executor, 'prepare'>;
      readonly idempotency: IdempotencyGuard;
      readonly worker: DeliveryWorker;
      readonly config: DeliveryConfig;
      readonly logger: Logger;
      readonly health: DeliveryHealth;
      readonly codec?: PayloadCodec;
    },
  ) {
    this.codec = parts.codec ?? new PayloadCodec(parts.config.sealKey);
  }

  private readonly codec: PayloadCodec;

  get pausedPlugins(): string[] {
    return this.parts.worker.pausedPlugins;
  }

  /** One input, queued: 202 `{id, status: "queued"}`, or the input's problems (nothing stored). */
  acceptOne(request: AcceptRequest & { readonly input: unknown }): Promise<OperationResult> {
    const run = async (scope: TraceScope | undefined): Promise<OperationResult> => {
      const prepared = this.parts.executor.prepare(request, 'queued', scope);
      if (!prepared.ok) return this.failed(request, prepared.failure);
      const delivery = this.newDelivery(request, prepared.entry, request.input, prepared.upstreamRequest, scope);
      const refusal = await this.commit([delivery], scope);
      if (refusal) return this.failed(request, refusal);
      return { ok: true, status: 202, body: { id: delivery.id, status: 'queued' }, requestId: request.requestId, attempts: 0 };
    };
    return this.idempotent({ ...request, operationId: `${request.operationId}#async`, input: request.input }, () =>
      traceAcceptance(request.trace, run),
    );
  }

  /** Each item validated on its own; the valid ones queued in one transaction; 400 when none is valid. */
  acceptBatch(
    request: AcceptRequest & { readonly items: readonly unknown[]; readonly unreadable?: ReadonlyMap<number, string> },
  ): Promise<OperationResult> {
    const run = async (scope: TraceScope | undefined): Promise<OperationResult> => {
      const { pluginId, operationId, requestId } = request;
      const deliveries: NewDelivery[] = [];
      const results: BatchItemResult[] = [];
      for (const [index, item] of request.items.entries()) {
        const unreadable = request.unreadable?.get(index);
        if (unreadable !== undefined) {
          results.push({ index, errors: [{ pointer: '', detail: unreadable }] });
          continue;
        }
        const prepared = this.parts.executor.prepare({ pluginId, operationId, requestId, input: { body: item } }, 'queued', scope);
        if (prepared.ok) {
          const delivery = this.newDelivery(request, prepared.entry, { body: item }, prepared.upstreamRequest, scope);
          deliveries.push(delivery);
          results.push({ index, id: delivery.id });
        } else {
          results.push({ index, errors: itemProblems(prepared.failure) });
        }
      }
      const rejected = results.length - deliveries.length;
      if (deliveries.length === 0) {
        const problems = results.flatMap((result) =>
          'errors' in result ? result.errors.map((e) => ({ pointer: `/${result.index}${e.pointer}`, message: e.detail })) : [],
        );
        return this.failed(request, invalidInput(problems));
      }
      const refusal = await this.commit(deliveries, scope);
      if (refusal) return this.failed(request, refusal);
      return {
        ok: true,
        status: 202,
        body: { accepted: deliveries.length, rejected, ...boundedResults(results) },
        requestId: request.requestId,
        attempts: 0,
      };
    };
    return this.idempotent({ ...request, operationId: `${request.operationId}#batch`, input: request.items }, () =>
      traceAcceptance(request.trace, run),
    );
  }

  async get(id: string, clientId: string): Promise<DeliveryView | undefined> {
    const record = await this.parts.store.get(id, clientId);
    return record ? view(record) : undefined;
  }

  async list(
    clientId: string,
    options: { status?: DeliveryStatus; pluginId?: string; limit: number; cursor?: string },
  ): Promise<{ items: DeliveryView[]; nextCursor?: string }> {
    const page: DeliveryPage = await this.parts.store.list(clientId, options);
    return { items: page.items.map(view), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  }

  summary(clientId: string): Promise<DeliveriesSummary> {
    return this.parts.store.summary(clientId, Date.now());
  }

  /**
   * A dead delivery back to the queue; `not-dead` when there is none (not this client's, or not dead); `refused`
   * (429/503, it stays dead) when the caps refuse it, as they would refuse a new acceptance.
   */
  async retry(
    id: string,
    clientId: string,
  ): Promise<
    | { readonly outcome: 'retried'; readonly delivery: DeliveryView }
    | { readonly outcome: 'not-dead' }
    | { readonly outcome: 'refused'; readonly failure: OperationFailure }
  > {
    const result = await this.parts.store.retry(id, clientId, Date.now(), this.caps);
    if (result.outcome === 'not-dead') return result;
    if (result.outcome === 'refused')
      return { outcome: 'refused', failure: this.refused(result, 1, 'the delivery was not retried (it stays dead)') };
    this.parts.worker.wake();
    return { outcome: 'retried', delivery: view(result.record) };
  }

  /** Dead deliveries matching the filter back to the queue, each passing the caps; stops at the first refusal. */
  async retryMatching(clientId: string, filter: DeliveryFilter, now = Date.now()): Promise<{ matched: number; retried: number }> {
    const { matched, retried } = await this.parts.store.retryMatching(clientId, filter, now, this.caps);
    if (retried > 0) this.parts.worker.wake();
    return { matched, retried };
  }

  discard(id: string, clientId: string): Promise<'discarded' | 'not-found' | 'busy'> {
    return this.parts.store.discard(id, clientId);
  }

  discardMatching(clientId: string, filter: DeliveryFilter): Promise<{ matched: number; discarded: number }> {
    return this.parts.store.discardMatching(clientId, filter);
  }

  /** Whether the store takes writes (`ok`), or why not: `/readyz` and a metric report it. */
  get storeCondition(): DeliveryHealth['condition'] {
    return this.parts.store.condition?.() === 'full' ? 'full' : this.parts.health.condition;
  }

  private get caps(): DeliveryCaps {
    const { config } = this.parts;
    return { maxPending: config.maxQueued, maxPendingPerClient: config.maxQueuedPerClient, maxBytesPerClient: config.maxBytesPerClient };
  }

  private newDelivery(
    request: AcceptRequest,
    entry: CompiledOperation,
    input: unknown,
    upstreamRequest: Parameters<PayloadCodec['encode']>[0],
    scope: TraceScope | undefined,
  ): NewDelivery {
    // Time-ordered (UUIDv7): a deep queue's id index grows at its end instead of being written all over.
    const id = timeOrderedUuid();
    const payload = this.codec.encode(upstreamRequest, { id, pluginId: request.pluginId, operationId: request.operationId });
    const picked = entry.operation.delivery?.summarize?.(input as never) ?? {};
    const summary: Record<string, string | number> = { bytes: Buffer.byteLength(payload) };
    for (const field of ['eventName', 'identifyId', 'accountId'] as const) {
      const value = picked[field];
      if (typeof value === 'string') summary[field] = value.slice(0, SUMMARY_FIELD_MAX);
    }
    return {
      id,
      clientId: request.clientId,
      pluginId: request.pluginId,
      operationId: request.operationId,
      requestId: request.requestId,
      payload,
      summary: summary as unknown as DeliverySummary,
      // The accepting span (tracing on), which every delivery attempt links to.
      ...acceptedTrace(scope),
    };
  }

  /** Commits, or says why not (full queue, unwritable store): never a 202 without the deliveries committed. */
  private async commit(deliveries: readonly NewDelivery[], scope: TraceScope | undefined): Promise<OperationFailure | undefined> {
    const { store, config, worker, logger } = this.parts;
    // Larger than the client's whole share of the queue, it could never be accepted: a 400 to split it, not a 429 to wait.
    const share = Math.min(config.maxQueued, config.maxQueuedPerClient);
    if (deliveries.length > share) {
      const message = `holds ${deliveries.length} valid items, more than this gateway queues for one client (${share}: DELIVERY_MAX_QUEUED_PER_CLIENT and DELIVERY_MAX_QUEUED); send them in smaller batches`;
      return invalidInput([{ pointer: '', message }]);
    }
    try {
      const result = await store.enqueue(deliveries, Date.now(), this.caps);
      if (!result.ok) {
        const what = deliveries.length === 1 ? 'the event was not queued' : `none of the ${deliveries.length} events was queued`;
        return this.refused(result, deliveries.length, what);
      }
      this.parts.health.wrote();
    } catch (error) {
      if (!(error instanceof DeliveryStoreUnavailableError)) throw error;
      this.parts.health.failed(error);
      logger.error({ err: error, ...traceLogFields(scope) }, 'delivery store refused a write');
      const why = error.condition === 'full' ? 'is out of disk space (DATA_DIR is full)' : 'cannot take writes right now';
      return unavailable(`The delivery queue ${why}; nothing was queued. What is already queued is still delivered. Retry later.`);
    }
    worker.wake();
    return undefined;
  }

  /** The answer to a write the caps refused, naming the cap and what to do. */
  private refused({ cap, usage }: CapRefusal, count: number, what: string): OperationFailure {
    const { config } = this.parts;
    if (cap === 'max-pending')
      return unavailable(
        `The delivery queue is full (${usage.pending} pending, DELIVERY_MAX_QUEUED ${config.maxQueued}); ${what}. Retry later.`,
      );
    if (cap === 'max-pending-per-client')
      return tooManyPending(
        `This client has ${usage.clientPending} deliveries pending and may have at most ${config.maxQueuedPerClient} ` +
          `(DELIVERY_MAX_QUEUED_PER_CLIENT); ${what}. Retry once some are delivered (GET /v1/deliveries?status=queued lists them).`,
      );
    return tooManyPending(
      `This client holds ${usage.clientBytes} bytes of pending and dead deliveries and may hold at most ${config.maxBytesPerClient} ` +
        `(DELIVERY_MAX_BYTES_PER_CLIENT); ${what}${count > 1 ? ' (split the batch, or wait)' : ''}. ` +
        'Retry once some are delivered, or discard dead ones (DELETE /v1/deliveries/{id}).',
    );
  }

  private idempotent(request: AcceptRequest & { readonly input: unknown }, run: () => Promise<OperationResult>): Promise<OperationResult> {
    if (request.idempotencyKey === undefined) return run();
    return this.parts.idempotency.run(request, run);
  }

  private failed(request: AcceptRequest, failure: OperationFailure): OperationResult {
    return { ok: false, failure, requestId: request.requestId, attempts: 0 };
  }
}

/** One client's share of the queue is used up: the others are still accepted, so it is that client's 429. */
function tooManyPending(detail: string): OperationFailure {
  return { kind: 'too-many-pending', status: 429, title: 'Too many pending deliveries', detail, retryAfterSeconds: 30 };
}

function unavailable(detail: string): OperationFailure {
  return { kind: 'delivery-unavailable', status: 503, title: 'Delivery queue unavailable', detail, retryAfterSeconds: 5 };
}

/** Problems of one batch item, as pointers into the item itself (`/eventName`, not `/body/eventName`). */
function itemProblems(failure: OperationFailure): { pointer: string; detail: string }[] {
  const problems: readonly InputProblem[] = failure.problems ?? [{ pointer: '', message: failure.detail }];
  return problems.map((p) => ({ pointer: bodyPointer(p.pointer), detail: p.message }));
}

const iso = (epochMs: number): string => new Date(epochMs).toISOString();

function view(record: DeliveryRecord): DeliveryView {
  return {
    id: record.id,
    operation: `${record.pluginId}.${record.operationId}`,
    plugin: record.pluginId,
    status: record.status,
    attempts: record.attempts,
    createdAt: iso(record.createdAt),
    updatedAt: iso(record.updatedAt),
    ...(record.nextAttemptAt !== undefined ? { nextAttemptAt: iso(record.nextAttemptAt) } : {}),
    ...(record.deliveredAt !== undefined ? { deliveredAt: iso(record.deliveredAt) } : {}),
    ...(record.lastError ? { lastError: record.lastError } : {}),
    summary: record.summary,
    ...withTraceId(record.acceptedTraceparent),
  };
}

function withTraceId(traceparent: string | undefined): { traceId?: string } {
  const traceId = traceIdOf(traceparent);
  return traceId ? { traceId } : {};
}
