import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Environment, PluginDescriptor } from '@gateway/core';
import type { DestinationStream, Logger } from 'pino';
import { type GatewayConfig, readConfig } from './config.ts';
import { createContainer, frontDoorServices } from './container.ts';
import { createLogger } from './logger.ts';
import { startTracing } from './observability/tracing.ts';
import type { McpListener } from './mcp/mcp-listener.ts';
import { startMcp } from './mcp/start-mcp.ts';
import type { LoadedPlugin } from './plugins/plugin-registry.ts';
import { createRestApp } from './rest/rest-app.ts';
import { drainServer } from './ops/drain.ts';
import { listenExpress } from './ops/listen.ts';
import { type RunningDeliveries, startDeliveries } from './delivery/start-deliveries.ts';
import { PLUGIN_REGISTRY, UPSTREAM_CLIENT } from './tokens.ts';

export interface GatewayOptions {
  readonly environment: Environment;
  /** Where JSON logs go (stdout by default). */
  readonly logDestination?: DestinationStream;
  /** Descriptors loaded besides the configured plugins (e.g. from capability files or tests). */
  readonly extraPlugins?: readonly PluginDescriptor[];
}

export interface RunningGateway {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly restUrl: string;
  /** The MCP endpoint (Streamable HTTP), e.g. `http://127.0.0.1:9090/mcp`. */
  readonly mcpUrl: string;
  readonly plugins: readonly LoadedPlugin[];
  /** Graceful stop: readiness turns 503, listeners stop accepting, in-flight work finishes (bounded), then resources close. */
  close(): Promise<void>;
}

/** Builds the container, loads plugins, starts the REST and MCP listeners. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const config = readConfig(options.environment);
  const logger = createLogger(config.logLevel, options.logDestination);
  const stopTracing = await startTracing(config.tracing);
  // Loaded only with REDIS_URL: without it the gateway does not carry the Redis libraries (about 30 MB).
  const redisState = config.redisUrl ? await (await import('./redis/redis-state.ts')).openRedisState(config, logger) : undefined;
  const redis = redisState?.shared;
  const container = createContainer(config, logger, redisState);
  const registry = container.resolve(PLUGIN_REGISTRY);
  try {
    await registry.load(options.extraPlugins);
  } catch (error) {
    await redis?.close();
    throw error;
  }
  let deliveries: RunningDeliveries | undefined;
  try {
    deliveries = await startDeliveries(container, redisState);
  } catch (error) {
    await registry.close();
    await redis?.close();
    throw error;
  }
  const stopDeliveries = async (timeoutMs: number) => {
    await deliveries?.stop(timeoutMs);
  };
  const services = frontDoorServices(container);
  const { lifecycle } = services;
  // Known once MCP listens (after REST), for the console's `GET /v1/gateway`.
  let mcpUrl: string | undefined;
  const app = createRestApp({ ...services, deliveries: deliveries?.service, sharedStore: redis, mcpUrl: () => mcpUrl });
  let server: Server;
  try {
    server = await listenExpress(app, config.port, config.host);
  } catch (error) {
    await stopDeliveries(0);
    await registry.close();
    await redis?.close();
    throw error;
  }
  let mcp: McpListener;
  try {
    mcp = await startMcp(services, deliveries?.service);
  } catch (error) {
    await drainServer(server, 0);
    await stopDeliveries(0);
    await registry.close();
    await redis?.close();
    throw error;
  }
  mcpUrl = mcp.url;
  const restUrl = urlOf(server);
  logger.info({ url: restUrl, plugins: registry.plugins.map((p) => ({ id: p.descriptor.id, mode: p.mode })) }, 'gateway listening');
  if (config.tracing)
    logger.info({ endpoint: config.tracing.tracesUrl, protocol: config.tracing.protocol }, 'tracing: exporting spans (OTLP)');
  return {
    config,
    logger,
    restUrl,
    mcpUrl: mcp.url,
    plugins: registry.plugins,
    close: async () => {
      lifecycle.startDraining();
      const [restFinished, mcpFinished] = await Promise.all([
        drainServer(server, config.shutdownTimeoutMs),
        mcp.close(config.shutdownTimeoutMs),
      ]);
      const finished = restFinished && mcpFinished;
      if (!finished) logger.warn({ timeoutMs: config.shutdownTimeoutMs }, 'in-flight requests cut at SHUTDOWN_TIMEOUT_MS');
      // Queued deliveries not yet sent stay queued for the next start; attempts already sent get to finish.
      await stopDeliveries(config.shutdownTimeoutMs);
      await container.resolve(UPSTREAM_CLIENT).close();
      await registry.close();
      await redis?.close();
      await stopTracing?.();
    },
  };
}

export function urlOf(server: Server): string {
  const { address, port, family } = server.address() as AddressInfo;
  const host = family === 'IPv6' ? `[${address}]` : address;
  return `http://${host}:${port}`;
}
