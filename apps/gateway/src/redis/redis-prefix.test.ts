import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../config.ts';

describe('REDIS_PREFIX', () => {
  it('always ends in ":", so `gw` and `gw:` are one namespace and `gw` is not a prefix of `gwx:`', () => {
    expect(readConfig({}).redisPrefix).toBe('gateway:');
    expect(readConfig({ REDIS_PREFIX: 'gw' }).redisPrefix).toBe('gw:');
    expect(readConfig({ REDIS_PREFIX: 'gw:' }).redisPrefix).toBe('gw:');
    expect(readConfig({ REDIS_PREFIX: ' fleet-a ' }).redisPrefix).toBe('fleet-a:');
  });

  it('refuses an empty prefix at start-up, naming the variable', () => {
    for (const empty of ['', '  ', ':']) {
      expect(() => readConfig({ REDIS_PREFIX: empty })).toThrow(ConfigError);
      expect(() => readConfig({ REDIS_PREFIX: empty })).toThrow(/REDIS_PREFIX must not be empty/);
    }
  });
});
