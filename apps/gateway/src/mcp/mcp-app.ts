import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler, type Response } from 'express';
import type { Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import type { AuthInfo } from '@modelcontextprotocol/server';
import { clientIdOf, identifyClient, identityOf } from '../auth/client-identity.ts';
import { type InboundKeys, WWW_AUTHENTICATE } from '../auth/inbound-keys.ts';
import { isUndecodableBody, type RequestError } from '../request-errors.ts';
import { hostGuard } from '../hosting/host-guard.ts';
import { chargeEachMessage, inboundRateLimit as limitInbound } from '../limits/inbound-rate-limit.ts';
import { JSON_RPC, sendJsonRpcError } from './json-rpc-error.ts';
import { keepRawBody, type McpTransportHandler } from './transport-handler.ts';
import { traceHttpRequests } from '../observability/tracing.ts';

export const MCP_PATH = '/mcp';

export interface McpAppParts {
  readonly transport: McpTransportHandler;
  /** Host names served (DNS-rebinding protection); undefined accepts any. */
  readonly allowedHosts: ReadonlySet<string> | undefined;
  readonly inboundKeys: InboundKeys;
  readonly bodyLimitBytes: number;
  /** JSON-RPC messages per minute per client key (per address without a valid key); 0 turns it off. */
  readonly inboundRateLimit: number;
  /** The inbound budget store, shared with the REST front door (one budget per client). */
  readonly inboundBudget: Store;
  /** Express `trust proxy` (TRUST_PROXY), for the address of clients without a key. */
  readonly trustProxy: number;
  readonly logger: Logger;
}

/** The MCP listener's HTTP layer: guards, then `/mcp` to the transport; every refusal is a JSON-RPC error. */
export function createMcpApp({
  transport,
  allowedHosts,
  inboundKeys,
  bodyLimitBytes,
  inboundRateLimit,
  inboundBudget,
  trustProxy,
  logger,
}: McpAppParts): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', trustProxy);
  const tracing = traceHttpRequests();
  if (tracing) app.use(tracing);
  // Before the key check: requests without a valid key are limited per address, so failed attempts are too.
  const limit =
    inboundRateLimit > 0
      ? limitInbound({ perMinute: inboundRateLimit, store: inboundBudget, refuse: rateLimited(inboundRateLimit), logger })
      : undefined;
  // The guards run for every path, in this order, as one middleware: each router layer costs every request a
  // path match and a closure, and these apply everywhere anyway.
  app.use(
    inSequence([
      hostGuard({ allowed: allowedHosts, refuse: hostRefused }),
      identifyClient(inboundKeys),
      ...(limit ? [limit] : []),
      ...(inboundKeys.enabled ? [requireKey(inboundKeys)] : []),
    ]),
  );

  const allow = transport.methods.join(', ');
  const acceptable: RequestHandler = (request, response, next) => {
    if (!transport.methods.includes(request.method)) {
      return sendJsonRpcError(
        response,
        405,
        JSON_RPC.serverError,
        `Method not allowed: ${request.method} ${MCP_PATH}. ${transport.methodHint}`,
        { allow },
      );
    }
    if (request.method === 'POST' && !request.is('application/json')) {
      const type = request.get('content-type');
      return sendJsonRpcError(
        response,
        415,
        JSON_RPC.serverError,
        `Unsupported media type: send JSON-RPC as "Content-Type: application/json" (got ${type ? JSON.stringify(type) : 'no content type'}).`,
      );
    }
    next();
  };
  const emptyBody: RequestHandler = (request, response, next) => {
    const length = request.headers['content-length'];
    const hasBody = request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
    if (hasBody) return next();
    sendJsonRpcError(response, 400, JSON_RPC.invalidRequest, 'Invalid request: the body is empty; send a JSON-RPC message.');
  };
  const toTransport: RequestHandler = (request, response, next) => {
    const clientId = clientIdOf(request);
    // The SDK transport hands `req.auth` to tool handlers as `extra.authInfo`: the client id (never a key), keyed or not.
    (request as typeof request & { auth?: AuthInfo }).auth ??= { token: clientId, clientId, scopes: [] };
    transport.handle(request, response, request.method === 'POST' ? request.body : undefined, clientId).catch(next);
  };
  // One route for the endpoint: its steps are matched against the path once.
  app
    .route(MCP_PATH)
    .all(acceptable)
    .post(
      emptyBody,
      express.json({ limit: bodyLimitBytes, type: 'application/json', verify: keepRawBody }),
      ...(limit ? [chargeEachMessage(limit)] : []),
    )
    .all(toTransport);

  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}

/** Runs the handlers one after the other as one middleware, as the router would run them as layers. */
function inSequence(handlers: readonly RequestHandler[]): RequestHandler {
  return (request, response, next) => {
    let index = 0;
    const step = (error?: unknown): void => {
      if (error !== undefined && error !== null) return next(error);
      const handler = handlers[index++];
      if (!handler) return next();
      try {
        const returned: unknown = handler(request, response, step);
        if (returned instanceof Promise) returned.catch(next);
      } catch (thrown) {
        next(thrown);
      }
    };
    step();
  };
}

function requireKey(keys: InboundKeys): RequestHandler {
  return (request, response, next) => {
    const identity = identityOf(keys, request, response);
    if (identity.ok) {
      // The SDK's node adapter hands `req.auth` to tool handlers as `ctx.http.authInfo`: the client id, never the key.
      (request as typeof request & { auth?: AuthInfo }).auth = { token: identity.clientId, clientId: identity.clientId, scopes: [] };
      return next();
    }
    sendJsonRpcError(
      response,
      401,
      JSON_RPC.serverError,
      identity.reason === 'missing'
        ? 'Unauthorized: this gateway requires an API key; send "Authorization: Bearer <key>" or "X-API-Key: <key>".'
        : 'Unauthorized: the API key is not valid for this gateway.',
      { 'www-authenticate': WWW_AUTHENTICATE },
    );
  };
}

function hostRefused(_request: Request, response: Response, detail: string): void {
  sendJsonRpcError(response, 403, JSON_RPC.serverError, `Forbidden: ${detail}`);
}

function rateLimited(perMinute: number) {
  return (_request: Request, response: Response, status: number, seconds: number): void =>
    sendJsonRpcError(
      response,
      status,
      JSON_RPC.serverError,
      `Too many requests: more than ${perMinute} per minute from this client, counting each JSON-RPC message of a batch and REST requests with the same key (INBOUND_RATE_LIMIT). Retry after ${seconds} s.`,
    );
}

const notFound: RequestHandler = (request, response) => {
  sendJsonRpcError(response, 404, JSON_RPC.serverError, `Not found: ${request.method} ${request.path}. The MCP endpoint is ${MCP_PATH}.`);
};

/** Replaces Express's HTML error page: body-parser failures and anything unexpected become JSON-RPC errors. */
function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: RequestError & { limit?: number }, _request, response, _next) => {
    switch (error.type) {
      case 'entity.parse.failed':
        return sendJsonRpcError(response, 400, JSON_RPC.parseError, 'Parse error: the body is not valid JSON.');
      case 'entity.too.large':
        return sendJsonRpcError(
          response,
          413,
          JSON_RPC.invalidRequest,
          `Request too large: the body is over the ${error.limit ?? 'configured'} bytes this gateway accepts (BODY_LIMIT).`,
        );
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return sendJsonRpcError(response, 415, JSON_RPC.serverError, 'Unsupported media type: send UTF-8 JSON without a content encoding.');
      case 'request.aborted':
      case 'request.size.invalid':
        return sendJsonRpcError(response, 400, JSON_RPC.invalidRequest, 'Invalid request: the body was incomplete.');
      default:
        if (isUndecodableBody(error)) {
          return sendJsonRpcError(
            response,
            400,
            JSON_RPC.parseError,
            'Parse error: the body does not decode as its Content-Encoding says; send it compressed correctly, or uncompressed.',
          );
        }
        logger.error({ err: error }, 'mcp request failed');
        return sendJsonRpcError(
          response,
          500,
          JSON_RPC.internalError,
          'Internal error: the gateway failed to handle this request. It has been logged.',
        );
    }
  };
}
