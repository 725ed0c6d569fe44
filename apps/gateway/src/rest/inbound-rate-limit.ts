import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { sendProblem } from './problem.ts';

/** INBOUND_RATE_LIMIT requests per minute per client key, per address when anonymous. */
export function inboundRateLimit(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (request, response) => (response.locals.clientId as string | undefined) ?? ipKeyGenerator(request.ip ?? 'unknown'),
    handler: (request, response, _next, options) => {
      const resetTime = (request as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const seconds = resetTime ? Math.max(1, Math.ceil((resetTime.getTime() - Date.now()) / 1000)) : 60;
      response.setHeader('Retry-After', String(seconds));
      sendProblem(response, {
        type: 'rate-limited',
        title: 'Too many requests',
        status: options.statusCode,
        detail: `This client sent more than ${perMinute} requests in a minute (INBOUND_RATE_LIMIT). Retry after ${seconds} s.`,
        instance: request.originalUrl,
      });
    },
  });
}
