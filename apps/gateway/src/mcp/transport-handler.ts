import type { IncomingMessage, ServerResponse } from 'node:http';

/** How the HTTP layer hands `/mcp` requests (body already parsed) to the Streamable HTTP transports. */
export interface McpTransportHandler {
  /** Methods `/mcp` accepts, for `Allow` on a 405. */
  readonly methods: readonly string[];
  /** Said to a client that used another method. */
  readonly methodHint: string;
  /** `clientId`: who sent it (clientIdOf: the key's client id, else the address); sessions are bound to it. */
  handle(request: IncomingMessage, response: ServerResponse, body: unknown, clientId: string): Promise<void>;
  /** A stop: lets requests in flight finish (up to `timeoutMs`), then ends open sessions and their streams. */
  close(timeoutMs: number): Promise<void>;
}
