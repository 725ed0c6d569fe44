import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import type { Server } from '@modelcontextprotocol/server';
import type { McpServerFactory } from './mcp-server.ts';
import { isModernRequest, type McpTransportHandler, modernEntry, postsInFlight } from './transport-handler.ts';

/**
 * Stateless (the default): a fresh server per POST, nothing kept between requests, so any instance behind a load
 * balancer can answer. 2026-07-28 requests go to the SDK's `createMcpHandler`; 2025-era ones to a stateless
 * Streamable HTTP transport. Both answer plain JSON rather than SSE streams (no tool here notifies mid-call).
 */
export function statelessTransport(newServer: McpServerFactory, onerror: (error: Error) => void): McpTransportHandler {
  const modern = modernEntry(newServer, onerror);
  const inFlight = postsInFlight();
  return {
    methods: ['POST'],
    methodHint: 'This MCP server is stateless (MCP_SESSIONS is off): no sessions and no GET notification stream; send JSON-RPC with POST.',
    async handle(request, response, body) {
      let legacy: { readonly server: Server; readonly transport: NodeStreamableHTTPServerTransport } | undefined;
      inFlight.track(response, () => {
        // A client that left before its answer: closing aborts the calls still running (their handlers' signals).
        // After a complete answer nothing is left to end, and closing would only build an SDK "Connection closed"
        // error (a stack trace) per request for no one to read.
        if (!legacy || response.writableFinished) return;
        void legacy.transport.close();
        void legacy.server.close();
      });
      if (await isModernRequest(request, body)) return modern.serve(request, response, body);
      const server = newServer();
      const transport = new NodeStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      legacy = { server, transport };
      await server.connect(transport);
      await transport.handleRequest(request, response, body);
    },
    async close(timeoutMs) {
      await inFlight.finished(timeoutMs);
      await modern.close();
    },
  };
}
