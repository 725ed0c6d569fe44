import { describe, expect, it } from 'vitest';
import { duration, plural, relative } from './format.ts';

describe('the console formats', () => {
  it.each([
    [0, '0 s'],
    [59_400, '59 s'],
    [60_000, '1 min'],
    [3_600_000, '1 h'],
    [3_900_000, '1 h 5 min'],
    [90_000_000, '1 d 1 h'],
  ])('duration(%d) is %j', (ms, text) => expect(duration(ms)).toBe(text));

  it('says when relative to now', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(relative('2026-01-01T00:00:05Z', now)).toBe('in 5 s');
    expect(relative('2025-12-31T23:57:00Z', now)).toBe('3 min ago');
    expect(relative('2026-01-01T00:00:00.400Z', now)).toBe('now');
  });

  it('counts in words', () => {
    expect(plural(1, 'delivery', 'deliveries')).toBe('1 delivery');
    expect(plural(3, 'delivery', 'deliveries')).toBe('3 deliveries');
  });
});
