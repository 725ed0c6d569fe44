import type { IRouter, RequestHandler } from 'express';
import type { Metrics } from '../observability/metrics.ts';
import type { PluginRegistry } from '../plugins/plugin-registry.ts';
import type { Lifecycle } from './lifecycle.ts';

/**
 * Mounts the probes `/healthz` (alive) and `/readyz` (plugins loaded and not draining). They answer any Host: a load
 * balancer's health check often sends the instance address, and they carry no secret and change nothing.
 */
export function mountProbes(
  router: IRouter,
  parts: ReadinessParts & { readonly pausedDeliveries?: (() => readonly string[]) | undefined },
): void {
  router.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  router.get('/readyz', (_request, response) => {
    const plugins = parts.registry.plugins.map((p) => ({ id: p.descriptor.id, mode: p.mode }));
    const { ready, status } = readiness(parts);
    const deliveryStore = parts.deliveryStore?.() ?? 'ok';
    if (!ready) return void response.status(503).json({ status, plugins, ...(deliveryStore !== 'ok' ? { deliveryStore } : {}) });
    // Paused deliveries (an upstream breaker is open: unreachable, or refusing the gateway key) are reported, not made
    // unready: accepting events into the queue is exactly what should go on while the upstream or its key is fixed.
    const paused = parts.pausedDeliveries?.() ?? [];
    response.json({ status, plugins, ...(paused.length > 0 ? { deliveryPaused: paused } : {}) });
  });
}

/** Whether this instance should take traffic, and why not: the answer of `/readyz` (and of the console's `GET /v1/gateway`). */
export function readiness(parts: ReadinessParts): { readonly ready: boolean; readonly status: string } {
  if (parts.lifecycle.draining) return { ready: false, status: 'draining' };
  if (parts.registry.plugins.length === 0) return { ready: false, status: 'no plugins loaded' };
  // Without the shared store this instance cannot honour idempotency or queue: take it out of rotation.
  if (parts.sharedStore && !parts.sharedStore.healthy) return { ready: false, status: 'shared store (REDIS_URL) unreachable' };
  // A delivery store refusing writes (a full DATA_DIR) cannot accept async work: out of rotation, while the
  // worker goes on delivering what is queued. The status names the condition.
  const deliveryStore = parts.deliveryStore?.() ?? 'ok';
  if (deliveryStore !== 'ok') return { ready: false, status: `delivery store ${deliveryStore}` };
  return { ready: true, status: 'ready' };
}

export interface ReadinessParts {
  readonly registry: Pick<PluginRegistry, 'plugins'>;
  readonly lifecycle: Pick<Lifecycle, 'draining'>;
  readonly sharedStore?: { readonly healthy: boolean } | undefined;
  /** The delivery store's write condition (`ok`, `full`, `read-only`, `unavailable`). */
  readonly deliveryStore?: (() => string) | undefined;
}

/** Mounts `/metrics` (Prometheus text) behind `guards` (rate limit, key check; none when public and unlimited). */
export function mountMetrics(router: IRouter, parts: { readonly metrics: Metrics; readonly guards: readonly RequestHandler[] }): void {
  const metrics: RequestHandler = async (_request, response) => {
    response.type(parts.metrics.registry.contentType).send(await parts.metrics.registry.metrics());
  };
  router.get('/metrics', ...parts.guards, metrics);
}
