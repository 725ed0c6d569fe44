import { container as rootContainer, type DependencyContainer, instanceCachingFactory } from 'tsyringe';
import type { Logger } from 'pino';
import type { GatewayConfig } from './config.ts';
import { Executor } from './executor.ts';
import { PluginRegistry } from './plugins/plugin-registry.ts';
import { IdempotencyGuard } from './idempotency/idempotency-guard.ts';
import { MemoryIdempotencyStore } from './idempotency/idempotency-store.ts';
import { Metrics } from './observability/metrics.ts';
import { InboundKeys } from './auth/inbound-keys.ts';
import { Lifecycle } from './ops/lifecycle.ts';
import { createInboundBudgetStore } from './limits/inbound-rate-limit.ts';
import { DeliveryHealth } from './delivery/delivery-health.ts';
import { DeliveryService } from './delivery/delivery-service.ts';
import { DeliveryWorker } from './delivery/delivery-worker.ts';
import {
  CONFIG,
  DELIVERY_STORE,
  EXECUTOR,
  IDEMPOTENCY_GUARD,
  IDEMPOTENCY_STORE,
  INBOUND_BUDGET,
  INBOUND_KEYS,
  LIFECYCLE,
  LOGGER,
  METRICS,
  OUTBOUND_BUDGET,
  PLUGIN_REGISTRY,
  UPSTREAM_CLIENT,
} from './tokens.ts';
import { UpstreamClient } from './upstream/upstream-client.ts';
import { LocalOutboundBudget, type OutboundBudget, UNLIMITED_BUDGET } from './upstream/outbound-budget.ts';
import type { RedisState } from './redis/redis-state.ts';
import type { Store } from 'express-rate-limit';
import type { OperationExecutor } from '@gateway/core';

/** The composition root: one child container per gateway instance, so tests can run several side by side. */
/** `redis`: the shared state when REDIS_URL is set; every piece of state shared by instances then lives there. */
export function createContainer(config: GatewayConfig, logger: Logger, redis?: RedisState): DependencyContainer {
  const container = rootContainer.createChildContainer();
  container.registerInstance(CONFIG, config);
  container.registerInstance(LOGGER, logger);
  container.registerSingleton(PLUGIN_REGISTRY, PluginRegistry);
  container.registerSingleton(UPSTREAM_CLIENT, UpstreamClient);
  container.registerInstance(METRICS, new Metrics());
  container.registerInstance(INBOUND_KEYS, new InboundKeys(config.inboundKeys));
  container.registerInstance(LIFECYCLE, new Lifecycle());
  container.registerInstance(INBOUND_BUDGET, redis?.inboundStore ?? createInboundBudgetStore());
  container.registerInstance(IDEMPOTENCY_STORE, redis?.idempotencyStore ?? new MemoryIdempotencyStore(config.idempotency));
  container.registerSingleton(IDEMPOTENCY_GUARD, IdempotencyGuard);
  container.registerInstance(OUTBOUND_BUDGET, outboundBudget(config.upstreamRateLimit, redis));
  // Under its class for the delivery worker and service (prepare, deliverOnce); EXECUTOR is the same instance.
  container.registerSingleton(Executor);
  container.register(EXECUTOR, { useToken: Executor });
  // The delivery queue's worker and service, resolved only once startDeliveries has opened and registered the store.
  const deliveryLogger = logger.child({ component: 'delivery' });
  container.registerInstance(DeliveryHealth, new DeliveryHealth());
  container.register(DeliveryWorker, {
    useFactory: instanceCachingFactory(
      (c) =>
        new DeliveryWorker({
          store: c.resolve(DELIVERY_STORE),
          executor: c.resolve(Executor),
          config: config.delivery,
          logger: deliveryLogger,
          metrics: c.resolve(METRICS),
          health: c.resolve(DeliveryHealth),
        }),
    ),
  });
  container.register(DeliveryService, {
    useFactory: instanceCachingFactory(
      (c) =>
        new DeliveryService({
          store: c.resolve(DELIVERY_STORE),
          executor: c.resolve(Executor),
          idempotency: c.resolve(IDEMPOTENCY_GUARD),
          worker: c.resolve(DeliveryWorker),
          config: config.delivery,
          logger: deliveryLogger,
          health: c.resolve(DeliveryHealth),
        }),
    ),
  });
  return container;
}

/** What the REST and MCP front doors are built from: plain functions of these services, which know no container. */
export interface FrontDoorServices {
  readonly config: GatewayConfig;
  readonly registry: PluginRegistry;
  readonly executor: OperationExecutor;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly lifecycle: Lifecycle;
  readonly inboundKeys: InboundKeys;
  /** The inbound rate-limit store both front doors share (one budget per client). */
  readonly inboundBudget: Store;
}

export function frontDoorServices(container: DependencyContainer): FrontDoorServices {
  return {
    config: container.resolve(CONFIG),
    registry: container.resolve(PLUGIN_REGISTRY),
    executor: container.resolve(EXECUTOR),
    logger: container.resolve(LOGGER),
    metrics: container.resolve(METRICS),
    lifecycle: container.resolve(LIFECYCLE),
    inboundKeys: container.resolve(INBOUND_KEYS),
    inboundBudget: container.resolve(INBOUND_BUDGET),
  };
}

function outboundBudget(ratePerSecond: number, redis: RedisState | undefined): OutboundBudget {
  if (ratePerSecond <= 0) return UNLIMITED_BUDGET;
  return redis?.outboundBudget ?? new LocalOutboundBudget(ratePerSecond);
}
