import type { IRouter } from 'express';
import gatewayPackage from '../../package.json' with { type: 'json' };
import type { LocalOperation } from '../gateway-plugin/local-operation.ts';
import { docsAnchors } from '../openapi/build-document.ts';
import { DELIVERIES_TAG } from '../openapi/delivery-paths.ts';
import { openApiPath } from '../openapi/operation.ts';
import { DOCS_PATH, GATEWAY_PATH } from '../openapi/paths.ts';
import { type ReadinessParts, readiness } from '../ops/ops-routes.ts';
import type { PluginRegistry } from '../plugins/plugin-registry.ts';

export interface GatewayInfoParts extends ReadinessParts {
  readonly registry: Pick<PluginRegistry, 'plugins'>;
  /** The MCP endpoint once it listens (it starts after the REST listener). */
  readonly mcpUrl: () => string | undefined;
  readonly pausedDeliveries: () => readonly string[];
  readonly inboundKeys: boolean;
  /** The gateway's own declared operations (the delivery routes), listed as the built-in `gateway` plugin. */
  readonly localOperations: readonly LocalOperation[];
  /** Whether a delivery queue runs (some loaded operation can be queued): without it there are no deliveries to show. */
  readonly deliveries: boolean;
}

/**
 * `GET /v1/gateway`: what runs here (version, live or sandbox, plugins and operations with their Swagger UI
 * links, the MCP URL, readiness, paused deliveries, whether keys are required). No secret, no client's data:
 * it answers before the key check, so the console can tell a person that it needs a key.
 */
export function mountGatewayInfo(router: IRouter, parts: GatewayInfoParts): void {
  // Plugins and operations are fixed once loaded: described once, not per request.
  const anchors = docsAnchors(parts.registry);
  const plugins: object[] = parts.registry.plugins.map((plugin) => ({
    id: plugin.descriptor.id,
    title: plugin.descriptor.title,
    mode: plugin.mode,
    operations: plugin.descriptor.operations.flatMap((operation) =>
      operation.rest
        ? [describe(operation.id, operation.title, operation.rest, operation.mcp || undefined, anchors.get(operation) ?? '')]
        : [],
    ),
  }));
  if (parts.localOperations.length > 0) {
    plugins.push({
      id: 'gateway',
      title: 'Gateway deliveries',
      mode: 'live',
      builtIn: true,
      // A batch is listed with the plugin operation it is made from, in Swagger UI and the tool list, not here.
      operations: parts.localOperations.flatMap((operation) =>
        operation.rest && !operation.derivedFrom
          ? [
              describe(
                operation.id,
                operation.title,
                operation.rest,
                operation.mcp,
                `#/${encodeURIComponent(DELIVERIES_TAG)}/${encodeURIComponent(operation.id)}`,
              ),
            ]
          : [],
      ),
    });
  }
  const mode = parts.registry.plugins.some((plugin) => plugin.mode === 'sandbox') ? 'sandbox' : 'live';
  router.get(GATEWAY_PATH, (_request, response) => {
    const { ready, status } = readiness(parts);
    const mcpUrl = parts.mcpUrl();
    response.setHeader('Cache-Control', 'no-store');
    response.json({
      version: gatewayPackage.version,
      mode,
      plugins,
      ...(mcpUrl ? { mcp: { url: mcpUrl } } : {}),
      ready,
      readiness: status,
      pausedPlugins: [...parts.pausedDeliveries()],
      inboundKeys: parts.inboundKeys,
      deliveries: parts.deliveries,
    });
  });
}

/** One operation as the console lists it: its REST route (OpenAPI style), its MCP tool, its place in Swagger UI. */
function describe(
  id: string,
  title: string,
  rest: { readonly method: string; readonly path: string },
  mcp: { readonly tool: string } | undefined,
  anchor: string,
) {
  return {
    id,
    title,
    method: rest.method,
    path: openApiPath(rest.path),
    ...(mcp ? { tool: mcp.tool } : {}),
    docs: `${DOCS_PATH}/${anchor}`,
  };
}
