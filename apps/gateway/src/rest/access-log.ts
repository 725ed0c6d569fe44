import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.ts';

/** One log line and one metrics sample per REST request, written when the answer is finished. */
export function accessLog(logger: Logger, metrics: Metrics): RequestHandler {
  return (request, response, next) => {
    const started = performance.now();
    response.once('finish', () => {
      const seconds = (performance.now() - started) / 1000;
      const route = (request.route?.path as string | undefined) ?? (response.statusCode === 404 ? 'unmatched' : request.path);
      const labels = { route, method: request.method, status: String(response.statusCode) };
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
        },
        'request',
      );
    });
    next();
  };
}
