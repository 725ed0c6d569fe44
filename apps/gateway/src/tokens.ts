import type { InjectionToken } from 'tsyringe';
import type { Store } from 'express-rate-limit';
import type { OperationExecutor } from '@gateway/core';
import type { Logger } from 'pino';
import type { GatewayConfig } from './config.ts';
import type { IdempotencyGuard } from './idempotency/idempotency-guard.ts';
import type { IdempotencyStore } from './idempotency/idempotency-store.ts';
import type { Metrics } from './observability/metrics.ts';
import type { InboundKeys } from './auth/inbound-keys.ts';
import type { Lifecycle } from './ops/lifecycle.ts';
import type { PluginRegistry } from './plugins/plugin-registry.ts';
import type { UpstreamTransport } from './upstream/upstream-transport.ts';
import type { OutboundBudget } from './upstream/outbound-budget.ts';
import type { DeliveryStore } from './delivery/delivery-store.ts';
import type { UpstreamHealth } from './upstream/upstream-health.ts';

export const CONFIG: InjectionToken<GatewayConfig> = Symbol('GatewayConfig');
export const LOGGER: InjectionToken<Logger> = Symbol('Logger');
export const PLUGIN_REGISTRY: InjectionToken<PluginRegistry> = Symbol('PluginRegistry');
/** The upstream transport the executor sends through (UpstreamClient in production). */
export const UPSTREAM_CLIENT: InjectionToken<UpstreamTransport> = Symbol('UpstreamClient');
export const EXECUTOR: InjectionToken<OperationExecutor> = Symbol('OperationExecutor');
export const METRICS: InjectionToken<Metrics> = Symbol('Metrics');
export const IDEMPOTENCY_STORE: InjectionToken<IdempotencyStore> = Symbol('IdempotencyStore');
export const IDEMPOTENCY_GUARD: InjectionToken<IdempotencyGuard> = Symbol('IdempotencyGuard');
export const INBOUND_KEYS: InjectionToken<InboundKeys> = Symbol('InboundKeys');
export const LIFECYCLE: InjectionToken<Lifecycle> = Symbol('Lifecycle');
/** The inbound rate-limit store both front doors share (one budget per client). */
export const INBOUND_BUDGET: InjectionToken<Store> = Symbol('InboundBudget');
export const OUTBOUND_BUDGET: InjectionToken<OutboundBudget> = Symbol('OutboundBudget');
/** One health view (circuit breaker) per upstream, shared by synchronous calls and the delivery worker. */
export const UPSTREAM_HEALTH: InjectionToken<UpstreamHealth> = Symbol('UpstreamHealth');
export const DELIVERY_STORE: InjectionToken<DeliveryStore> = Symbol('DeliveryStore');
