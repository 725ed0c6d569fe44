import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { isInitializeRequest } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import { JSON_RPC, sendJsonRpcError } from './json-rpc-error.ts';
import type { McpServerFactory } from './mcp-server.ts';
import { isModernRequest, type McpTransportHandler, modernEntry, postsInFlight } from './transport-handler.ts';

export interface SessionOptions {
  /** A session with no request for this long is ended. */
  readonly idleMs?: number;
  /** New sessions are refused (503) above this many, all clients together. */
  readonly maxSessions?: number;
  /** New sessions are refused (429) for a client that already holds this many. */
  readonly maxSessionsPerClient?: number;
}

interface Session {
  readonly transport: NodeStreamableHTTPServerTransport;
  /** The client that opened it (key client id, or address); no other client can use it. */
  readonly owner: string;
  lastSeen: number;
  /** Requests (including GET notification streams) still open on this session. */
  open: number;
}

const DEFAULT_IDLE_MS = 30 * 60_000;
const DEFAULT_MAX_SESSIONS = 10_000;
const DEFAULT_MAX_SESSIONS_PER_CLIENT = 100;

/**
 * MCP_SESSIONS=true. 2026-07-28 requests (which have no sessions) go to the SDK's `createMcpHandler`, as in
 * stateless mode; 2025-era requests get stateful Streamable HTTP: `initialize` opens a session named by `Mcp-Session-Id`, which
 * every later request carries; GET opens the session's notification stream, DELETE ends it, an unknown id is 404.
 * A session belongs to the client that opened it: for any other client its id is unknown (404), so an id that
 * leaks is useless without the key. Session ids are never logged. Sessions live in this process: behind a load
 * balancer they need sticky routing.
 */
export function sessionTransports(newServer: McpServerFactory, logger: Logger, options: SessionOptions = {}): McpTransportHandler {
  const onerror = (error: Error) => logger.debug({ err: error }, 'mcp request refused or failed');
  const modern = modernEntry(newServer, onerror);
  const modernInFlight = postsInFlight();
  const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  const maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
  const maxSessionsPerClient = options.maxSessionsPerClient ?? DEFAULT_MAX_SESSIONS_PER_CLIENT;
  const sessions = new Map<string, Session>();
  /** Sessions per owner, counted from the moment an initialize is accepted (so concurrent ones cannot overshoot). */
  const held = new Map<string, number>();
  /** Accepted initializes whose session is not established yet. */
  let opening = 0;
  const release = (owner: string) => {
    const count = (held.get(owner) ?? 1) - 1;
    if (count > 0) held.set(owner, count);
    else held.delete(owner);
  };
  /** POSTs (messages, tool calls) still being answered, in every session; a stop waits for them. */
  let posts = 0;
  let onNoPosts: (() => void) | undefined;

  const track = (session: Session, response: ServerResponse, method: string | undefined) => {
    session.open += 1;
    session.lastSeen = Date.now();
    const isPost = method === 'POST';
    if (isPost) posts += 1;
    response.on('close', () => {
      session.open -= 1;
      session.lastSeen = Date.now();
      if (isPost && --posts === 0) onNoPosts?.();
    });
  };

  const postsFinished = (timeoutMs: number): Promise<void> =>
    posts === 0 || timeoutMs <= 0
      ? Promise.resolve()
      : new Promise((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          onNoPosts = () => {
            clearTimeout(timer);
            resolve();
          };
        });

  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const session of sessions.values()) {
        if (session.open > 0 || now - session.lastSeen < idleMs) continue;
        logger.info({ clientId: session.owner, sessions: sessions.size - 1 }, 'mcp session expired');
        void session.transport.close();
      }
    },
    Math.min(60_000, idleMs),
  );
  sweep.unref();

  return {
    methods: ['POST', 'GET', 'DELETE'],
    methodHint: 'Send JSON-RPC with POST, open the notification stream with GET, end the session with DELETE.',
    async handle(request, response, body, clientId) {
      if (await isModernRequest(request, body)) {
        modernInFlight.track(response);
        return modern.serve(request, response, body);
      }
      const id = request.headers['mcp-session-id'];
      if (typeof id === 'string' && id !== '') {
        const session = sessions.get(id);
        // Another client's session answers exactly as an unknown one: nothing tells that the id exists.
        if (!session || session.owner !== clientId) {
          return sendJsonRpcError(
            response,
            404,
            JSON_RPC.sessionNotFound,
            'Session not found: it was ended or has expired. Start a new one with an initialize request without Mcp-Session-Id.',
          );
        }
        track(session, response, request.method);
        return session.transport.handleRequest(request, response, body);
      }
      if (request.method !== 'POST' || !opensSession(body)) {
        return sendJsonRpcError(
          response,
          400,
          JSON_RPC.serverError,
          'Bad request: no Mcp-Session-Id header. Start a session with an initialize request (POST), then send its Mcp-Session-Id on every request.',
        );
      }
      if ((held.get(clientId) ?? 0) >= maxSessionsPerClient) {
        return sendJsonRpcError(
          response,
          429,
          JSON_RPC.serverError,
          `Too many open MCP sessions for this client (at most ${maxSessionsPerClient}, MCP_SESSIONS_PER_CLIENT); end unused sessions with DELETE, or reuse one.`,
        );
      }
      if (sessions.size + opening >= maxSessions) {
        return sendJsonRpcError(
          response,
          503,
          JSON_RPC.serverError,
          'Too many open MCP sessions; end unused sessions with DELETE or try again later.',
        );
      }
      held.set(clientId, (held.get(clientId) ?? 0) + 1);
      opening += 1;
      let established = false;
      let released = false;
      const server = newServer();
      const session: Session = {
        transport: new NodeStreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (sessionId) => {
            sessions.set(sessionId, session);
            established = true;
            opening -= 1;
            logger.info({ clientId, sessions: sessions.size }, 'mcp session started');
          },
          onsessionclosed: () => logger.info({ clientId }, 'mcp session ended by the client'),
        }),
        owner: clientId,
        lastSeen: Date.now(),
        open: 0,
      };
      session.transport.onclose = () => {
        if (session.transport.sessionId) sessions.delete(session.transport.sessionId);
        if (!released) {
          released = true;
          if (!established) opening -= 1;
          release(clientId);
        }
        void server.close();
      };
      track(session, response, request.method);
      response.on('close', () => {
        // An initialize that failed never became a session: nothing else will close it.
        if (!session.transport.sessionId) void session.transport.close();
      });
      await server.connect(session.transport);
      await session.transport.handleRequest(request, response, body);
    },
    async close(timeoutMs) {
      clearInterval(sweep);
      // Tool calls in flight finish first; the GET notification streams never end by themselves, so they are
      // closed with their sessions afterwards (which lets the listener's drain complete).
      await Promise.all([postsFinished(timeoutMs), modernInFlight.finished(timeoutMs)]);
      await modern.close();
      await Promise.all([...sessions.values()].map((session) => session.transport.close()));
      sessions.clear();
      held.clear();
    },
  };
}

function opensSession(body: unknown): boolean {
  return Array.isArray(body) ? body.some((message) => isInitializeRequest(message)) : isInitializeRequest(body);
}
