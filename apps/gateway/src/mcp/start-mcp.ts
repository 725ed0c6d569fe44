import type { FrontDoorServices } from '../container.ts';
import { allowedHostnames, servesOnlyLoopbackNames } from '../hosting/host-guard.ts';
import { createToolCaller } from './call-tool.ts';
import { createMcpApp } from './mcp-app.ts';
import { listenMcp, type McpListener } from './mcp-listener.ts';
import { mcpServerFactory } from './mcp-server.ts';
import { sessionTransports } from './session-transports.ts';
import { statelessTransport } from './stateless-transport.ts';
import { buildToolCatalogue } from './tool-catalogue.ts';
import type { DeliveryService } from '../delivery/delivery-service.ts';
import { compileLocalOperations } from '../gateway-plugin/local-operation.ts';
import { deliveryOperations } from '../gateway-plugin/delivery-operations.ts';
import { withLocalTools } from './local-tools.ts';

/** Composes the MCP front door from the gateway's services (plugins already loaded) and starts its listener. */
export async function startMcp(services: FrontDoorServices, deliveries?: DeliveryService): Promise<McpListener> {
  const { config, registry, executor, metrics, inboundKeys, inboundBudget } = services;
  const logger = services.logger.child({ component: 'mcp' });
  const { catalogue, local } = withLocalTools(
    buildToolCatalogue(registry.operations, registry.plugins, { deliveries: deliveries !== undefined }),
    deliveries ? compileLocalOperations(deliveryOperations(deliveries)) : [],
  );
  const callTool = createToolCaller({
    catalogue,
    executor,
    logger,
    metrics,
    deliveries,
    deliveryMode: config.delivery.mode,
    operations: registry,
    local,
  });
  const newServer = mcpServerFactory(catalogue, callTool);
  const transport = config.mcpSessions
    ? sessionTransports(newServer, logger, { maxSessionsPerClient: config.mcpSessionsPerClient })
    : statelessTransport(newServer);
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
