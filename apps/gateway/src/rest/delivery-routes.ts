import type { IRouter, Request, RequestHandler, Response } from 'express';
import { type BatchLimits, readBatchBody, UnreadableItem } from './batch-body.ts';
import type { DeliveryService } from '../delivery/delivery-service.ts';
import { DELIVERY_STATUSES, type DeliveryStatus, DeliveryStoreUnavailableError, InvalidCursorError } from '../delivery/delivery-store.ts';
import type { Dispatch } from '../dispatch.ts';
import type { LoadedOperation } from '../plugins/plugin-registry.ts';
import { clientIdOf } from '../auth/client-identity.ts';
import { sendFailure, sendProblem } from './problem.ts';

export const DELIVERIES_PATH = '/v1/deliveries';
const NDJSON = 'application/x-ndjson';
const JSON_TYPES = ['application/json', 'application/*+json'];
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;
/** Bytes of one batch item (an NDJSON line, an array element), at most BODY_LIMIT. */
const MAX_ITEM_BYTES = 64 * 1024;

/** `POST <batch path>`: `{"<items>": [...]}` as JSON, or one item per line as NDJSON; each item queued or rejected on its own. */
export function mountBatchRoute(router: IRouter, entry: LoadedOperation, dispatch: Dispatch, bodyLimitBytes: number): string | undefined {
  const batch = entry.operation.delivery?.batch;
  if (!batch?.rest) return undefined;
  const { itemsName, maxItems } = batch;
  const requireType: RequestHandler = (request, response, next) => {
    if (request.is([...JSON_TYPES, NDJSON])) return next();
    sendProblem(response, {
      type: 'unsupported-media-type',
      title: 'Unsupported media type',
      status: 415,
      detail: `Send {"${itemsName}": [...]} as "Content-Type: application/json", or one item per line as "Content-Type: ${NDJSON}".`,
      instance: request.originalUrl,
    });
  };
  const limits: BatchLimits = { maxItems, maxItemBytes: Math.min(MAX_ITEM_BYTES, bodyLimitBytes), maxBodyBytes: bodyLimitBytes };
  router.post(batch.rest.path, requireType, async (request, response) => {
    const ndjson = request.is(NDJSON) === NDJSON;
    const body = await readBatchBody(request, ndjson ? 'ndjson' : 'json', itemsName, limits);
    if (!body.ok) {
      // Refused before the body was read to its end: the rest is dropped and this connection not reused.
      if (!request.complete) response.setHeader('Connection', 'close');
      return sendProblem(response, {
        type: body.type,
        title: body.title,
        status: body.status,
        detail: body.detail,
        instance: request.originalUrl,
        ...(body.pointer !== undefined ? { errors: [{ pointer: body.pointer, detail: body.detail }] } : {}),
      });
    }
    const { items } = body;
    const idempotencyKey = request.get('idempotency-key');
    const unreadable = new Map<number, string>();
    for (const [index, item] of items.entries()) if (item instanceof UnreadableItem) unreadable.set(index, item.detail);
    const call = {
      pluginId: entry.plugin.id,
      operationId: entry.operation.id,
      requestId: response.locals.requestId as string,
      clientId: clientIdOf(request),
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    };
    const result = await dispatch.batch(
      call,
      items.map((item) => (item instanceof UnreadableItem ? null : item)),
      { maxItems, unreadable },
    );
    if (result.replayed) response.setHeader('Idempotent-Replayed', 'true');
    if (!result.ok) {
      // Input pointers of a batch name the item: `/events/3/eventName` (JSON) or `/3/eventName` (NDJSON lines, from 0).
      const prefix = ndjson ? '' : `/${itemsName}`;
      const failure = result.failure.problems
        ? { ...result.failure, problems: result.failure.problems.map((p) => ({ ...p, pointer: `/body${prefix}${p.pointer}` })) }
        : result.failure;
      return sendFailure(response, failure, request.originalUrl);
    }
    response.status(202).json(result.body);
  });
  return batch.rest.path;
}

/** Status, listing, retry and discard of the caller's own deliveries; another client's id is 404. */
export function mountDeliveryRoutes(
  router: IRouter,
  deliveries: DeliveryService,
): ReadonlyArray<readonly [path: string, methods: readonly string[]]> {
  const notFound = (request: Request, response: Response, id: string) =>
    sendProblem(response, {
      type: 'not-found',
      title: 'Delivery not found',
      status: 404,
      detail: `No delivery ${JSON.stringify(id)} for this client (deliveries are visible only to the client that sent them).`,
      instance: request.originalUrl,
    });
  router.get(
    DELIVERIES_PATH,
    whileStoreAvailable(async (request, response) => {
      const { status, limit, cursor } = request.query;
      if (status !== undefined && !DELIVERY_STATUSES.includes(status as DeliveryStatus)) {
        return invalidQuery(request, response, 'status', `must be one of ${DELIVERY_STATUSES.join(', ')}`);
      }
      const pageSize = limit === undefined ? DEFAULT_PAGE : Number(limit);
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE)
        return invalidQuery(request, response, 'limit', `must be an integer from 1 to ${MAX_PAGE}`);
      if (cursor !== undefined && typeof cursor !== 'string') return invalidQuery(request, response, 'cursor', 'must be one string');
      try {
        const page = await deliveries.list(clientIdOf(request), {
          limit: pageSize,
          ...(status ? { status: status as DeliveryStatus } : {}),
          ...(cursor ? { cursor } : {}),
        });
        response.json(page);
      } catch (error) {
        if (error instanceof InvalidCursorError)
          return invalidQuery(request, response, 'cursor', 'is not a cursor this gateway handed out; start again without it');
        throw error;
      }
    }),
  );
  router.get(
    `${DELIVERIES_PATH}/:id`,
    whileStoreAvailable(async (request, response) => {
      const id = String(request.params.id);
      const delivery = await deliveries.get(id, clientIdOf(request));
      if (!delivery) return notFound(request, response, id);
      response.json(delivery);
    }),
  );
  router.post(
    `${DELIVERIES_PATH}/:id/retry`,
    whileStoreAvailable(async (request, response) => {
      const id = String(request.params.id);
      const clientId = clientIdOf(request);
      const retried = await deliveries.retry(id, clientId);
      if (retried.outcome === 'retried')
        return void response
          .status(202)
          .setHeader('Location', `${DELIVERIES_PATH}/${encodeURIComponent(id)}`)
          .json(retried.delivery);
      if (retried.outcome === 'refused') return sendFailure(response, retried.failure, request.originalUrl);
      const current = await deliveries.get(id, clientId);
      if (!current) return notFound(request, response, id);
      sendProblem(response, {
        type: 'delivery-not-dead',
        title: 'Only a dead delivery can be retried',
        status: 409,
        detail: `Delivery ${id} is ${current.status}; only dead deliveries are retried by hand (queued ones are retried by the gateway).`,
        instance: request.originalUrl,
      });
    }),
  );
  router.delete(
    `${DELIVERIES_PATH}/:id`,
    whileStoreAvailable(async (request, response) => {
      const id = String(request.params.id);
      const outcome = await deliveries.discard(id, clientIdOf(request));
      if (outcome === 'discarded') return void response.status(204).end();
      if (outcome === 'not-found') return notFound(request, response, id);
      sendProblem(response, {
        type: 'delivery-busy',
        title: 'Delivery cannot be discarded',
        status: 409,
        detail: `Delivery ${id} is being delivered or already delivered; only queued or dead deliveries can be discarded.`,
        instance: request.originalUrl,
      });
    }),
  );
  return [
    [DELIVERIES_PATH, ['GET']],
    [`${DELIVERIES_PATH}/:id`, ['GET', 'DELETE']],
    [`${DELIVERIES_PATH}/:id/retry`, ['POST']],
  ];
}

/** A store that cannot be reached (Redis down) is a 503 the client can retry, not a 500. */
function whileStoreAvailable(handler: (request: Request, response: Response) => Promise<void>): RequestHandler {
  return async (request, response, next) => {
    try {
      await handler(request, response);
    } catch (error) {
      if (!(error instanceof DeliveryStoreUnavailableError)) return next(error);
      response.setHeader('Retry-After', '5');
      sendProblem(response, {
        type: 'delivery-unavailable',
        title: 'Delivery queue unavailable',
        status: 503,
        detail: 'The delivery queue cannot be reached right now. Retry later.',
        instance: request.originalUrl,
      });
    }
  };
}

function invalidQuery(request: Request, response: Response, name: string, detail: string): void {
  sendProblem(response, {
    type: 'invalid-input',
    title: 'Invalid query parameter',
    status: 400,
    detail: `Query parameter "${name}" ${detail}.`,
    instance: request.originalUrl,
    errors: [{ pointer: `?${name}`, detail }],
  });
}
