import { describe, expect, it } from 'vitest';
import { type BreakerReason, UpstreamHealth } from './upstream-health.ts';

function health() {
  let now = 0;
  const changes: (BreakerReason | undefined)[] = [];
  const view = new UpstreamHealth({
    failureThreshold: 3,
    maxProbeIntervalMs: 5000,
    probeLeaseMs: 2000,
    onChange: (_upstream, reason) => changes.push(reason),
    now: () => now,
  });
  return {
    view,
    changes,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('UpstreamHealth', () => {
  it('opens after consecutive connection failures only; any answer resets the count', () => {
    const { view, changes } = health();
    view.observe('px', 'connection-failed');
    view.observe('px', 'connection-failed');
    view.observe('px', 'answered');
    view.observe('px', 'connection-failed');
    view.observe('px', 'connection-failed');
    expect(view.admit('px', 'sync')).toEqual({ admitted: true, probe: false });
    view.observe('px', 'connection-failed');
    expect(view.admit('px', 'sync')).toEqual({ admitted: false, reason: 'unreachable', retryInMs: 1000 });
    expect(changes).toEqual(['unreachable']);
  });

  it('lets one probe through when due, backs off 1, 2, 4 s up to the cap, and closes on an answer', () => {
    const { view, changes, advance } = health();
    for (let i = 0; i < 3; i += 1) view.observe('px', 'connection-failed');
    const waits: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const held = view.held().get('px') ?? -1;
      waits.push(held);
      advance(held);
      expect(view.admit('px', 'delivery')).toEqual({ admitted: true, probe: true });
      expect(view.admit('px', 'sync').admitted).toBe(false);
      view.observe('px', 'connection-failed');
    }
    expect(waits).toEqual([1000, 2000, 4000, 5000, 5000]);
    advance(5000);
    expect(view.admit('px', 'sync')).toEqual({ admitted: true, probe: true });
    view.observe('px', 'answered');
    expect(view.held().size).toBe(0);
    expect(changes).toEqual(['unreachable', undefined]);
  });

  it('a failure of a call sent before the breaker opened does not lengthen the wait; a probe not sent is released', () => {
    const { view, advance } = health();
    for (let i = 0; i < 5; i += 1) view.observe('px', 'connection-failed');
    expect(view.held().get('px')).toBe(1000);
    advance(1000);
    expect(view.admit('px', 'delivery').admitted).toBe(true);
    view.release('px');
    expect(view.admit('px', 'sync')).toEqual({ admitted: true, probe: true });
  });

  it('a refused key holds deliveries only, probed every second', () => {
    const { view, advance } = health();
    view.observe('px', 'key-refused');
    expect(view.admit('px', 'sync')).toEqual({ admitted: true, probe: false });
    expect(view.admit('px', 'delivery').admitted).toBe(false);
    for (let i = 0; i < 3; i += 1) {
      expect(view.held().get('px')).toBe(1000);
      advance(1000);
      expect(view.admit('px', 'delivery').admitted).toBe(true);
      view.observe('px', 'key-refused');
    }
    expect(view.openBreakers.get('px')).toBe('key-refused');
  });
});
