import type { IncomingMessage, ServerResponse } from 'node:http';
import { type FetchLikeMcpHandler, type NodeIncomingMessageLike, toNodeHandler, toWebRequest } from '@modelcontextprotocol/node';
import { type AuthInfo, createMcpHandler, isLegacyRequest } from '@modelcontextprotocol/server';
import type { McpServerFactory } from './mcp-server.ts';

/** How the HTTP layer hands `/mcp` requests (body already parsed) to the SDK's serving entries. */
export interface McpTransportHandler {
  /** Methods `/mcp` accepts, for `Allow` on a 405. */
  readonly methods: readonly string[];
  /** Said to a client that used another method. */
  readonly methodHint: string;
  /** `clientId`: who sent it (clientIdOf: the key's client id, else the address); sessions are bound to it. */
  handle(request: IncomingMessage, response: ServerResponse, body: unknown, clientId: string): Promise<void>;
  /** A stop: lets requests in flight finish (up to `timeoutMs`), then ends open sessions and streams. */
  close(timeoutMs: number): Promise<void>;
}

type RawBodied = IncomingMessage & { rawBody?: Buffer; auth?: AuthInfo };

/** express.json's `verify`: keeps the (decoded) bytes, so the SDK gets them as sent instead of a re-serialisation. */
export function keepRawBody(request: IncomingMessage, _response: ServerResponse, raw: Buffer): void {
  (request as RawBodied).rawBody = raw;
}

/**
 * The request as the SDK's Node adapter reads it: the body from the bytes express.json already read (re-serialising
 * the parsed value, as the adapter does with a `parsedBody`, costs time and overflows the stack on deeply nested
 * input the executor should refuse with a clear error).
 */
function nodeRequest(request: IncomingMessage, withBody = true): NodeIncomingMessageLike {
  const { rawBody, auth } = request as RawBodied;
  const { 'content-length': _length, 'content-encoding': _encoding, 'transfer-encoding': _chunked, ...headers } = request.headers;
  return {
    ...(request.method !== undefined ? { method: request.method } : {}),
    ...(request.url !== undefined ? { url: request.url } : {}),
    headers,
    ...(auth ? { auth } : {}),
    async *[Symbol.asyncIterator]() {
      if (withBody && rawBody && rawBody.length > 0) yield rawBody;
    },
  };
}

/**
 * Whether a request speaks 2026-07-28 (a `_meta` envelope), by the SDK's own classification, so the route taken
 * here never disagrees with `createMcpHandler`. GET and DELETE are 2025-era session operations.
 */
export async function isModernRequest(request: IncomingMessage, body: unknown): Promise<boolean> {
  if (request.method !== 'POST') return false;
  // The plain cases answered here (the SDK's check builds a web Request, ~0.1 ms): a message with the
  // envelope's protocol version is modern; no envelope key anywhere and no 2026 header is 2025-era.
  const claims = envelopeClaims(body);
  if (claims === 'version') return true;
  const header = request.headers['mcp-protocol-version'];
  if (claims === 'none' && !(typeof header === 'string' && header >= '2026')) return false;
  return !(await isLegacyRequest(await toWebRequest(nodeRequest(request, false)), body));
}

const ENVELOPE_PREFIX = 'io.modelcontextprotocol/';
const VERSION_KEY = `${ENVELOPE_PREFIX}protocolVersion`;

/** What the messages' `params._meta` claim: the envelope's protocol version, some other envelope key, or nothing. */
function envelopeClaims(body: unknown): 'version' | 'other' | 'none' {
  let claims: 'version' | 'other' | 'none' = 'none';
  for (const message of Array.isArray(body) ? body : [body]) {
    const meta = (message as { params?: { _meta?: unknown } } | null)?.params?._meta;
    if (typeof meta !== 'object' || meta === null) continue;
    if (typeof (meta as Record<string, unknown>)[VERSION_KEY] === 'string' && !Array.isArray(body)) return 'version';
    if (Object.keys(meta).some((key) => key.startsWith(ENVELOPE_PREFIX))) claims = 'other';
  }
  return claims;
}

/** The SDK's 2026-07-28 entry (stateless by the revision's design), a fresh server per request. */
export function modernEntry(newServer: McpServerFactory, onerror: (error: Error) => void) {
  const handler = createMcpHandler(newServer, { legacy: 'reject', onerror });
  return { serve: serveWith(handler, onerror), close: () => handler.close() };
}

/** Serves Node requests with an SDK fetch-shaped handler, handing it the parsed body so it is not parsed twice. */
export function serveWith(handler: FetchLikeMcpHandler, onerror: (error: Error) => void) {
  return (request: IncomingMessage, response: ServerResponse, body: unknown): Promise<void> =>
    toNodeHandler(
      // Object.assign, not a spread then another (slow on Node 20; docs/performance.md).
      { fetch: (web, options) => handler.fetch(web, Object.assign({}, options, body !== undefined ? { parsedBody: body } : undefined)) },
      { onerror },
    )(nodeRequest(request, body === undefined), response);
}

/** Counts POSTs still being answered, so a stop can wait for tool calls in flight (bounded by its timeout). */
export function postsInFlight() {
  let posts = 0;
  let onNone: (() => void) | undefined;
  return {
    /** `onClose`: more to do when the response closes, in the same listener. */
    track(response: ServerResponse, onClose?: () => void): void {
      posts += 1;
      response.on('close', () => {
        onClose?.();
        if (--posts === 0) onNone?.();
      });
    },
    finished(timeoutMs: number): Promise<void> {
      if (posts === 0 || timeoutMs <= 0) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        onNone = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
  };
}
