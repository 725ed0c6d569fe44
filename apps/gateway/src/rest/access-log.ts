import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.ts';
import { traceLogFields, traceScopeOf } from '../observability/tracing.ts';

/** Methods that get their own metric label; anything else is `other`. */
const LABELLED_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * One log line and one metrics sample per REST request, written when the answer is finished. Every metric label
 * comes from a bounded set: the matched route template (never the path a caller typed, which would grow the
 * registry without limit), `unmatched` for anything no route matched (404s, refusals before routing), a known
 * method or `other`, and the status.
 */
export function accessLog(logger: Logger, metrics: Metrics): RequestHandler {
  return (request, response, next) => {
    const started = performance.now();
    const finished = () => {
      const seconds = (performance.now() - started) / 1000;
      const template: unknown = request.route?.path;
      const route = template === undefined ? 'unmatched' : String(template);
      const labels = {
        route,
        method: LABELLED_METHODS.has(request.method) ? request.method : 'other',
        status: String(response.statusCode),
      };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, seconds);
      const { locals } = response;
      logger.info(
        {
          requestId: locals.requestId,
          method: request.method,
          route,
          path: request.path,
          status: response.statusCode,
          durationMs: Math.round(seconds * 1000),
          ...(locals.clientId ? { clientId: locals.clientId } : {}),
          ...(locals.upstreamStatus !== undefined ? { upstreamStatus: locals.upstreamStatus } : {}),
          ...(locals.upstreamAttempts !== undefined ? { attempts: locals.upstreamAttempts } : {}),
          ...traceLogFields(traceScopeOf(response)),
        },
        'request',
      );
    };
    response.once('finish', finished);
    next();
  };
}
