import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from './config.ts';

describe('readConfig: the per-client share of the delivery queue', () => {
  it('defaults to a quarter of DELIVERY_MAX_QUEUED, follows it when that is set, and can be set on its own', () => {
    expect(readConfig({}).delivery).toMatchObject({ maxQueued: 1_000_000, maxQueuedPerClient: 250_000 });
    expect(readConfig({ DELIVERY_MAX_QUEUED: '400' }).delivery.maxQueuedPerClient).toBe(100);
    expect(readConfig({ DELIVERY_MAX_QUEUED: '2' }).delivery.maxQueuedPerClient).toBe(1);
    expect(readConfig({ DELIVERY_MAX_QUEUED_PER_CLIENT: '1000000' }).delivery.maxQueuedPerClient).toBe(1_000_000);
  });

  it('refuses a value that is not a positive integer, naming the variable', () => {
    expect(() => readConfig({ DELIVERY_MAX_QUEUED_PER_CLIENT: '0' })).toThrow(ConfigError);
    expect(() => readConfig({ DELIVERY_MAX_QUEUED_PER_CLIENT: 'lots' })).toThrow(/DELIVERY_MAX_QUEUED_PER_CLIENT/);
  });
});
