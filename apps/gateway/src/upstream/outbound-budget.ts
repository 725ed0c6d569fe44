import { setTimeout as sleep } from 'node:timers/promises';
import { OutboundLimiter } from './outbound-limiter.ts';

/**
 * UPSTREAM_RATE_LIMIT: one budget per upstream (plugin), spent by synchronous calls and the delivery worker alike,
 * so that queued deliveries never push an upstream past the rate a synchronous caller would be held to.
 */
export interface OutboundBudget {
  /**
   * Waits for a slot in `pluginId`'s budget and spends it; false (nothing spent) when the slot would come later
   * than `maxWaitMs` from now, or the signal aborts the wait.
   */
  acquire(pluginId: string, maxWaitMs: number, signal?: AbortSignal): Promise<boolean>;
}

/** No limit (UPSTREAM_RATE_LIMIT=0). */
export const UNLIMITED_BUDGET: OutboundBudget = { acquire: async () => true };

/** One process's budget: a GCRA schedule per upstream (a short burst at once, then evenly spaced slots). */
export class LocalOutboundBudget implements OutboundBudget {
  private readonly limiters = new Map<string, OutboundLimiter>();

  constructor(private readonly ratePerSecond: number) {}

  async acquire(pluginId: string, maxWaitMs: number, signal?: AbortSignal): Promise<boolean> {
    let limiter = this.limiters.get(pluginId);
    if (!limiter) {
      limiter = new OutboundLimiter(this.ratePerSecond);
      this.limiters.set(pluginId, limiter);
    }
    const wait = limiter.reserve(maxWaitMs);
    if (wait === undefined) return false;
    if (wait > 0) await sleep(wait, undefined, signal ? { signal } : {}).catch(() => undefined);
    return !signal?.aborted;
  }
}
