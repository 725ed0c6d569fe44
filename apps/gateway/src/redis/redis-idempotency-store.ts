import { createHash } from 'node:crypto';
import type { OperationResult } from '@gateway/core';
import type { ClaimOutcome, IdempotencyLimits, IdempotencyRecord, IdempotencyStore } from '../idempotency/idempotency-store.ts';
import type { SharedRedis } from './shared-redis.ts';

const digest = (text: string): string => createHash('sha256').update(text).digest('base64url');

/**
 * Idempotency records in Redis, shared by every instance: a claim is `SET NX PX` (atomic across instances), a
 * result replaces it with the same TTL, a release deletes it. Each client's records are indexed in a sorted set
 * by time, so a client at IDEMPOTENCY_MAX_RECORDS_PER_CLIENT loses its own oldest record, never another client's;
 * the overall bound is the TTL and the Redis server's own memory policy. Keys are digests: neither a client's
 * key nor its idempotency key appears in Redis.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly redis: SharedRedis,
    private readonly limits: Pick<IdempotencyLimits, 'maxRecordsPerClient'>,
  ) {}

  async claim(clientId: string, key: string, fingerprint: string, ttlMs: number): Promise<ClaimOutcome> {
    const recordKey = this.recordKey(key);
    const record: IdempotencyRecord = { state: 'in-flight', fingerprint, expiresAt: Date.now() + ttlMs };
    for (let attempt = 0; attempt < 2; attempt += 1) {
      if ((await this.redis.client.set(recordKey, JSON.stringify(record), 'PX', ttlMs, 'NX')) === 'OK') {
        await this.index(clientId, recordKey, ttlMs);
        return { claimed: true };
      }
      const existing = await this.redis.client.get(recordKey);
      // Gone between SET and GET (expired or released): claim again.
      if (existing !== null) return { claimed: false, existing: JSON.parse(existing) as IdempotencyRecord };
    }
    return { claimed: false, existing: record };
  }

  async complete(clientId: string, key: string, fingerprint: string, result: OperationResult, ttlMs: number): Promise<void> {
    const recordKey = this.recordKey(key);
    const record: IdempotencyRecord = { state: 'done', fingerprint, expiresAt: Date.now() + ttlMs, result };
    await this.redis.client.set(recordKey, JSON.stringify(record), 'PX', ttlMs);
    await this.index(clientId, recordKey, ttlMs);
  }

  async release(key: string): Promise<void> {
    await this.redis.client.del(this.recordKey(key));
  }

  private recordKey(key: string): string {
    return `${this.redis.prefix}idempotency:${digest(key)}`;
  }

  /** Adds the record to its client's index and evicts that client's oldest records beyond the cap. */
  private async index(clientId: string, recordKey: string, ttlMs: number): Promise<void> {
    const indexKey = `${this.redis.prefix}idempotency-client:${digest(clientId)}`;
    const now = Date.now();
    const results = await this.redis.client
      .multi()
      .zadd(indexKey, now, recordKey)
      .zremrangebyscore(indexKey, '-inf', now - ttlMs)
      .pexpire(indexKey, ttlMs)
      .zcard(indexKey)
      .exec();
    const count = Number(results?.[3]?.[1] ?? 0);
    const excess = count - this.limits.maxRecordsPerClient;
    if (excess <= 0) return;
    const evicted = (await this.redis.client.zpopmin(indexKey, excess)).filter((_, i) => i % 2 === 0);
    if (evicted.length > 0) await this.redis.client.del(...evicted);
  }
}
