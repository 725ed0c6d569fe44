import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';

export interface InboundRateLimitOptions {
  /** Requests per minute per client. */
  readonly perMinute: number;
  /** The caller's client id when it presented a key; otherwise the limit is per address. */
  readonly clientIdOf: (request: Request, response: Response) => string | undefined;
  /** Writes the front door's own refusal (problem+json on REST, a JSON-RPC error on MCP); `Retry-After` is already set. */
  readonly refuse: (request: Request, response: Response, status: number, retryAfterSeconds: number) => void;
}

/** INBOUND_RATE_LIMIT for any front door: express-rate-limit with IETF RateLimit headers and Retry-After. */
export function inboundRateLimit({ perMinute, clientIdOf, refuse }: InboundRateLimitOptions): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // Each front door mounts one limiter, so a request is never counted twice; this check's bookkeeping
    // (a WeakMap entry, a Map and an array per request) is pure cost on every call.
    validate: { singleCount: false },
    keyGenerator: (request, response) => clientIdOf(request, response) ?? ipKeyGenerator(request.ip ?? 'unknown'),
    handler: (request, response, _next, options) => {
      const resetTime = (request as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const seconds = resetTime ? Math.max(1, Math.ceil((resetTime.getTime() - Date.now()) / 1000)) : 60;
      response.setHeader('Retry-After', String(seconds));
      refuse(request, response, options.statusCode, seconds);
    },
  });
}
