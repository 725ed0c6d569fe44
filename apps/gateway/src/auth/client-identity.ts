import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import type { Identity, InboundKeys } from './inbound-keys.ts';

/**
 * Reads the inbound key once per request and refuses nothing: `locals.identity` for the key check,
 * `locals.clientId` when the key is valid. It runs before the rate limiter, so that a valid key is limited
 * per key and everything else (no key, a wrong key) per address.
 */
export function identifyClient(keys: InboundKeys): RequestHandler {
  return (request, response, next) => {
    const identity = keys.identify(request.headers);
    response.locals.identity = identity;
    if (identity.ok) response.locals.clientId = identity.clientId;
    next();
  };
}

/** The identity identifyClient found, or a fresh check when it did not run. */
export function identityOf(keys: InboundKeys, request: Request, response: Response): Identity {
  return (response.locals.identity as Identity | undefined) ?? keys.identify(request.headers);
}

/**
 * Who a request counts against (rate limit, MCP session caps and ownership): its valid key, else its address
 * (IPv6 grouped per /56, as express-rate-limit does; behind a proxy the address comes from TRUST_PROXY).
 */
export function clientOf(request: Request, response: Response): string {
  return (response.locals.clientId as string | undefined) ?? `address:${ipKeyGenerator(request.ip ?? 'unknown')}`;
}
