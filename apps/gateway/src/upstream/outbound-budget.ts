import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
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

/**
 * The fleet's budget, in Redis (rate-limiter-flexible): every instance spends from one counter per upstream, so the
 * sum over instances stays within UPSTREAM_RATE_LIMIT. Windows are one second; `execEvenly` spreads each window's
 * slots over it instead of sending them in a burst. If Redis cannot be reached, each instance falls back to its own
 * in-memory budget of the same rate (the library's insurance limiter): calls keep flowing, each instance within the
 * limit, until Redis is back.
 */
export class RedisOutboundBudget implements OutboundBudget {
  private readonly limiter: RateLimiterRedis;

  constructor(client: Redis, prefix: string, ratePerSecond: number) {
    this.limiter = new RateLimiterRedis({
      storeClient: client,
      keyPrefix: `${prefix}outbound`,
      points: ratePerSecond,
      duration: 1,
      execEvenly: true,
      insuranceLimiter: new RateLimiterMemory({ points: ratePerSecond, duration: 1, execEvenly: true }),
    });
  }

  async acquire(pluginId: string, maxWaitMs: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = performance.now() + maxWaitMs;
    for (;;) {
      if (signal?.aborted) return false;
      try {
        await this.limiter.consume(pluginId);
        return !signal?.aborted;
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        const wait = Math.max(1, rejection.msBeforeNext);
        if (performance.now() + wait > deadline) return false;
        await sleep(wait, undefined, signal ? { signal } : {}).catch(() => undefined);
      }
    }
  }
}
