import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import gatewayPackage from '../../package.json' with { type: 'json' };
import type { ToolCaller } from './call-tool.ts';
import type { ToolCatalogue } from './tool-catalogue.ts';
import { UnknownToolError } from './tool-result.ts';

export const SERVER_INFO = { name: 'integration-gateway', title: 'Integration Gateway', version: gatewayPackage.version } as const;

/** A ready-to-connect MCP server; one per stateless request or per session. */
export type McpServerFactory = () => Server;

/**
 * The low-level SDK server: `tools/list` hands out the descriptors' JSON Schemas as they are,
 * `tools/call` goes to the tool caller. This file and the transports are the only SDK-bound code.
 */
export function mcpServerFactory(catalogue: ToolCatalogue, callTool: ToolCaller): McpServerFactory {
  const tools = catalogue.tools as unknown as Tool[];
  // The SDK builds an Ajv instance per Server unless given one; with a server per stateless request that cost
  // ~16% of MCP CPU. One validator serves them all (our own inputs are validated by the executor anyway).
  const jsonSchemaValidator = new AjvJsonSchemaValidator();
  return () => {
    const server = new Server(SERVER_INFO, {
      capabilities: { tools: { listChanged: false } },
      instructions: catalogue.instructions,
      jsonSchemaValidator,
    });
    server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      try {
        const clientId = extra.authInfo?.clientId;
        const meta = request.params._meta;
        return (await callTool(request.params.name, request.params.arguments, {
          signal: extra.signal,
          ...(clientId ? { clientId } : {}),
          ...(meta ? { meta } : {}),
        })) as CallToolResult;
      } catch (error) {
        // The SDK sends a thrown error's `code` and `message` as they are. Not an McpError: its message starts with
        // "MCP error -32602: ", and the client's McpError adds that prefix again.
        if (error instanceof UnknownToolError) throw Object.assign(new Error(error.message), { code: ErrorCode.InvalidParams });
        throw error;
      }
    });
    return server;
  };
}
