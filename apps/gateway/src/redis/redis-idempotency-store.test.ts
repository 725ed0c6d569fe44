import pino from 'pino';
import { afterAll, beforeAll, describe } from 'vitest';
import { skipRedis, startTestRedis, type TestRedis } from '../../test/support/redis-server.ts';
import { idempotencyStoreContract } from '../idempotency/idempotency-store.contract.ts';
import { RedisIdempotencyStore } from './redis-idempotency-store.ts';
import { connectSharedRedis } from './shared-redis.ts';

describe.skipIf(skipRedis)('Redis idempotency store (a real redis-server)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.close();
  });
  let n = 0;
  idempotencyStoreContract('Redis', async (limits) => {
    n += 1;
    const shared = await connectSharedRedis(redis.url, `contract-${n}:`, pino({ level: 'silent' }));
    return { store: new RedisIdempotencyStore(shared, limits), close: () => shared.close() };
  });
});
