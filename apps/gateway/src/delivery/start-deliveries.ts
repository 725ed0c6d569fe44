import type { DependencyContainer } from 'tsyringe';
import { ConfigError, type DeliveryConfig } from '../config.ts';
import { CONFIG, DELIVERY_STORE, LOGGER, METRICS, PLUGIN_REGISTRY } from '../tokens.ts';
import type { DeliveryStore } from './delivery-store.ts';
import { DeliveryService } from './delivery-service.ts';
import { DeliveryWorker } from './delivery-worker.ts';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DATABASE_FILE, SqliteDeliveryStore } from './sqlite-delivery-store.ts';
import type { RedisState } from '../redis/redis-state.ts';
import type { Logger } from 'pino';

export interface RunningDeliveries {
  readonly service: DeliveryService;
  /** Stops taking work and lets attempts in flight finish (bounded); then closes the store. */
  stop(timeoutMs: number): Promise<void>;
}

/**
 * Opens the delivery queue and starts its worker when a loaded operation opts in to queued delivery;
 * undefined otherwise (no data file is created for a gateway that never queues).
 */
export async function startDeliveries(container: DependencyContainer, redis?: RedisState): Promise<RunningDeliveries | undefined> {
  const config = container.resolve(CONFIG);
  const registry = container.resolve(PLUGIN_REGISTRY);
  if (!registry.operations.some((entry) => entry.operation.delivery)) return undefined;
  const logger = container.resolve(LOGGER).child({ component: 'delivery' });
  const metrics = container.resolve(METRICS);
  const store = redis
    ? await openSharedQueue(
        redis,
        registry.plugins.map((p) => p.descriptor.id),
        logger,
      )
    : openEmbeddedQueue(config.delivery);
  container.registerInstance(DELIVERY_STORE, store);
  const service = container.resolve(DeliveryService);
  const worker = container.resolve(DeliveryWorker);
  metrics.observeDeliveryQueue({
    stats: () => store.stats(),
    condition: () => service.storeCondition,
    unsettled: () => worker.unsettledCount,
  });
  await worker.start();
  const { pending } = await store.stats();
  logger.info(
    {
      ...(redis ? { queue: 'redis' } : { queue: 'sqlite', dataDir: config.delivery.dataDir }),
      pending,
      mode: config.delivery.mode,
      // Said at start: the per-client share (a quarter of the queue by default) is what a single-client host may need to raise.
      maxQueued: config.delivery.maxQueued,
      maxQueuedPerClient: config.delivery.maxQueuedPerClient,
    },
    'delivery queue open',
  );
  return {
    service,
    stop: async (timeoutMs) => {
      await worker.stop(timeoutMs);
      await store.close();
    },
  };
}

/** The embedded queue: a SQLite file in DATA_DIR, for this process alone. */
function openEmbeddedQueue(config: DeliveryConfig): DeliveryStore {
  try {
    return new SqliteDeliveryStore({ dataDir: config.dataDir, fsync: config.fsync });
  } catch (error) {
    throw new ConfigError(
      `DATA_DIR ${config.dataDir}: the delivery queue cannot be opened there: ${dataDirProblem(config.dataDir, error)}`,
    );
  }
}

/**
 * Names the real cause of a DATA_DIR that cannot be opened. Node reports a directory that cannot be created on a
 * read-only mount as ENOENT, and SQLite a file it cannot create as SQLITE_CANTOPEN: the path is examined instead.
 */
export function dataDirProblem(dataDir: string, error: unknown): string {
  const code = (error as { code?: string }).code ?? 'error';
  if (code === 'ENOSPC' || code.startsWith('SQLITE_FULL')) return `the disk is full (${code})`;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED')
    return `the queue file is locked by another process, probably another gateway on the same DATA_DIR (${code})`;
  // The nearest part of the path that exists says what is wrong with the rest.
  let existing = resolve(dataDir);
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  if (!statSync(existing).isDirectory()) return `${existing} is not a directory (${code})`;
  try {
    accessSync(existing, constants.W_OK);
  } catch (access) {
    const accessCode = (access as NodeJS.ErrnoException).code ?? 'EACCES';
    return accessCode === 'EROFS'
      ? `${existing} is on a read-only filesystem (${accessCode})`
      : `${existing} is not writable by this user (${accessCode})`;
  }
  if (existing !== resolve(dataDir)) return `${resolve(dataDir)} does not exist and could not be created (${code})`;
  if (code.startsWith('SQLITE_READONLY') || code === 'EACCES' || code === 'EPERM') return `the queue file is not writable (${code})`;
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') return `${DATABASE_FILE} is not a readable SQLite database (${code})`;
  return `${(error as Error).message} (${code})`;
}

/** The fleet's queue on REDIS_URL (BullMQ): any instance delivers what any instance accepted. */
async function openSharedQueue(redis: RedisState, pluginIds: string[], logger: Logger): Promise<DeliveryStore> {
  try {
    return await redis.openDeliveryStore(pluginIds, logger);
  } catch (error) {
    throw new ConfigError(`REDIS_URL: the delivery queue cannot be opened in Redis (${(error as Error).message})`);
  }
}
