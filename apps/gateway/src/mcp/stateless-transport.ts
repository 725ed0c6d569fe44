import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { McpServerFactory } from './mcp-server.ts';
import type { McpTransportHandler } from './transport-handler.ts';

/**
 * Stateless Streamable HTTP: a fresh server and transport for every POST, nothing kept between requests,
 * so any instance behind a load balancer can answer. Answers are plain JSON rather than SSE streams.
 */
export function statelessTransport(newServer: McpServerFactory): McpTransportHandler {
  return {
    methods: ['POST'],
    methodHint: 'This MCP server is stateless (MCP_SESSIONS is off): no sessions and no GET notification stream; send JSON-RPC with POST.',
    async handle(request, response, body) {
      const server = newServer();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      response.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(request, response, body);
    },
    // Nothing outlives its request: the listener's drain waits for requests in flight.
    close: async () => {},
  };
}
