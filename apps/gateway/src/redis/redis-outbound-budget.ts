import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { OutboundBudget } from '../upstream/outbound-budget.ts';

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
