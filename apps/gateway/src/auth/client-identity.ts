import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import type { Identity, InboundKeys } from './inbound-keys.ts';

/** Each request's client id, set once by identifyClient. */
const clientIds = new WeakMap<Request, string>();

/**
 * Reads the inbound key once per request and refuses nothing: `locals.identity` for the key check, and the
 * request's one client id (clientIdOf). It runs before the rate limiter, so that a valid key is limited per key
 * and everything else (no key, a wrong key) per address.
 */
export function identifyClient(keys: InboundKeys): RequestHandler {
  return (request, response, next) => {
    if (keys.enabled) {
      const identity = keys.identify(request.headers);
      response.locals.identity = identity;
      if (identity.ok) {
        response.locals.clientId = identity.clientId;
        clientIds.set(request, identity.clientId);
        return next();
      }
    }
    clientIds.set(request, addressClientId(request));
    next();
  };
}

/** The identity identifyClient found, or a fresh check when it did not run. */
export function identityOf(keys: InboundKeys, request: Request, response: Response): Identity {
  return (response.locals.identity as Identity | undefined) ?? keys.identify(request.headers);
}

/**
 * Who a request is, for everything scoped per client on every door (rate limit, idempotency, deliveries, MCP
 * sessions): its valid inbound key's client id, else `address:<ip>` with IPv6 grouped per /56 as express-rate-limit
 * groups it (behind a proxy the address comes from TRUST_PROXY).
 */
export function clientIdOf(request: Request): string {
  return clientIds.get(request) ?? addressClientId(request);
}

function addressClientId(request: Request): string {
  return `address:${ipKeyGenerator(request.ip ?? 'unknown')}`;
}
