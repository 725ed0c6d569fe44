import { describe, expect, it } from 'vitest';
import { AdaptiveConcurrency } from './adaptive-concurrency.ts';

function limiter(ratePerSecond = 150, max = 256) {
  let now = 0;
  const concurrency = new AdaptiveConcurrency({ initial: 8, max, ratePerSecond, now: () => now });
  return {
    concurrency,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('AdaptiveConcurrency', () => {
  it('starts at DELIVERY_CONCURRENCY and follows budget × latency, within DELIVERY_MAX_CONCURRENCY', () => {
    const { concurrency } = limiter();
    expect(concurrency.limit).toBe(8);
    concurrency.answered(1000);
    expect(concurrency.limit).toBe(150);
    concurrency.answered(3500);
    // The latency is a moving average: one slow answer moves it a fifth of the way.
    expect(concurrency.limit).toBe(225);
    for (let i = 0; i < 10; i += 1) concurrency.answered(3500);
    expect(concurrency.limit).toBe(256);
    const fast = limiter();
    fast.concurrency.answered(20);
    expect(fast.concurrency.limit).toBe(8);
    const unlimited = limiter(0, 64);
    unlimited.concurrency.answered(20);
    expect(unlimited.concurrency.limit).toBe(64);
  });

  it('halves on overload once per round trip, then grows back by about one per round trip', () => {
    const { concurrency, advance } = limiter();
    concurrency.answered(1000);
    expect(concurrency.limit).toBe(150);
    concurrency.overloadedAnswer();
    concurrency.overloadedAnswer();
    expect(concurrency.limit).toBe(75);
    advance(1001);
    concurrency.overloadedAnswer();
    expect(concurrency.limit).toBe(37);
    for (let i = 0; i < 37; i += 1) concurrency.answered(1000);
    expect(concurrency.limit).toBe(38);
    for (let i = 0; i < 10; i += 1) {
      concurrency.overloadedAnswer();
      advance(1001);
    }
    expect(concurrency.limit).toBe(1);
  });
});
