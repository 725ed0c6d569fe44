import type { Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import { RedisStore } from 'rate-limit-redis';
import type { GatewayConfig } from '../config.ts';
import type { DeliveryStore } from '../delivery/delivery-store.ts';
import { openRedisDeliveryStore } from '../delivery/redis-delivery-store.ts';
import type { IdempotencyStore } from '../idempotency/idempotency-store.ts';
import type { OutboundBudget } from '../upstream/outbound-budget.ts';
import { RedisIdempotencyStore } from './redis-idempotency-store.ts';
import { RedisOutboundBudget } from './redis-outbound-budget.ts';
import { connectSharedRedis, type SharedRedis } from './shared-redis.ts';

/**
 * Everything the gateway keeps in Redis when REDIS_URL is set, built in one place. This module (and the Redis
 * libraries behind it: ioredis, BullMQ, the rate-limit stores) is loaded only when REDIS_URL is set, so a gateway
 * without it does not carry their memory.
 */
export interface RedisState {
  readonly shared: SharedRedis;
  readonly inboundStore: Store;
  readonly idempotencyStore: IdempotencyStore;
  /** The fleet's outbound budget; undefined when UPSTREAM_RATE_LIMIT=0. */
  readonly outboundBudget: OutboundBudget | undefined;
  openDeliveryStore(pluginIds: string[], logger: Logger): Promise<DeliveryStore>;
}

export async function openRedisState(config: GatewayConfig, logger: Logger): Promise<RedisState> {
  const url = config.redisUrl as string;
  const shared = await connectSharedRedis(url, config.redisPrefix, logger);
  return {
    shared,
    // One counter per client for the whole fleet (rate-limit-redis, from express-rate-limit's maintainers).
    inboundStore: new RedisStore({
      prefix: `${shared.prefix}inbound:`,
      sendCommand: (command: string, ...args: string[]) => shared.client.call(command, ...args) as never,
    }),
    idempotencyStore: new RedisIdempotencyStore(shared, config.idempotency),
    outboundBudget:
      config.upstreamRateLimit > 0 ? new RedisOutboundBudget(shared.client, shared.prefix, config.upstreamRateLimit) : undefined,
    openDeliveryStore: (pluginIds, deliveryLogger) =>
      openRedisDeliveryStore({
        connection: url,
        prefix: config.redisPrefix,
        pluginIds,
        lockDurationMs: config.delivery.lockMs,
        stalledIntervalMs: Math.max(500, Math.round(config.delivery.lockMs / 2)),
        onError: (error) => deliveryLogger.warn({ err: { message: error.message } }, 'delivery queue: Redis error'),
      }),
  };
}
