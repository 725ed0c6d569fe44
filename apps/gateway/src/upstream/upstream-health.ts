/**
 * Why an upstream's breaker is open. `unreachable`: consecutive connection failures (refused, reset, timeout);
 * `key-refused`: it answered 401/403 (or 404, 405, 406, 415) to the gateway's own key or address.
 */
export type BreakerReason = 'unreachable' | 'key-refused';

/** What one exchange with the upstream said about its health. */
export type HealthSignal = 'answered' | 'connection-failed' | 'key-refused';

export type Admission =
  | { readonly admitted: true; readonly probe: boolean }
  | { readonly admitted: false; readonly reason: BreakerReason; readonly retryInMs: number };

export interface UpstreamHealthOptions {
  /** Consecutive connection failures that open the breaker (UPSTREAM_BREAKER_FAILURES). */
  readonly failureThreshold: number;
  /** The longest wait between probes of an unreachable upstream (UPSTREAM_BREAKER_MAX_MS). */
  readonly maxProbeIntervalMs: number;
  /** How long a probe may stay out before another one is let through (it was lost or is stuck). */
  readonly probeLeaseMs: number;
  /** Told when an upstream's breaker opens (with its reason) or closes (undefined). */
  readonly onChange?: (upstream: string, reason: BreakerReason | undefined) => void;
  readonly now?: () => number;
}

/** The first probe of an open breaker waits this long; then twice as long each time it fails, up to the cap. */
const FIRST_PROBE_MS = 1000;
/** A refused key is probed at this interval, so that deliveries resume within about a second of PX accepting it. */
const KEY_PROBE_MS = 1000;

interface Breaker {
  reason: BreakerReason;
  /** Probes that failed since it opened (the exponent of the wait). */
  failedProbes: number;
  /** No probe before this (epoch ms). */
  until: number;
  /** A probe is out until this (epoch ms); 0 when none is. */
  probeLeaseUntil: number;
}

/**
 * One health view per upstream, shared by synchronous calls and the delivery worker of this process: a circuit
 * breaker that opens after consecutive connection failures (or a refused key), lets one probe through at a time
 * after an exponential wait, and closes on the first answer that is not a refusal. While it is open nothing but
 * the probe is sent: synchronous calls are answered 503 at once and queued deliveries wait, unattempted.
 * A refused key blocks deliveries only: a synchronous call is still sent (PX's own answer names the problem,
 * and its success closes the breaker at once).
 */
export class UpstreamHealth {
  private readonly breakers = new Map<string, Breaker>();
  private readonly failures = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: UpstreamHealthOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * May a call go to `upstream` now? `probe` when it is the one probe of an open breaker: its outcome must be
   * reported with `observe`, or `release` called if it is not sent after all.
   */
  admit(upstream: string, caller: 'sync' | 'delivery'): Admission {
    const breaker = this.breakers.get(upstream);
    if (!breaker || (breaker.reason === 'key-refused' && caller === 'sync')) return { admitted: true, probe: false };
    const now = this.now();
    if (breaker.until > now) return { admitted: false, reason: breaker.reason, retryInMs: breaker.until - now };
    if (breaker.probeLeaseUntil > now) return { admitted: false, reason: breaker.reason, retryInMs: FIRST_PROBE_MS };
    breaker.probeLeaseUntil = now + this.options.probeLeaseMs;
    return { admitted: true, probe: true };
  }

  /** A probe admitted by `admit` was not sent after all: the next caller may probe. */
  release(upstream: string): void {
    const breaker = this.breakers.get(upstream);
    if (breaker) breaker.probeLeaseUntil = 0;
  }

  observe(upstream: string, signal: HealthSignal): void {
    const breaker = this.breakers.get(upstream);
    if (signal === 'answered') {
      this.failures.delete(upstream);
      if (breaker) {
        this.breakers.delete(upstream);
        this.options.onChange?.(upstream, undefined);
      }
      return;
    }
    if (signal === 'key-refused') {
      this.failures.delete(upstream);
      this.open(upstream, 'key-refused', false);
      return;
    }
    if (breaker && breaker.probeLeaseUntil > 0) {
      this.open(upstream, 'unreachable', true);
      return;
    }
    // Calls sent before it opened still fail afterwards: only a probe's failure makes the wait longer.
    if (breaker?.reason === 'unreachable') return;
    const failures = (this.failures.get(upstream) ?? 0) + 1;
    if (failures < this.options.failureThreshold) {
      this.failures.set(upstream, failures);
      return;
    }
    this.failures.delete(upstream);
    this.open(upstream, 'unreachable', false);
  }

  /**
   * Upstreams whose deliveries wait now, each with the milliseconds until a probe may go (0: now), for the
   * delivery worker's claims.
   */
  held(): Map<string, number> {
    const now = this.now();
    const held = new Map<string, number>();
    for (const [upstream, breaker] of this.breakers) {
      const probeFrom = breaker.probeLeaseUntil > now ? breaker.probeLeaseUntil : breaker.until;
      held.set(upstream, Math.max(0, probeFrom - now));
    }
    return held;
  }

  /** Upstreams whose breaker is open now, and why. */
  get openBreakers(): ReadonlyMap<string, BreakerReason> {
    return new Map([...this.breakers].map(([upstream, breaker]) => [upstream, breaker.reason]));
  }

  private open(upstream: string, reason: BreakerReason, probeFailed: boolean): void {
    const breaker = this.breakers.get(upstream);
    const next = breaker ?? { reason, failedProbes: 0, until: 0, probeLeaseUntil: 0 };
    if (next.reason !== reason) next.failedProbes = 0;
    else if (probeFailed) next.failedProbes += 1;
    next.reason = reason;
    next.until =
      this.now() +
      (reason === 'key-refused'
        ? KEY_PROBE_MS
        : Math.min(this.options.maxProbeIntervalMs, FIRST_PROBE_MS * 2 ** Math.min(20, next.failedProbes)));
    next.probeLeaseUntil = 0;
    this.breakers.set(upstream, next);
    if (breaker?.reason !== reason) this.options.onChange?.(upstream, reason);
  }
}
