import { OutboundLimiter } from './outbound-limiter.ts';

/**
 * UPSTREAM_RATE_LIMIT: one budget per upstream (plugin), spent by synchronous calls and the delivery worker alike,
 * so that queued deliveries never push an upstream past the rate a synchronous caller would be held to.
 */
export class OutboundBudget {
  private readonly limiters = new Map<string, OutboundLimiter>();

  constructor(private readonly ratePerSecond: number) {}

  get enabled(): boolean {
    return this.ratePerSecond > 0;
  }

  /** Milliseconds to wait before sending to `pluginId`'s upstream, or undefined when that would exceed `maxWaitMs`. */
  reserve(pluginId: string, maxWaitMs: number): number | undefined {
    if (!this.enabled) return 0;
    let limiter = this.limiters.get(pluginId);
    if (!limiter) {
      limiter = new OutboundLimiter(this.ratePerSecond);
      this.limiters.set(pluginId, limiter);
    }
    return limiter.reserve(maxWaitMs);
  }
}
