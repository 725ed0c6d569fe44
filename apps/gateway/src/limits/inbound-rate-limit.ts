import type { Request, RequestHandler, Response } from 'express';
import { MemoryStore, rateLimit, type Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import { clientIdOf } from '../auth/client-identity.ts';

/**
 * The one inbound budget store of a gateway instance, shared by the REST and MCP limiters so a client key has
 * one budget across both front doors. The seam for a shared store: any express-rate-limit `Store` (e.g. a Redis
 * one) can be returned here for several instances.
 */
export function createInboundBudgetStore(): Store {
  return new MemoryStore();
}

export interface InboundRateLimitOptions {
  /** Requests (JSON-RPC messages on MCP) per minute per client. */
  readonly perMinute: number;
  /** The instance's budget store (createInboundBudgetStore), the same for every front door. */
  readonly store: Store;
  /** Writes the front door's own refusal (problem+json on REST, a JSON-RPC error on MCP); `Retry-After` is already set. */
  readonly refuse: (request: Request, response: Response, status: number, retryAfterSeconds: number) => void;
  /** Where a store failure is reported: a shared store (Redis) that cannot be reached lets requests through, with a warning. */
  readonly logger?: Logger;
}

/**
 * INBOUND_RATE_LIMIT for any front door: express-rate-limit with IETF RateLimit headers and Retry-After, keyed by
 * clientIdOf (a valid key, else the address). Mounted before the key check, so failed key attempts are limited too.
 */
export function inboundRateLimit({ perMinute, store, refuse, logger }: InboundRateLimitOptions): RequestHandler {
  return rateLimit({
    // Losing the shared store must not take the gateway down with it: such requests go through unlimited, logged.
    passOnStoreError: true,
    ...(logger
      ? {
          logger: {
            error: (error: unknown) => logger.warn({ err: error }, 'inbound rate limit store unavailable: request let through unlimited'),
            warn: (error: unknown) => logger.warn({ err: error }, 'inbound rate limit'),
          },
        }
      : {}),
    windowMs: 60_000,
    limit: perMinute,
    store,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // singleCount: a JSON-RPC batch runs the limiter once per message on purpose (chargeEachMessage); and its
    // bookkeeping (a WeakMap entry, a Map and an array per request) is pure cost on every call.
    // unsharedStore: the REST and MCP limiters share one store on purpose: one budget per client.
    validate: { singleCount: false, unsharedStore: false },
    keyGenerator: (request) => clientIdOf(request),
    handler: (request, response, _next, options) => {
      const resetTime = (request as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const seconds = resetTime ? Math.max(1, Math.ceil((resetTime.getTime() - Date.now()) / 1000)) : 60;
      response.setHeader('Retry-After', String(seconds));
      refuse(request, response, options.statusCode, seconds);
    },
  });
}

/**
 * A JSON-RPC batch spends one unit per message (each can be a tool call): after the request's own unit, the
 * limiter runs once more for every further message, and the first one over the budget refuses the whole batch.
 */
export function chargeEachMessage(limiter: RequestHandler): RequestHandler {
  return (request, response, next) => {
    let further = Array.isArray(request.body) ? request.body.length - 1 : 0;
    const chargeNext = (error?: unknown): void => {
      if (error !== undefined) return next(error);
      if (further <= 0) return next();
      further -= 1;
      // The limiter appends its RateLimit pair on each run: one answer carries one pair, the latest count.
      response.removeHeader('RateLimit');
      response.removeHeader('RateLimit-Policy');
      void limiter(request, response, chargeNext);
    };
    chargeNext();
  };
}
