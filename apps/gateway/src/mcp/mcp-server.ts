import { createHash } from 'node:crypto';
import {
  type CacheHint,
  type CallToolResult,
  ProtocolError,
  ProtocolErrorCode,
  Server,
  TRACEPARENT_META_KEY,
  type Tool,
} from '@modelcontextprotocol/server';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv';
import gatewayPackage from '../../package.json' with { type: 'json' };
import type { ToolCaller } from './call-tool.ts';
import type { ToolCatalogue } from './tool-catalogue.ts';
import { UnknownToolError } from './tool-result.ts';
import type { TraceScope } from '../observability/tracing.ts';

export const SERVER_INFO = { name: 'integration-gateway', title: 'Integration Gateway', version: gatewayPackage.version } as const;

/**
 * The server's identity for one catalogue: the package version plus a digest of what `tools/list` and the
 * instructions say (semver build metadata). Clients key their response cache by name and version, so a list
 * cached before a configuration change (MCP_TOOLS, plugins, a sandbox) is not served after it.
 */
export function serverInfoFor(catalogue: ToolCatalogue): { name: string; title: string; version: string } {
  const digest = createHash('sha256')
    .update(JSON.stringify([catalogue.tools, catalogue.instructions]))
    .digest('hex')
    .slice(0, 12);
  return { ...SERVER_INFO, version: `${SERVER_INFO.version}+tools.${digest}` };
}

/** A ready-to-serve MCP server; one per request (both eras) or per 2025 session. Usable as the SDK's `McpServerFactory`. */
export type McpServerFactory = () => Server;

/**
 * The low-level SDK server, one per request (or per 2025 session): `tools/list` hands out the catalogue's JSON
 * Schemas as they are, `tools/call` goes to the tool caller. This file and mcp-transports.ts are the only
 * SDK-bound code. `toolsListHint` is the 2026-07-28 cache hint of `tools/list` (2025-era answers carry none).
 */
export function mcpServerFactory(catalogue: ToolCatalogue, callTool: ToolCaller, toolsListHint: CacheHint): McpServerFactory {
  const tools = catalogue.tools as unknown as Tool[];
  // The SDK would build a validator per Server; with a server per request one shared instance saves that cost
  // (our own inputs are validated by the executor, with the same schemas REST uses).
  const jsonSchemaValidator = new AjvJsonSchemaValidator();
  const cacheHints = { 'tools/list': toolsListHint };
  const info = serverInfoFor(catalogue);
  const options = {
    capabilities: { tools: { listChanged: false } },
    instructions: catalogue.instructions,
    jsonSchemaValidator,
    cacheHints,
  };
  return () => {
    const server = new Server(info, options);
    server.setRequestHandler('tools/list', () => ({ tools }));
    server.setRequestHandler('tools/call', async (request, ctx) => {
      const clientId = ctx.http?.authInfo?.clientId;
      const trace = ctx.http?.authInfo?.extra?.traceScope as TraceScope | undefined;
      const traceparent = traceparentOf(request.params._meta);
      try {
        const meta = request.params._meta;
        return (await callTool(request.params.name, request.params.arguments, {
          signal: ctx.mcpReq.signal,
          ...(clientId ? { clientId } : {}),
          ...(trace ? { trace } : {}),
          ...(traceparent ? { traceparent } : {}),
          ...(meta ? { meta } : {}),
        })) as CallToolResult;
      } catch (error) {
        // A protocol error, as the spec says for an unknown tool; the client adds its own "MCP error -32602: " prefix.
        if (error instanceof UnknownToolError) throw new ProtocolError(ProtocolErrorCode.InvalidParams, error.message);
        throw error;
      }
    });
    return server;
  };
}

/** A W3C trace context header value: version 00, 32-hex trace id, 16-hex parent id, 2-hex flags (all-zero ids are invalid). */
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** `_meta.traceparent` of a request (2026-07-28 carries W3C trace context there), when it is well formed. */
export function traceparentOf(meta: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const value = meta?.[TRACEPARENT_META_KEY];
  return typeof value === 'string' && TRACEPARENT.test(value) ? value : undefined;
}
