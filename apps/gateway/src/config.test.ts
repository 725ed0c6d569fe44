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

describe('readConfig: delivery caps, retention and sealing', () => {
  it('reads DELIVERY_MAX_BYTES_PER_CLIENT as a size and DELIVERY_DEAD_RETENTION as a duration, with their defaults', () => {
    expect(readConfig({}).delivery).toMatchObject({ maxBytesPerClient: 256 * 1024 * 1024, deadRetentionMs: 30 * 86_400_000 });
    expect(readConfig({ DELIVERY_MAX_BYTES_PER_CLIENT: '64mb', DELIVERY_DEAD_RETENTION: '12h' }).delivery).toMatchObject({
      maxBytesPerClient: 64 * 1024 * 1024,
      deadRetentionMs: 12 * 3_600_000,
    });
    expect(readConfig({ DELIVERY_MAX_BYTES_PER_CLIENT: '4096' }).delivery.maxBytesPerClient).toBe(4096);
    expect(() => readConfig({ DELIVERY_MAX_BYTES_PER_CLIENT: 'huge' })).toThrow(/DELIVERY_MAX_BYTES_PER_CLIENT must be a size/);
    expect(() => readConfig({ DELIVERY_MAX_BYTES_PER_CLIENT: '10' })).toThrow(/at least 1kb/);
    expect(() => readConfig({ DELIVERY_DEAD_RETENTION: 'forever' })).toThrow(/DELIVERY_DEAD_RETENTION/);
  });

  it('takes DELIVERY_SEAL_KEY as 32 bytes in hex or base64, and refuses anything else without repeating it', () => {
    const hex = 'ab'.repeat(32);
    expect(readConfig({ DELIVERY_SEAL_KEY: hex }).delivery.sealKey).toEqual(Buffer.from(hex, 'hex'));
    const base64 = Buffer.alloc(32, 7).toString('base64');
    expect(readConfig({ DELIVERY_SEAL_KEY: base64 }).delivery.sealKey).toEqual(Buffer.alloc(32, 7));
    expect(readConfig({}).delivery.sealKey).toBeUndefined();
    const wrong = 'not-a-key-but-a-secret-anyway';
    expect(() => readConfig({ DELIVERY_SEAL_KEY: wrong })).toThrow(/DELIVERY_SEAL_KEY must be 32 random bytes/);
    try {
      readConfig({ DELIVERY_SEAL_KEY: wrong });
    } catch (error) {
      expect((error as Error).message).not.toContain(wrong);
    }
  });
});
