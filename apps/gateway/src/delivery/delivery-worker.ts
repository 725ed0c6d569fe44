import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { DeliveryConfig } from '../config.ts';
import type { DeliveryAttempt, Executor } from '../executor.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { UpstreamHealth } from '../upstream/upstream-health.ts';
import { AdaptiveConcurrency } from './adaptive-concurrency.ts';
import { noteOnSpan, type TraceScope, traceDeliveryAttempt, traceLogFields } from '../observability/tracing.ts';
import type { DeliveryHealth } from './delivery-health.ts';
import { type ClaimedDelivery, type DeliveryStore, DeliveryStoreUnavailableError, type Settlement } from './delivery-store.ts';
import { PayloadCodec, PayloadUnreadableError } from './payload-codec.ts';

/** Polling bound while nothing is due: a new delivery wakes the worker at once; this covers other instances' writes. */
const IDLE_POLL_MS = 1000;
const PRUNE_EVERY_MS = 3_600_000;
/** Nothing pending for this long: the store may compact (SQLite truncates its WAL). */
const IDLE_COMPACT_MS = 30_000;

/** An outcome the store refused to record (a full disk): kept here and written before anything else is sent. */
interface Unsettled {
  readonly settlement: Settlement;
  readonly at: number;
}

export interface DeliveryWorkerParts {
  readonly store: DeliveryStore;
  readonly executor: Pick<Executor, 'deliverOnce'>;
  readonly config: DeliveryConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Whether the store takes writes (a full disk): every write the worker makes reports here. */
  readonly storeHealth: DeliveryHealth;
  /** The upstreams' breakers: a plugin whose breaker is open gets one delivery at a time, as its probe. */
  readonly upstreamHealth: UpstreamHealth;
  /** UPSTREAM_RATE_LIMIT: with the upstream's latency, how many deliveries in flight keep its budget busy. */
  readonly outboundRateLimit: number;
  readonly codec?: PayloadCodec;
  readonly random?: () => number;
}

/**
 * Delivers queued requests oldest first, as many at a time as AdaptiveConcurrency allows (the upstream's budget
 * times its latency), each paced by the upstream's outbound budget.
 * Transient failures are retried with exponential backoff and jitter (honouring Retry-After) until the retry
 * window closes. While an upstream's breaker is open (it cannot be reached, or it refuses the gateway's own key)
 * its deliveries wait unattempted, nothing is dead-lettered for it, and one delivery at a time goes as the probe.
 * Every outcome is written before anything new is claimed; one the store refuses (a full disk) is kept until it is.
 */
export class DeliveryWorker {
  private readonly inFlight = new Set<Promise<void>>();
  /** Ids of claimed deliveries that are their upstream's probe. */
  private readonly probes = new Set<string>();
  private readonly abort = new AbortController();
  private stopping = false;
  private wakeUp: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private readonly random: () => number;
  private readonly codec: PayloadCodec;
  private readonly concurrency: AdaptiveConcurrency;
  /** Outcomes not yet written (at most one per attempt in flight: nothing new is claimed while any waits). */
  private readonly unsettled = new Map<string, Unsettled>();
  /** Deliveries left `delivering` by the previous process are queued again before anything is claimed. */
  private recovered = false;
  /** Something was settled since the last compaction; and when the queue last had work. */
  private settledSinceCompact = false;
  private busyAt = Date.now();
  private compactedIdle = true;
  private probedAt = 0;

  constructor(private readonly parts: DeliveryWorkerParts) {
    this.random = parts.random ?? Math.random;
    this.codec = parts.codec ?? new PayloadCodec(parts.config.sealKey);
    this.concurrency = new AdaptiveConcurrency({
      initial: parts.config.concurrency,
      max: parts.config.maxConcurrency,
      ratePerSecond: parts.outboundRateLimit,
    });
    // Every delivery in flight waits on the stop signal (for its budget slot); up to DELIVERY_MAX_CONCURRENCY of them.
    setMaxListeners(parts.config.maxConcurrency + 10, this.abort.signal);
  }

  /** Outcomes waiting to be written because the store refused them (a full disk). */
  get unsettledCount(): number {
    return this.unsettled.size;
  }

  /** Plugins whose deliveries are paused now (their upstream's breaker is open). */
  get pausedPlugins(): string[] {
    return [...this.parts.upstreamHealth.openBreakers.keys()];
  }

  async start(): Promise<void> {
    const { config } = this.parts;
    // On a store that refuses writes (a full disk) the gateway still starts: the loop recovers once it can.
    await this.recover();
    await this.prune();
    this.parts.metrics.deliveryConcurrency.set(this.concurrency.limit);
    this.pruneTimer = setInterval(() => void this.prune(), Math.min(PRUNE_EVERY_MS, config.retentionMs, config.deadRetentionMs));
    this.pruneTimer.unref();
    this.loopDone = this.loop();
  }

  /** A new delivery was queued: look for due work now rather than at the next poll. */
  wake(): void {
    this.wakeUp?.();
  }

  /** Takes no more work; attempts already sent get up to `timeoutMs` to finish; the rest stays queued for the next start. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    clearInterval(this.pruneTimer);
    this.abort.abort();
    this.wake();
    await this.loopDone;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all(this.inFlight), timedOut]);
    clearTimeout(timer);
    // A last chance for outcomes the store refused; what still fails is re-sent after the next start (logged).
    await this.flushUnsettled();
    if (this.unsettled.size > 0)
      this.parts.logger.error(
        { deliveries: this.unsettled.size },
        'outcomes of finished deliveries could not be written before the stop: they are sent again after the next start',
      );
  }

  private async recover(): Promise<boolean> {
    if (this.recovered) return true;
    const { store, logger, storeHealth: health } = this.parts;
    try {
      const recovered = await store.recoverInterrupted(Date.now());
      this.recovered = true;
      health.wrote();
      if (recovered > 0)
        logger.warn({ deliveries: recovered }, 'deliveries interrupted by the previous stop are queued again (at-least-once)');
    } catch (error) {
      if (!(error instanceof DeliveryStoreUnavailableError)) throw error;
      health.failed(error);
      logger.error(
        { err: error },
        'interrupted deliveries cannot be queued again yet (the store refuses writes); nothing is sent until it can',
      );
    }
    return this.recovered;
  }

  /** Writes outcomes the store refused before; true when none is left. */
  private async flushUnsettled(): Promise<boolean> {
    const { store, logger, storeHealth: health } = this.parts;
    for (const [id, { settlement, at }] of this.unsettled) {
      try {
        await store.settle(id, settlement, at);
        this.unsettled.delete(id);
        health.wrote();
      } catch (error) {
        if (error instanceof DeliveryStoreUnavailableError) {
          health.failed(error);
          return false;
        }
        // Not the store refusing: the record stays `delivering` and the next start queues it again.
        this.unsettled.delete(id);
        logger.error({ deliveryId: id, err: error }, 'delivery outcome cannot be written');
      }
    }
    return true;
  }

  private async loop(): Promise<void> {
    const { store, logger, storeHealth: health } = this.parts;
    while (!this.stopping) {
      try {
        // Nothing new is sent while an outcome or the start's recovery waits to be written: what PX answered
        // 2xx is recorded before anything else goes out, so a restart cannot send it again.
        if (!(await this.recover()) || !(await this.flushUnsettled())) {
          await this.probe();
          await this.idle(IDLE_POLL_MS);
          continue;
        }
        const limit = this.concurrency.limit;
        const claimed = await this.claim(limit - this.inFlight.size);
        if (claimed.length > 0) {
          health.wrote();
          this.busyAt = Date.now();
          this.compactedIdle = false;
        }
        for (const delivery of claimed) this.track(traceDeliveryAttempt(delivery, (scope) => this.deliver(delivery, scope)));
        if (claimed.length > 0 && this.inFlight.size < limit) continue;
        const due = this.inFlight.size < limit ? await store.nextDueAt() : undefined;
        if (this.inFlight.size === 0) await this.compact(due);
        await this.probe();
        let wait = due === undefined ? IDLE_POLL_MS : due - Date.now();
        // Due work that was not claimed belongs to a paused plugin: wait for its next probe.
        if (wait <= 0 && claimed.length === 0) wait = this.nextProbeInMs();
        await this.idle(Math.min(IDLE_POLL_MS, Math.max(0, wait)));
      } catch (error) {
        // The store failed (disk, lock): nothing is lost, the rows stay as they were; try again shortly.
        if (error instanceof DeliveryStoreUnavailableError) health.failed(error);
        logger.error({ err: error }, 'delivery worker could not read the queue');
        await this.idle(IDLE_POLL_MS);
      }
    }
  }

  /** While writes are refused, asks the store (cheaply) whether they are taken again. */
  private async probe(): Promise<void> {
    const { store, storeHealth: health } = this.parts;
    if ((health.condition === 'ok' && store.condition?.() !== 'full') || !store.probeWrite) return;
    if (Date.now() - this.probedAt < IDLE_POLL_MS) return;
    this.probedAt = Date.now();
    try {
      await store.probeWrite();
      health.wrote();
    } catch (error) {
      if (error instanceof DeliveryStoreUnavailableError) health.failed(error);
    }
  }

  /** A checkpoint after a drain; a truncation once the queue has been idle a while. */
  private async compact(due: number | undefined): Promise<void> {
    const { store } = this.parts;
    if (!store.compact) return;
    if (this.settledSinceCompact && due === undefined) {
      this.settledSinceCompact = false;
      await store.compact(false);
    } else if (!this.compactedIdle && due === undefined && Date.now() - this.busyAt > IDLE_COMPACT_MS) {
      this.compactedIdle = true;
      await store.compact(true);
    }
  }

  private async claim(free: number): Promise<ClaimedDelivery[]> {
    if (free <= 0) return [];
    const now = Date.now();
    const { store, upstreamHealth: health } = this.parts;
    const claimed: ClaimedDelivery[] = [];
    const held = health.held();
    for (const [pluginId, probeInMs] of held) {
      if (probeInMs > 0 || claimed.length >= free || !health.admit(pluginId, 'delivery').admitted) continue;
      let probe: ClaimedDelivery[] = [];
      try {
        probe = await store.claim({ now, limit: 1, onlyPlugin: pluginId });
      } finally {
        // No probe claimed (none due, or the store failed): the next pass may probe.
        if (probe[0]) this.probes.add(probe[0].id);
        else health.release(pluginId);
      }
      claimed.push(...probe);
    }
    if (claimed.length < free)
      claimed.push(...(await store.claim({ now, limit: free - claimed.length, excludePlugins: [...held.keys()] })));
    return claimed;
  }

  private nextProbeInMs(): number {
    let soonest = IDLE_POLL_MS;
    for (const probeInMs of this.parts.upstreamHealth.held().values()) if (probeInMs > 0) soonest = Math.min(soonest, probeInMs);
    return Math.max(10, soonest);
  }

  private idle(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => {
      this.inFlight.delete(work);
      this.wake();
    });
  }

  private async deliver(delivery: ClaimedDelivery, scope: TraceScope | undefined): Promise<void> {
    const { executor, logger, metrics, config } = this.parts;
    const plugin = delivery.pluginId;
    const log = {
      deliveryId: delivery.id,
      requestId: delivery.requestId,
      plugin,
      operation: delivery.operationId,
      attempt: delivery.attempts,
      ...traceLogFields(scope),
    };
    let attempt: DeliveryAttempt;
    const probe = this.probes.delete(delivery.id);
    try {
      const request = this.codec.decode(delivery.payload, delivery);
      attempt = await executor.deliverOnce({ ...delivery, request, trace: scope }, this.abort.signal, probe);
    } catch (error) {
      // Not sent (or its answer is unknown to the breaker): the next delivery may probe.
      if (probe) this.parts.upstreamHealth.release(plugin);
      if (error instanceof PayloadUnreadableError) {
        // Never sent: what is stored is not what was accepted.
        logger.error({ ...log, failure: 'tampered' }, 'stored delivery request fails its check: dead, not sent');
        attempt = {
          outcome: 'rejected',
          error: { type: 'tampered', detail: `The stored request cannot be trusted (${error.message}); it was not sent.` },
        };
      } else {
        logger.error({ ...log, err: error }, 'delivery attempt failed inside the gateway');
        attempt = {
          outcome: 'retry',
          error: { type: 'internal-error', detail: 'The gateway failed while sending this delivery; it will try again.' },
        };
      }
    }
    this.adapt(attempt);
    const now = Date.now();
    noteOnSpan(scope, { attributes: { 'gateway.delivery.outcome': attempt.outcome } });
    if (attempt.outcome !== 'interrupted' && attempt.outcome !== 'held') metrics.deliveryAttempts.inc({ plugin, result: attempt.outcome });
    switch (attempt.outcome) {
      case 'delivered':
        metrics.deliveries.inc({ plugin, outcome: 'delivered' });
        metrics.deliveryLatency.observe({ plugin }, (now - delivery.createdAt) / 1000);
        logger.info({ ...log, upstreamStatus: attempt.status }, 'delivered');
        return this.record(delivery.id, { outcome: 'delivered' }, now, log);
      case 'rejected':
        metrics.deliveries.inc({ plugin, outcome: 'dead' });
        logger.warn({ ...log, upstreamStatus: attempt.error.status, failure: attempt.error.type }, 'delivery rejected: dead');
        return this.record(delivery.id, { outcome: 'dead', error: attempt.error }, now, log);
      case 'refused':
      case 'held':
      case 'interrupted':
        return this.record(delivery.id, { outcome: 'release', nextAttemptAt: now }, now, log);
      case 'retry': {
        const delay = attempt.retryAfterMs ?? this.backoffMs(delivery.attempts);
        if (now + delay > delivery.windowStartedAt + config.retryWindowMs) {
          const detail = `Not delivered within DELIVERY_RETRY_WINDOW (${delivery.attempts} attempts). Last failure: ${attempt.error.detail}`;
          metrics.deliveries.inc({ plugin, outcome: 'dead' });
          logger.warn({ ...log, failure: attempt.error.type }, 'delivery retry window exhausted: dead');
          return this.record(
            delivery.id,
            { outcome: 'dead', error: { ...attempt.error, type: 'retry-window-exhausted', detail } },
            now,
            log,
          );
        }
        logger.info(
          { ...log, upstreamStatus: attempt.error.status, failure: attempt.error.type, retryInMs: delay },
          'delivery will be retried',
        );
        return this.record(delivery.id, { outcome: 'retry', nextAttemptAt: now + delay, error: attempt.error }, now, log);
      }
    }
  }

  /** Writes an outcome; one the store refuses is kept and written before anything else is claimed. */
  private async record(id: string, settlement: Settlement, now: number, log: object): Promise<void> {
    const { store, logger, storeHealth: health } = this.parts;
    try {
      await store.settle(id, settlement, now);
      this.settledSinceCompact = true;
      health.wrote();
    } catch (error) {
      if (error instanceof DeliveryStoreUnavailableError) health.failed(error);
      this.unsettled.set(id, { settlement, at: now });
      logger.error(
        { ...log, err: error, outcome: settlement.outcome },
        'delivery outcome could not be written: kept, and written before anything else is sent',
      );
    }
  }

  /** What an attempt says about how many deliveries the upstream can take at once. */
  private adapt(attempt: DeliveryAttempt): void {
    if (attempt.outcome === 'retry') {
      const { status, type } = attempt.error;
      if (status === 429 || status === 503 || type === 'upstream-timeout') this.concurrency.overloadedAnswer();
      else if (status !== undefined && attempt.upstreamMs !== undefined) this.concurrency.answered(attempt.upstreamMs);
    } else if ((attempt.outcome === 'delivered' || attempt.outcome === 'rejected') && attempt.upstreamMs !== undefined) {
      this.concurrency.answered(attempt.upstreamMs);
    } else return;
    this.parts.metrics.deliveryConcurrency.set(this.concurrency.limit);
  }

  /** Exponential from DELIVERY_RETRY_BASE_MS, capped at DELIVERY_RETRY_MAX_MS, with jitter over its upper half. */
  private backoffMs(attempts: number): number {
    const { retryBaseMs, retryMaxMs } = this.parts.config;
    const ceiling = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(30, attempts - 1));
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  private async prune(): Promise<void> {
    try {
      const now = Date.now();
      const { retentionMs, deadRetentionMs } = this.parts.config;
      const pruned = await this.parts.store.prune({ deliveredBefore: now - retentionMs, deadBefore: now - deadRetentionMs });
      if (pruned > 0)
        this.parts.logger.info(
          { deliveries: pruned },
          'delivered and dead records past DELIVERY_RETENTION / DELIVERY_DEAD_RETENTION pruned',
        );
    } catch (error) {
      this.parts.logger.error({ err: error }, 'old delivery records could not be pruned');
    }
  }
}
