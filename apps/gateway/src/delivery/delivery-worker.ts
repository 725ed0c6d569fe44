import type { Logger } from 'pino';
import type { DeliveryConfig } from '../config.ts';
import type { DeliveryAttempt, Executor } from '../executor.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { DeliveryRecord, DeliveryStore } from './delivery-store.ts';
import { noteOnSpan, traceDeliveryAttempt } from '../observability/tracing.ts';

/** A paused plugin's next probe waits 1 s, then twice as long each time the key is refused again, up to this. */
const MAX_PAUSE_MS = 30_000;
/** Polling bound while nothing is due: a new delivery wakes the worker at once; this covers other instances' writes. */
const IDLE_POLL_MS = 1000;
const PRUNE_EVERY_MS = 3_600_000;

interface Pause {
  until: number;
  refusals: number;
  probing: boolean;
}

export interface DeliveryWorkerParts {
  readonly store: DeliveryStore;
  readonly executor: Pick<Executor, 'deliverOnce'>;
  readonly config: DeliveryConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly random?: () => number;
}

/**
 * Delivers queued requests oldest first, `concurrency` at a time, each paced by the upstream's outbound budget.
 * Transient failures are retried with exponential backoff and jitter (honouring Retry-After) until the retry
 * window closes; an upstream refusing the gateway's own key pauses that plugin's deliveries (nothing is
 * dead-lettered for it) and probes with one delivery at a time until it is accepted again.
 */
export class DeliveryWorker {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly pauses = new Map<string, Pause>();
  private readonly abort = new AbortController();
  private stopping = false;
  private wakeUp: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private readonly random: () => number;

  constructor(private readonly parts: DeliveryWorkerParts) {
    this.random = parts.random ?? Math.random;
  }

  /** Plugins whose deliveries are paused now (their upstream refuses the gateway's key). */
  get pausedPlugins(): string[] {
    return [...this.pauses.keys()];
  }

  async start(): Promise<void> {
    const { store, logger, config } = this.parts;
    const recovered = await store.recoverInterrupted(Date.now());
    if (recovered > 0)
      logger.warn({ deliveries: recovered }, 'deliveries interrupted by the previous stop are queued again (at-least-once)');
    await this.prune();
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
    const { store, config, logger } = this.parts;
    while (!this.stopping) {
      try {
        const claimed = await this.claim(config.concurrency - this.inFlight.size);
        for (const delivery of claimed) this.track(traceDeliveryAttempt(delivery, () => this.deliver(delivery)));
        if (claimed.length > 0 && this.inFlight.size < config.concurrency) continue;
        const due = this.inFlight.size < config.concurrency ? await store.nextDueAt() : undefined;
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
    const { store } = this.parts;
    const claimed: DeliveryRecord[] = [];
    for (const [pluginId, pause] of this.pauses) {
      if (pause.probing || pause.until > now || claimed.length >= free) continue;
      const probe = await store.claimDue({ now, limit: 1, onlyPlugin: pluginId });
      if (probe.length > 0) pause.probing = true;
      claimed.push(...probe);
    }
    if (claimed.length < free)
      claimed.push(...(await store.claimDue({ now, limit: free - claimed.length, excludePlugins: [...this.pauses.keys()] })));
    return claimed;
  }

  private nextProbeInMs(): number {
    const now = Date.now();
    let soonest = IDLE_POLL_MS;
    for (const pause of this.pauses.values()) if (!pause.probing) soonest = Math.min(soonest, pause.until - now);
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
    try {
      attempt = await executor.deliverOnce(delivery, this.abort.signal);
    } catch (error) {
      logger.error({ ...log, err: error }, 'delivery attempt failed inside the gateway');
      attempt = {
        outcome: 'retry',
        error: { type: 'internal-error', detail: 'The gateway failed while sending this delivery; it will try again.' },
      };
    }
    const now = Date.now();
    noteOnSpan({ attributes: { 'gateway.delivery.outcome': attempt.outcome } });
    try {
      if (attempt.outcome !== 'interrupted') metrics.deliveryAttempts.inc({ plugin, result: attempt.outcome });
      switch (attempt.outcome) {
        case 'delivered':
          this.resume(plugin);
          await store.markDelivered(delivery.id, now);
          metrics.deliveries.inc({ plugin, outcome: 'delivered' });
          metrics.deliveryLatency.observe({ plugin }, (now - delivery.createdAt) / 1000);
          logger.info({ ...log, upstreamStatus: attempt.status }, 'delivered');
          return;
        case 'rejected':
          this.resume(plugin);
          await store.markDead(delivery.id, attempt.error, now);
          metrics.deliveries.inc({ plugin, outcome: 'dead' });
          logger.warn(
            { ...log, upstreamStatus: attempt.error.status, failure: attempt.error.type },
            'delivery rejected by the upstream: dead',
          );
          return;
        case 'refused':
          this.pause(plugin, now, attempt.error.status);
          await store.release(delivery.id, now, now);
          return;
        case 'interrupted':
          await store.release(delivery.id, now, now);
          return;
        case 'retry': {
          const pause = this.pauses.get(plugin);
          if (pause) pause.probing = false;
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

  /** Exponential from DELIVERY_RETRY_BASE_MS, capped at DELIVERY_RETRY_MAX_MS, with jitter over its upper half. */
  private backoffMs(attempts: number): number {
    const { retryBaseMs, retryMaxMs } = this.parts.config;
    const ceiling = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(30, attempts - 1));
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  private pause(plugin: string, now: number, status: number | undefined): void {
    const pause = this.pauses.get(plugin) ?? { until: 0, refusals: 0, probing: false };
    pause.refusals += 1;
    pause.probing = false;
    pause.until = now + Math.min(MAX_PAUSE_MS, 1000 * 2 ** Math.min(15, pause.refusals - 1));
    if (!this.pauses.has(plugin)) {
      this.pauses.set(plugin, pause);
      this.parts.metrics.deliveryPaused.set({ plugin }, 1);
      this.parts.logger.warn(
        { plugin, upstreamStatus: status },
        'upstream refused the gateway key: deliveries paused, probing until it is accepted',
      );
    }
  }

  private resume(plugin: string): void {
    if (!this.pauses.delete(plugin)) return;
    this.parts.metrics.deliveryPaused.set({ plugin }, 0);
    this.parts.logger.info({ plugin }, 'upstream accepts the gateway key again: deliveries resumed');
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
