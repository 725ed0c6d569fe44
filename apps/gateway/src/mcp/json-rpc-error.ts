import type { ServerResponse } from 'node:http';

/** JSON-RPC error codes the HTTP layer uses (the SDK uses the same ones for its own HTTP answers). */
export const JSON_RPC = {
  parseError: -32700,
  invalidRequest: -32600,
  internalError: -32603,
  /** Implementation-defined: transport-level refusals (bad host, no session, wrong method...). */
  serverError: -32000,
  sessionNotFound: -32001,
} as const;

/** Every error the MCP listener writes itself: a JSON-RPC error object, never HTML or a stack. */
export function sendJsonRpcError(
  response: ServerResponse,
  httpStatus: number,
  code: number,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (response.headersSent) return void response.destroy();
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
  response.writeHead(httpStatus, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
