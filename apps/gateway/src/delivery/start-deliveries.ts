import type { DependencyContainer } from 'tsyringe';
import { ConfigError } from '../config.ts';
import type { Executor } from '../executor.ts';
import { CONFIG, DELIVERY_STORE, EXECUTOR, IDEMPOTENCY_GUARD, LOGGER, METRICS, PLUGIN_REGISTRY } from '../tokens.ts';
import type { DeliveryStore } from './delivery-store.ts';
import { DeliveryService } from './delivery-service.ts';
import { DeliveryWorker } from './delivery-worker.ts';
import { SqliteDeliveryStore } from './sqlite-delivery-store.ts';

export interface RunningDeliveries {
  readonly service: DeliveryService;
  /** Stops taking work and lets attempts in flight finish (bounded); then closes the store. */
  stop(timeoutMs: number): Promise<void>;
}

/**
 * Opens the delivery queue and starts its worker when a loaded operation opts in to queued delivery;
 * undefined otherwise (no data file is created for a gateway that never queues).
 */
export async function startDeliveries(container: DependencyContainer): Promise<RunningDeliveries | undefined> {
  const config = container.resolve(CONFIG);
  const registry = container.resolve(PLUGIN_REGISTRY);
  if (!registry.operations.some((entry) => entry.operation.delivery)) return undefined;
  const logger = container.resolve(LOGGER).child({ component: 'delivery' });
  const metrics = container.resolve(METRICS);
  let store: DeliveryStore;
  try {
    store = new SqliteDeliveryStore({ dataDir: config.delivery.dataDir, fsync: config.delivery.fsync });
  } catch (error) {
    throw new ConfigError(`DATA_DIR ${config.delivery.dataDir}: the delivery queue cannot be opened there (${(error as { code?: string }).code ?? (error as Error).message})`);
  }
  container.registerInstance(DELIVERY_STORE, store);
  const executor = container.resolve(EXECUTOR) as Executor;
  const worker = new DeliveryWorker({ store, executor, config: config.delivery, logger, metrics });
  const service = new DeliveryService({ store, executor, idempotency: container.resolve(IDEMPOTENCY_GUARD), worker, config: config.delivery, logger });
  metrics.observeDeliveryQueue(() => store.stats());
  await worker.start();
  const { pending } = await store.stats();
  logger.info({ dataDir: config.delivery.dataDir, pending, mode: config.delivery.mode }, 'delivery queue open');
  return {
    service,
    stop: async (timeoutMs) => {
      await worker.stop(timeoutMs);
      await store.close();
    },
  };
}
