import { v7 as timeOrderedUuid } from 'uuid';
import { bodyPointer, type InputProblem, type OperationFailure, type OperationResult } from '@gateway/core';
import type { Logger } from 'pino';
import type { DeliveryConfig } from '../config.ts';
import { type Executor, invalidInput } from '../executor.ts';
import { type BatchItemResult, boundedResults } from '../batch-answer.ts';
import type { IdempotencyGuard } from '../idempotency/idempotency-guard.ts';
import {
  type DeliveryPage,
  type DeliveryRecord,
  type DeliveryStatus,
  type DeliveryStore,
  DeliveryStoreUnavailableError,
  type NewDelivery,
} from './delivery-store.ts';
import type { DeliveryWorker } from './delivery-worker.ts';

/** What a client sees of a delivery: never the stored request (it may carry bound secrets) nor other clients' data. */
export interface DeliveryView {
  readonly id: string;
  readonly operation: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly nextAttemptAt?: string;
  readonly deliveredAt?: string;
  readonly lastError?: { readonly status?: number; readonly type: string; readonly detail: string };
}

export interface AcceptRequest {
  readonly pluginId: string;
  readonly operationId: string;
  readonly requestId: string;
  readonly clientId: string;
  readonly idempotencyKey?: string;
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
    },
  ) {}

  get pausedPlugins(): string[] {
    return this.parts.worker.pausedPlugins;
  }

  /** One input, queued: 202 `{id, status: "queued"}`, or the input's problems (nothing stored). */
  acceptOne(request: AcceptRequest & { readonly input: unknown }): Promise<OperationResult> {
    const run = async (): Promise<OperationResult> => {
      const prepared = this.parts.executor.prepare(request, 'queued');
      if (!prepared.ok) return this.failed(request, prepared.failure);
      const delivery = this.newDelivery(request, prepared.upstreamRequest);
      const refusal = await this.commit([delivery]);
      if (refusal) return this.failed(request, refusal);
      return { ok: true, status: 202, body: { id: delivery.id, status: 'queued' }, requestId: request.requestId, attempts: 0 };
    };
    return this.idempotent({ ...request, operationId: `${request.operationId}#async`, input: request.input }, run);
  }

  /** Each item validated on its own; the valid ones queued in one transaction; 400 when none is valid. */
  acceptBatch(
    request: AcceptRequest & { readonly items: readonly unknown[]; readonly unreadable?: ReadonlyMap<number, string> },
  ): Promise<OperationResult> {
    const run = async (): Promise<OperationResult> => {
      const deliveries: NewDelivery[] = [];
      const results: BatchItemResult[] = [];
      for (const [index, item] of request.items.entries()) {
        const unreadable = request.unreadable?.get(index);
        if (unreadable !== undefined) {
          results.push({ index, errors: [{ pointer: '', detail: unreadable }] });
          continue;
        }
        const prepared = this.parts.executor.prepare({ ...request, input: { body: item } }, 'queued');
        if (prepared.ok) {
          const delivery = this.newDelivery(request, prepared.upstreamRequest);
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
      const refusal = await this.commit(deliveries);
      if (refusal) return this.failed(request, refusal);
      return {
        ok: true,
        status: 202,
        body: { accepted: deliveries.length, rejected, ...boundedResults(results) },
        requestId: request.requestId,
        attempts: 0,
      };
    };
    return this.idempotent({ ...request, operationId: `${request.operationId}#batch`, input: request.items }, run);
  }

  async get(id: string, clientId: string): Promise<DeliveryView | undefined> {
    const record = await this.parts.store.get(id, clientId);
    return record ? view(record) : undefined;
  }

  async list(
    clientId: string,
    options: { status?: DeliveryStatus; limit: number; cursor?: string },
  ): Promise<{ items: DeliveryView[]; nextCursor?: string }> {
    const page: DeliveryPage = await this.parts.store.list(clientId, options);
    return { items: page.items.map(view), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  }

  async retry(id: string, clientId: string): Promise<DeliveryView | undefined> {
    const record = await this.parts.store.retry(id, clientId, Date.now());
    if (record) this.parts.worker.wake();
    return record ? view(record) : undefined;
  }

  discard(id: string, clientId: string): Promise<'discarded' | 'not-found' | 'busy'> {
    return this.parts.store.discard(id, clientId);
  }

  private newDelivery(request: AcceptRequest, upstreamRequest: NewDelivery['request']): NewDelivery {
    return {
      // Time-ordered (UUIDv7): a deep queue's id index grows at its end instead of being written all over.
      id: timeOrderedUuid(),
      clientId: request.clientId,
      pluginId: request.pluginId,
      operationId: request.operationId,
      requestId: request.requestId,
      request: upstreamRequest,
    };
  }

  /** Commits, or says why not (full queue, unwritable store): never a 202 without the deliveries committed. */
  private async commit(deliveries: readonly NewDelivery[]): Promise<OperationFailure | undefined> {
    const { store, config, worker, logger } = this.parts;
    // Larger than the client's whole share of the queue, it could never be accepted: a 400 to split it, not a 429 to wait.
    const share = Math.min(config.maxQueued, config.maxQueuedPerClient);
    if (deliveries.length > share) {
      const message = `holds ${deliveries.length} valid items, more than this gateway queues for one client (${share}: DELIVERY_MAX_QUEUED_PER_CLIENT and DELIVERY_MAX_QUEUED); send them in smaller batches`;
      return invalidInput([{ pointer: '', message }]);
    }
    try {
      // One acceptance is one client's: its count is read beside the total (one round trip's wait on Redis, not two).
      const clientId = deliveries[0]?.clientId;
      const [pending, clientPending] = await Promise.all([store.countPending(), clientId === undefined ? 0 : store.countPending(clientId)]);
      if (pending + deliveries.length > config.maxQueued) {
        return unavailable(
          `The delivery queue is full (${pending} pending, DELIVERY_MAX_QUEUED ${config.maxQueued}); nothing was queued. Retry later.`,
        );
      }
      // Checked after the global cap, which says the more useful thing when both apply.
      if (clientPending + deliveries.length > config.maxQueuedPerClient) {
        return tooManyPending(
          `This client has ${clientPending} deliveries pending and may have at most ${config.maxQueuedPerClient} ` +
            `(DELIVERY_MAX_QUEUED_PER_CLIENT); ${deliveries.length === 1 ? 'the event was not' : `none of the ${deliveries.length} events was`} queued. ` +
            'Retry once some are delivered (GET /v1/deliveries?status=queued lists them).',
        );
      }
      await store.enqueue(deliveries, Date.now());
    } catch (error) {
      if (!(error instanceof DeliveryStoreUnavailableError)) throw error;
      logger.error({ err: error }, 'delivery store refused a write');
      return unavailable('The delivery queue cannot take writes right now; nothing was queued. Retry later.');
    }
    worker.wake();
    return undefined;
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
    status: record.status,
    attempts: record.attempts,
    createdAt: iso(record.createdAt),
    updatedAt: iso(record.updatedAt),
    ...(record.nextAttemptAt !== undefined ? { nextAttemptAt: iso(record.nextAttemptAt) } : {}),
    ...(record.deliveredAt !== undefined ? { deliveredAt: iso(record.deliveredAt) } : {}),
    ...(record.lastError ? { lastError: record.lastError } : {}),
  };
}
