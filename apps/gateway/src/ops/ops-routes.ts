import type { IRouter, RequestHandler } from 'express';
import type { Metrics } from '../observability/metrics.ts';
import type { PluginRegistry } from '../plugins/plugin-registry.ts';
import type { Lifecycle } from './lifecycle.ts';

/** Mounts `/healthz` (alive), `/readyz` (plugins loaded and not draining), `/metrics` (Prometheus text). */
export function mountOpsRoutes(router: IRouter, parts: {
  readonly registry: PluginRegistry;
  readonly lifecycle: Lifecycle;
  readonly metrics: Metrics;
  readonly guardMetrics: RequestHandler | undefined;
}): void {
  router.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  router.get('/readyz', (_request, response) => {
    const plugins = parts.registry.plugins.map((p) => ({ id: p.descriptor.id, mode: p.mode }));
    if (parts.lifecycle.draining) return void response.status(503).json({ status: 'draining', plugins });
    if (plugins.length === 0) return void response.status(503).json({ status: 'no plugins loaded', plugins });
    response.json({ status: 'ready', plugins });
  });
  const metrics: RequestHandler = async (_request, response) => {
    response.type(parts.metrics.registry.contentType).send(await parts.metrics.registry.metrics());
  };
  if (parts.guardMetrics) router.get('/metrics', parts.guardMetrics, metrics);
  else router.get('/metrics', metrics);
}
