import type { FrontDoorServices } from '../container.ts';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import { mountOpenApi } from '../openapi/openapi-router.ts';
import type { InboundSecurity } from '../openapi/types.ts';
import { securityHeaders } from '../openapi/security-headers.ts';
import type { Lifecycle } from '../ops/lifecycle.ts';
import { mountMetrics, mountProbes } from '../ops/ops-routes.ts';
import { identifyClient } from '../auth/client-identity.ts';
import { allowedHostnames, hostGuard } from '../hosting/host-guard.ts';
import cors from 'cors';
import { expressPath, mountOperation } from './operation-route.ts';
import { mountLocalOperation } from './local-route.ts';
import { gatewayOperations } from '../gateway-plugin/gateway-operations.ts';
import type { DeliveryService } from '../delivery/delivery-service.ts';
import { Dispatch } from '../dispatch.ts';
import { isUndecodableBody, isUndecodablePath, type RequestError } from '../request-errors.ts';
import { sendProblem } from './problem.ts';
import { requestId } from './request-id.ts';
import { accessLog } from './access-log.ts';
import { traceHttpRequests, traceLogFields, traceScopeOf } from '../observability/tracing.ts';
import { inboundRateLimit } from '../limits/inbound-rate-limit.ts';
import { requireInboundKey } from './inbound-auth.ts';
import { mountSandboxReads } from './sandbox-routes.ts';
import { mountConsole } from './console-page.ts';
import { mountGatewayInfo } from './gateway-route.ts';

export interface RestAppParts extends FrontDoorServices {
  /** The delivery queue, when a loaded operation opts in to queued delivery. */
  readonly deliveries?: DeliveryService | undefined;
  /** The shared store (Redis), when REDIS_URL is set: readiness follows its connection. */
  readonly sharedStore?: { readonly healthy: boolean; readonly where: string } | undefined;
  /** The MCP endpoint once it listens, for `GET /v1/gateway`. */
  readonly mcpUrl?: () => string | undefined;
}

/**
 * The REST front door: routes from descriptors, problem+json for every error. Every route is mounted on the
 * app itself: a nested Router that matches nothing hands the request on through setImmediate, a turn of the
 * event loop per router on every API call.
 */
export function createRestApp({
  config,
  registry,
  executor,
  logger,
  metrics,
  lifecycle,
  inboundKeys,
  inboundBudget,
  deliveries,
  sharedStore,
  mcpUrl = () => undefined,
}: RestAppParts): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(securityHeaders());
  app.set('trust proxy', config.trustProxy);
  app.use(requestId);
  const tracing = traceHttpRequests();
  if (tracing) app.use(tracing);
  app.use(accessLog(logger, metrics));
  app.use(closeWhileDraining(lifecycle));
  if (config.corsOrigins.length > 0) app.use(cors({ origin: [...config.corsOrigins], exposedHeaders: EXPOSED_HEADERS, maxAge: 600 }));
  mountProbes(app, {
    registry,
    lifecycle,
    pausedDeliveries: deliveries ? () => deliveries.pausedPlugins : undefined,
    deliveryStore: deliveries ? () => deliveries.storeCondition : undefined,
    sharedStore,
  });
  app.use(
    hostGuard({ allowed: allowedHostnames(config.host, config.allowedHosts), extraOrigins: config.corsOrigins, refuse: hostRefused }),
  );
  app.use(identifyClient(inboundKeys));
  const guard = inboundKeys.enabled ? requireInboundKey(inboundKeys) : undefined;
  // Before the key check: requests without a valid key are limited per address, so failed attempts are too.
  const limit =
    config.inboundRateLimit > 0
      ? inboundRateLimit({ perMinute: config.inboundRateLimit, store: inboundBudget, refuse: rateLimited(config.inboundRateLimit), logger })
      : undefined;
  mountMetrics(app, { metrics, guards: [limit, config.metricsPublic ? undefined : guard].filter((handler) => handler !== undefined) });
  // API documentation, before the guard: the document declares the inbound security schemes when keys are on.
  const dispatch = new Dispatch({ executor, deliveries, mode: config.delivery.mode, operations: registry });
  const localOperations = gatewayOperations({
    deliveries,
    dispatch,
    operations: registry.operations,
    bodyLimitBytes: config.bodyLimitBytes,
  });
  mountOpenApi(app, {
    source: registry,
    trustForwardedHeaders: config.trustProxy > 0,
    options: {
      bodyLimitBytes: config.bodyLimitBytes,
      gatewayInfo: true,
      ...(inboundKeys.enabled ? { security: INBOUND_SECURITY } : {}),
      ...(deliveries ? { deliveries: { queueByDefault: config.delivery.mode === 'queue' }, localOperations } : {}),
    },
  });

  mountConsole(app);

  if (limit) app.use(limit);
  // Before the key check: it tells the console (and any program) whether a key is needed; it holds no client's data.
  mountGatewayInfo(app, {
    registry,
    lifecycle,
    sharedStore,
    deliveryStore: deliveries ? () => deliveries.storeCondition : undefined,
    mcpUrl,
    pausedDeliveries: () => deliveries?.pausedPlugins ?? [],
    inboundKeys: inboundKeys.enabled,
    deliveries: deliveries !== undefined,
    localOperations,
  });
  if (guard) app.use(guard);
  const methodsByPath = new Map<string, Set<string>>();
  for (const entry of registry.operations) {
    if (!entry.operation.rest) continue;
    mountOperation(app, entry, dispatch, config.bodyLimitBytes);
    const path = expressPath(entry.operation.rest.path);
    methodsByPath.set(path, (methodsByPath.get(path) ?? new Set()).add(entry.operation.rest.method));
  }
  for (const operation of localOperations) {
    if (!operation.rest) continue;
    mountLocalOperation(app, operation, config.bodyLimitBytes);
    const path = expressPath(operation.rest.path);
    methodsByPath.set(path, (methodsByPath.get(path) ?? new Set()).add(operation.rest.method));
  }
  mountSandboxReads(app, registry, methodsByPath);

  for (const [path, methods] of methodsByPath) app.all(path, methodNotAllowed([...methods]));
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}

/** The inbound auth schemes as the OpenAPI document declares them (Swagger UI's Authorize button uses them). */
const INBOUND_SECURITY: InboundSecurity = {
  schemes: {
    apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'A gateway API key (GATEWAY_API_KEYS).' },
    bearer: { type: 'http', scheme: 'bearer', description: 'The same gateway API key as a bearer token.' },
  },
  requirements: [{ apiKey: [] }, { bearer: [] }],
};

const EXPOSED_HEADERS = ['X-Request-Id', 'X-Trace-Id', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'Idempotent-Replayed'];

function hostRefused(request: Request, response: Response, detail: string): void {
  sendProblem(response, { type: 'host-not-allowed', title: 'Forbidden', status: 403, detail, instance: request.originalUrl });
}

function rateLimited(perMinute: number) {
  return (request: Request, response: Response, status: number, seconds: number): void =>
    sendProblem(response, {
      type: 'rate-limited',
      title: 'Too many requests',
      status,
      detail: `This client (its API key, or its address without a valid key) sent more than ${perMinute} requests in a minute (INBOUND_RATE_LIMIT). Retry after ${seconds} s.`,
      instance: request.originalUrl,
    });
}

/** While draining, answers ask clients to reconnect elsewhere instead of reusing this connection. */
function closeWhileDraining(lifecycle: Lifecycle): RequestHandler {
  return (_request, response, next) => {
    if (lifecycle.draining) response.setHeader('Connection', 'close');
    next();
  };
}

function methodNotAllowed(methods: string[]): RequestHandler {
  const allow = methods.join(', ');
  return (request, response) => {
    response.setHeader('Allow', allow);
    sendProblem(response, {
      type: 'method-not-allowed',
      title: 'Method not allowed',
      status: 405,
      detail: `${request.method} is not supported on ${request.path}; use ${allow}.`,
      instance: request.originalUrl,
    });
  };
}

const notFound: RequestHandler = (request, response) => {
  sendProblem(response, {
    type: 'not-found',
    title: 'Not found',
    status: 404,
    detail: `No route ${request.method} ${request.path}.`,
    instance: request.originalUrl,
  });
};

/** Replaces Express's and body-parser's default error pages: no stack, no library internals. */
function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: RequestError & { message?: string; limit?: number }, request, response, _next) => {
    const instance = request.originalUrl;
    switch (error.type) {
      case 'entity.parse.failed':
        return sendProblem(response, {
          type: 'malformed-json',
          title: 'Malformed JSON',
          status: 400,
          detail: `The request body is not valid JSON${error.message ? ` (${error.message.replace(/^Unexpected token.*?, /, '')})` : ''}.`,
          instance,
        });
      case 'entity.too.large':
        return sendProblem(response, {
          type: 'payload-too-large',
          title: 'Payload too large',
          status: 413,
          detail: `The request body is larger than the ${error.limit ?? 'configured'} bytes this gateway accepts (BODY_LIMIT).`,
          instance,
        });
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return sendProblem(response, {
          type: 'unsupported-media-type',
          title: 'Unsupported media type',
          status: 415,
          detail: 'Send the body as UTF-8 JSON without a content encoding.',
          instance,
        });
      case 'request.aborted':
      case 'request.size.invalid':
        return sendProblem(response, {
          type: 'bad-request',
          title: 'Bad request',
          status: 400,
          detail: 'The request body was incomplete.',
          instance,
        });
      default:
        if (isUndecodableBody(error)) {
          return sendProblem(response, {
            type: 'malformed-body',
            title: 'Malformed body',
            status: 400,
            detail: `The request body does not decode as its Content-Encoding (${request.get('content-encoding')}) says. Send it compressed correctly, or uncompressed.`,
            instance,
          });
        }
        if (isUndecodablePath(error)) {
          return sendProblem(response, {
            type: 'bad-request',
            title: 'Bad request',
            status: 400,
            detail:
              'The request path has a malformed percent-encoding: "%" must start a UTF-8 byte written as two hex digits (write "%25" for "%" itself).',
            instance,
          });
        }
        logger.error({ err: error, requestId: response.locals.requestId, ...traceLogFields(traceScopeOf(response)) }, 'unhandled error');
        if (response.headersSent) return void response.destroy();
        return sendProblem(response, {
          type: 'internal-error',
          title: 'Internal error',
          status: 500,
          detail: 'The gateway failed to handle this request. It has been logged with the request id.',
          instance,
        });
    }
  };
}
