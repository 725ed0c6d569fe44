import type { Logger } from 'pino';
import type { DeliveryConfig } from '../config.ts';
import type { DeliveryAttempt, Executor } from '../executor.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { UpstreamHealth } from '../upstream/upstream-health.ts';
import { AdaptiveConcurrency } from './adaptive-concurrency.ts';
import type { DeliveryRecord, DeliveryStore } from './delivery-store.ts';

/** Polling bound while nothing is due: a new delivery wakes the worker at once; this covers other instances' writes. */
const IDLE_POLL_MS = 1000;
const PRUNE_EVERY_MS = 3_600_000;

export interface DeliveryWorkerParts {
  readonly store: DeliveryStore;
  readonly executor: Pick<Executor, 'deliverOnce'>;
  readonly config: DeliveryConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The upstreams' breakers: a plugin whose breaker is open gets one delivery at a time, as its probe. */
  readonly health: UpstreamHealth;
  /** UPSTREAM_RATE_LIMIT: with the upstream's latency, how many deliveries in flight keep its budget busy. */
  readonly outboundRateLimit: number;
  readonly random?: () => number;
}

/**
 * Delivers queued requests oldest first, as many at a time as AdaptiveConcurrency allows (the upstream's budget
 * times its latency), each paced by the upstream's outbound budget.
 * Transient failures are retried with exponential backoff and jitter (honouring Retry-After) until the retry
 * window closes. While an upstream's breaker is open (it cannot be reached, or it refuses the gateway's own key)
 * its deliveries wait unattempted, nothing is dead-lettered for it, and one delivery at a time goes as the probe.
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
  private readonly concurrency: AdaptiveConcurrency;

  constructor(private readonly parts: DeliveryWorkerParts) {
    this.random = parts.random ?? Math.random;
    this.concurrency = new AdaptiveConcurrency({
      initial: parts.config.concurrency,
      max: parts.config.maxConcurrency,
      ratePerSecond: parts.outboundRateLimit,
    });
  }

  /** Plugins whose deliveries are paused now (their upstream's breaker is open). */
  get pausedPlugins(): string[] {
    return [...this.parts.health.openBreakers.keys()];
  }

  async start(): Promise<void> {
    const { store, logger, config } = this.parts;
    const recovered = await store.recoverInterrupted(Date.now());
    if (recovered > 0)
      logger.warn({ deliveries: recovered }, 'deliveries interrupted by the previous stop are queued again (at-least-once)');
    await this.prune();
    this.parts.metrics.deliveryConcurrency.set(this.concurrency.limit);
    this.pruneTimer = setInterval(() => void this.prune(), Math.min(PRUNE_EVERY_MS, config.retentionMs));
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
  }

  private async loop(): Promise<void> {
    const { store, logger } = this.parts;
    while (!this.stopping) {
      try {
        const limit = this.concurrency.limit;
        const claimed = await this.claim(limit - this.inFlight.size);
        for (const delivery of claimed) this.track(this.deliver(delivery));
        if (claimed.length > 0 && this.inFlight.size < limit) continue;
        const due = this.inFlight.size < limit ? await store.nextDueAt() : undefined;
        let wait = due === undefined ? IDLE_POLL_MS : due - Date.now();
        // Due work that was not claimed belongs to a paused plugin: wait for its next probe.
        if (wait <= 0 && claimed.length === 0) wait = this.nextProbeInMs();
        await this.idle(Math.min(IDLE_POLL_MS, Math.max(0, wait)));
      } catch (error) {
        // The store failed (disk, lock): nothing is lost, the rows stay as they were; try again shortly.
        logger.error({ err: error }, 'delivery worker could not read the queue');
        await this.idle(IDLE_POLL_MS);
      }
    }
  }

  private async claim(free: number): Promise<DeliveryRecord[]> {
    if (free <= 0) return [];
    const now = Date.now();
    const { store, health } = this.parts;
    const claimed: DeliveryRecord[] = [];
    const held = health.held();
    for (const [pluginId, probeInMs] of held) {
      if (probeInMs > 0 || claimed.length >= free || !health.admit(pluginId, 'delivery').admitted) continue;
      const probe = await store.claimDue({ now, limit: 1, onlyPlugin: pluginId });
      if (probe[0]) this.probes.add(probe[0].id);
      else health.release(pluginId);
      claimed.push(...probe);
    }
    if (claimed.length < free)
      claimed.push(...(await store.claimDue({ now, limit: free - claimed.length, excludePlugins: [...held.keys()] })));
    return claimed;
  }

  private nextProbeInMs(): number {
    let soonest = IDLE_POLL_MS;
    for (const probeInMs of this.parts.health.held().values()) if (probeInMs > 0) soonest = Math.min(soonest, probeInMs);
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

  private async deliver(delivery: DeliveryRecord): Promise<void> {
    const { store, executor, logger, metrics, config } = this.parts;
    const plugin = delivery.pluginId;
    const log = {
      deliveryId: delivery.id,
      requestId: delivery.requestId,
      plugin,
      operation: delivery.operationId,
      attempt: delivery.attempts,
    };
    let attempt: DeliveryAttempt;
    const probe = this.probes.delete(delivery.id);
    try {
      attempt = await executor.deliverOnce(delivery, this.abort.signal, probe);
    } catch (error) {
      logger.error({ ...log, err: error }, 'delivery attempt failed inside the gateway');
      attempt = {
        outcome: 'retry',
        error: { type: 'internal-error', detail: 'The gateway failed while sending this delivery; it will try again.' },
      };
    }
    this.adapt(attempt);
    const now = Date.now();
    try {
      if (attempt.outcome !== 'interrupted' && attempt.outcome !== 'held')
        metrics.deliveryAttempts.inc({ plugin, result: attempt.outcome });
      switch (attempt.outcome) {
        case 'delivered':
          await store.markDelivered(delivery.id, now);
          metrics.deliveries.inc({ plugin, outcome: 'delivered' });
          metrics.deliveryLatency.observe({ plugin }, (now - delivery.createdAt) / 1000);
          logger.info({ ...log, upstreamStatus: attempt.status }, 'delivered');
          return;
        case 'rejected':
          await store.markDead(delivery.id, attempt.error, now);
          metrics.deliveries.inc({ plugin, outcome: 'dead' });
          logger.warn(
            { ...log, upstreamStatus: attempt.error.status, failure: attempt.error.type },
            'delivery rejected by the upstream: dead',
          );
          return;
        case 'refused':
        case 'held':
        case 'interrupted':
          await store.release(delivery.id, now, now);
          return;
        case 'retry': {
          const delay = attempt.retryAfterMs ?? this.backoffMs(delivery.attempts);
          if (now + delay > delivery.windowStartedAt + config.retryWindowMs) {
            const detail = `Not delivered within DELIVERY_RETRY_WINDOW (${delivery.attempts} attempts). Last failure: ${attempt.error.detail}`;
            await store.markDead(delivery.id, { ...attempt.error, type: 'retry-window-exhausted', detail }, now);
            metrics.deliveries.inc({ plugin, outcome: 'dead' });
            logger.warn({ ...log, failure: attempt.error.type }, 'delivery retry window exhausted: dead');
            return;
          }
          await store.reschedule(delivery.id, now + delay, attempt.error, now);
          logger.info(
            { ...log, upstreamStatus: attempt.error.status, failure: attempt.error.type, retryInMs: delay },
            'delivery will be retried',
          );
          return;
        }
      }
    } catch (error) {
      // The row stays `delivering`; the next start queues it again (at-least-once).
      logger.error({ ...log, err: error }, 'delivery outcome could not be recorded');
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
      const pruned = await this.parts.store.pruneDelivered(Date.now() - this.parts.config.retentionMs);
      if (pruned > 0) this.parts.logger.info({ deliveries: pruned }, 'delivered records past DELIVERY_RETENTION pruned');
    } catch (error) {
      this.parts.logger.error({ err: error }, 'delivered records could not be pruned');
    }
  }
}
