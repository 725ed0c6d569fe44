export interface AdaptiveConcurrencyOptions {
  /** DELIVERY_CONCURRENCY: in flight at start, before any latency is known; also the least the ceiling falls to. */
  readonly initial: number;
  /** DELIVERY_MAX_CONCURRENCY. */
  readonly max: number;
  /** UPSTREAM_RATE_LIMIT: the outbound budget per second; 0 (no budget) leaves `max` as the only ceiling. */
  readonly ratePerSecond: number;
  readonly now?: () => number;
}

/** Weight of the newest answer in the latency average. */
const LATENCY_WEIGHT = 0.2;

/**
 * How many deliveries may be in flight: as many as the outbound budget can keep busy at the upstream's observed
 * latency (`budget × latency`, Little's law), within [1, max]. Until the upstream first signals overload the
 * limit follows that ceiling (the budget still paces every send); a 429, 503 or timeout halves it, at most once
 * per round trip, and it then grows back by one per round trip until it reaches the ceiling again (AIMD).
 */
export class AdaptiveConcurrency {
  private value: number;
  private latencyMs: number | undefined;
  private overloaded = false;
  private lastDecreaseAt = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;

  constructor(private readonly options: AdaptiveConcurrencyOptions) {
    this.value = Math.min(options.initial, options.max);
    this.now = options.now ?? (() => performance.now());
  }

  get limit(): number {
    return Math.max(1, Math.floor(this.value));
  }

  /** An answer that does not say the upstream is overloaded, `latencyMs` after it was sent. */
  answered(latencyMs: number): void {
    this.latencyMs = this.latencyMs === undefined ? latencyMs : this.latencyMs + LATENCY_WEIGHT * (latencyMs - this.latencyMs);
    const ceiling = this.ceiling();
    if (this.overloaded) this.value = Math.min(ceiling, this.value + 1 / this.value);
    else this.value = ceiling;
    if (this.value >= ceiling) this.overloaded = false;
  }

  /** A 429, 503 or timeout: the upstream is overloaded. */
  overloadedAnswer(): void {
    const now = this.now();
    this.overloaded = true;
    // Answers from one round trip report the same overload: halve once for them.
    if (now - this.lastDecreaseAt < (this.latencyMs ?? 0)) return;
    this.lastDecreaseAt = now;
    this.value = Math.max(1, this.value / 2);
  }

  private ceiling(): number {
    const { initial, max, ratePerSecond } = this.options;
    if (ratePerSecond <= 0) return max;
    const keptBusy = Math.ceil((ratePerSecond * (this.latencyMs ?? 0)) / 1000);
    return Math.min(max, Math.max(initial, keptBusy));
  }
}
