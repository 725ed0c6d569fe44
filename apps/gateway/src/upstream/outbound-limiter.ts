/**
 * A per-upstream rate limiter (GCRA): each call reserves the next free slot. A short burst is let through at
 * once; beyond it calls wait for their slot, and a call whose slot lies past its deadline is refused.
 */
export class OutboundLimiter {
  private readonly intervalMs: number;
  private readonly toleranceMs: number;
  private theoreticalArrival = 0;

  constructor(
    ratePerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.intervalMs = 1000 / ratePerSecond;
    const burst = Math.max(1, Math.ceil(ratePerSecond / 10));
    this.toleranceMs = (burst - 1) * this.intervalMs;
  }

  /** Milliseconds to wait before sending, or undefined when that would exceed `maxWaitMs` (nothing reserved). */
  reserve(maxWaitMs: number): number | undefined {
    const now = this.now();
    const arrival = Math.max(this.theoreticalArrival, now);
    const wait = Math.max(0, arrival - this.toleranceMs - now);
    if (wait > maxWaitMs) return undefined;
    this.theoreticalArrival = arrival + this.intervalMs;
    return wait;
  }
}
