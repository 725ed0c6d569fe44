import type { CacheHint } from '@modelcontextprotocol/server';
import type { FrontDoorServices } from '../container.ts';
import { allowedHostnames, servesOnlyLoopbackNames } from '../hosting/host-guard.ts';
import { createToolCaller } from './call-tool.ts';
import { createMcpApp } from './mcp-app.ts';
import { listenMcp, type McpListener } from './mcp-listener.ts';
import { mcpServerFactory } from './mcp-server.ts';
import { sessionTransports } from './session-transports.ts';
import { statelessTransport } from './stateless-transport.ts';
import { buildToolCatalogue, type CataloguePlugin, type ToolCatalogue } from './tool-catalogue.ts';
import type { DeliveryService } from '../delivery/delivery-service.ts';
import { gatewayOperations } from '../gateway-plugin/gateway-operations.ts';
import { Dispatch } from '../dispatch.ts';

/** Composes the MCP front door from the gateway's services (plugins already loaded) and starts its listener. */
export async function startMcp(services: FrontDoorServices, deliveries?: DeliveryService): Promise<McpListener> {
  const { config, registry, executor, metrics, inboundKeys, inboundBudget } = services;
  const logger = services.logger.child({ component: 'mcp' });
  const dispatch = new Dispatch({ executor, deliveries, mode: config.delivery.mode, operations: registry });
  const catalogue = buildToolCatalogue(registry.operations, registry.plugins, {
    tools: config.mcpTools,
    localOperations: gatewayOperations({ deliveries, dispatch, operations: registry.operations, bodyLimitBytes: config.bodyLimitBytes }),
  });
  const callTool = createToolCaller({ catalogue, dispatch, logger, metrics });
  const newServer = mcpServerFactory(catalogue, callTool, toolsListCacheHint(registry.plugins, catalogue));
  const transport = config.mcpSessions
    ? sessionTransports(newServer, logger, { maxSessionsPerClient: config.mcpSessionsPerClient })
    : statelessTransport(newServer, (error) => logger.debug({ err: error }, 'mcp request refused or failed'));
  const allowedHosts = allowedHostnames(config.host, config.allowedHosts);
  if (!allowedHosts) logger.warn('ALLOWED_HOSTS=*: the REST and MCP listeners accept any Host header (no DNS-rebinding protection)');
  else if (servesOnlyLoopbackNames(config.host, config.allowedHosts)) {
    logger.warn(
      { host: config.host },
      'listeners bound to all interfaces answer only loopback Host names: set ALLOWED_HOSTS to the names clients use',
    );
  }
  const app = createMcpApp({
    transport,
    allowedHosts,
    inboundKeys,
    bodyLimitBytes: config.bodyLimitBytes,
    inboundRateLimit: config.inboundRateLimit,
    inboundBudget,
    trustProxy: config.trustProxy,
    logger,
  });
  let listener: McpListener;
  try {
    listener = await listenMcp(app, transport, config.mcpPort, config.host);
  } catch (error) {
    await transport.close(0);
    throw error;
  }
  logger.info(
    {
      url: listener.url,
      mode: config.mcpSessions ? 'sessions' : 'stateless',
      tools: catalogue.tools.map((t) => t.name),
      allowedHosts: allowedHosts ? [...allowedHosts] : '*',
    },
    'mcp listening',
  );
  return listener;
}

/** How long a 2026-07-28 client may reuse `tools/list` unless a plugin asks for less. */
const TOOLS_LIST_TTL_MS = 5 * 60_000;

/**
 * The list is the same for every caller (MCP_TOOLS is per gateway), so it is `public` unless a plugin whose tools
 * it lists asks for `private`; the TTL is the shortest asked for. A changed configuration changes the server
 * version (mcpServerFactory), which is part of the client's cache key, so a cached list is not reused across it.
 */
function toolsListCacheHint(plugins: readonly CataloguePlugin[], catalogue: ToolCatalogue): CacheHint {
  const listed = new Set(catalogue.tools.map((tool) => catalogue.find(tool.name)?.pluginId));
  const hints = plugins
    .filter((p) => listed.has(p.descriptor.id))
    .flatMap((p) => (p.descriptor.mcpListCache ? [p.descriptor.mcpListCache] : []));
  return {
    ttlMs: Math.min(TOOLS_LIST_TTL_MS, ...hints.flatMap((hint) => (hint.ttlMs !== undefined ? [hint.ttlMs] : []))),
    cacheScope: hints.some((hint) => hint.cacheScope === 'private') ? 'private' : 'public',
  };
}
