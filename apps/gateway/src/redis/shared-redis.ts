import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ConfigError } from '../config.ts';

/** The gateway's connection to the Redis that holds state shared by every instance (REDIS_URL). */
export interface SharedRedis {
  readonly client: Redis;
  /** REDIS_PREFIX: every key this gateway writes starts with it, so several gateways can share a Redis. */
  readonly prefix: string;
  /** The connection options (a URL may carry a password: never log or show it; see `where`). */
  readonly url: string;
  /** `host:port/db`, safe to log. */
  readonly where: string;
  /** False from the moment the connection is lost until it is back. */
  readonly healthy: boolean;
  close(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 5000;

/**
 * Connects to REDIS_URL (`redis://`, `rediss://`, with a password or not), or fails start-up with an error naming
 * the variable. Afterwards ioredis reconnects by itself; while it is away commands fail at once (no offline queue),
 * so callers answer 503 or fall back instead of hanging.
 */
export async function connectSharedRedis(url: string, prefix: string, logger: Logger): Promise<SharedRedis> {
  let parsed: URL;
  try {
    parsed = new URL(url);
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new Error('scheme');
  } catch {
    throw new ConfigError('REDIS_URL must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0');
  }
  const where = `${parsed.hostname}:${parsed.port || '6379'}${parsed.pathname && parsed.pathname !== '/' ? parsed.pathname : '/0'}`;
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    // Commands issued in the same event-loop turn (many concurrent requests) share one write and one read.
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(2000, 100 * times),
  });
  // ioredis reports every failed reconnect as an 'error' event; without a listener it would be unhandled.
  let lastError = '';
  client.on('error', (error: NodeJS.ErrnoException) => {
    lastError = error.code ?? error.message;
  });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    const code = (error as NodeJS.ErrnoException).code ?? lastError ?? 'connection failed';
    throw new ConfigError(
      `REDIS_URL: cannot reach Redis at ${where} (${code}). Start Redis or fix REDIS_URL; without REDIS_URL the gateway keeps its state in process.`,
    );
  }
  let healthy = true;
  client.on('close', () => {
    if (!healthy) return;
    healthy = false;
    logger.warn({ redis: where }, 'Redis connection lost: readiness 503, async and idempotent requests answer 503 until it is back');
  });
  client.on('ready', () => {
    if (healthy) return;
    healthy = true;
    logger.info({ redis: where }, 'Redis connection back');
  });
  return {
    client,
    prefix,
    url,
    where,
    get healthy() {
      return healthy;
    },
    close: async () => {
      healthy = false;
      await client.quit().catch(() => client.disconnect());
    },
  };
}
