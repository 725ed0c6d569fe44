import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { drainServer } from '../ops/drain.ts';
import { listenExpress } from '../ops/listen.ts';
import { MCP_PATH } from './mcp-app.ts';
import type { McpTransportHandler } from './transport-handler.ts';

export interface McpListener {
  /** Where agents connect, e.g. `http://127.0.0.1:9090/mcp`. */
  readonly url: string;
  /** Ends sessions and their streams, then drains the listener (bounded). Resolves true when nothing was cut. */
  close(timeoutMs: number): Promise<boolean>;
}

/** The MCP port: its own HTTP server beside the REST one, in the same process. */
export async function listenMcp(app: Express, transport: McpTransportHandler, port: number, host: string): Promise<McpListener> {
  const server = await listenExpress(app, port, host);
  return {
    url: `${baseUrl(server)}${MCP_PATH}`,
    close: async (timeoutMs) => {
      const drained = drainServer(server, timeoutMs);
      await transport.close(timeoutMs);
      return drained;
    },
  };
}

/** The listener's address; a wildcard bind is shown as loopback, a name the Host check accepts. */
function baseUrl(server: Server): string {
  const { address, port, family } = server.address() as AddressInfo;
  if (address === '0.0.0.0' || address === '::') return `http://127.0.0.1:${port}`;
  return `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
}
