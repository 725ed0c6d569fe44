import express, { type IRouter, type Request, type RequestHandler, type Response } from 'express';
import type { DeliveryService } from '../delivery/delivery-service.ts';
import { DELIVERY_STATUSES, type DeliveryStatus, DeliveryStoreUnavailableError, InvalidCursorError } from '../delivery/delivery-store.ts';
import type { LoadedOperation } from '../plugins/plugin-registry.ts';
import { restClientId } from './operation-route.ts';
import { sendFailure, sendProblem } from './problem.ts';

export const DELIVERIES_PATH = '/v1/deliveries';
const NDJSON = 'application/x-ndjson';
const JSON_TYPES = ['application/json', 'application/*+json'];
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/** `POST <batch path>`: `{"<items>": [...]}` as JSON, or one item per line as NDJSON; each item queued or rejected on its own. */
export function mountBatchRoute(
  router: IRouter,
  entry: LoadedOperation,
  deliveries: DeliveryService,
  bodyLimitBytes: number,
): string | undefined {
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
  router.post(
    batch.rest.path,
    requireType,
    express.json({ limit: bodyLimitBytes, strict: false, type: JSON_TYPES }),
    express.text({ limit: bodyLimitBytes, type: NDJSON }),
    async (request, response) => {
      const items = request.is(NDJSON) ? readNdjson(String(request.body ?? '')) : readEnvelope(request.body, itemsName);
      if (typeof items === 'string') return invalidBatch(request, response, items, request.is(NDJSON) ? '' : `/${itemsName}`);
      if (items.length === 0) return invalidBatch(request, response, `The batch is empty: send 1 to ${maxItems} items.`, `/${itemsName}`);
      if (items.length > maxItems)
        return invalidBatch(
          request,
          response,
          `The batch has ${items.length} items; at most ${maxItems} are accepted at once.`,
          `/${itemsName}`,
        );
      const idempotencyKey = request.get('idempotency-key');
      const unreadable = new Map<number, string>();
      for (const [index, item] of items.entries()) if (item instanceof NdjsonLineError) unreadable.set(index, item.detail);
      const result = await deliveries.acceptBatch({
        pluginId: entry.plugin.id,
        operationId: entry.operation.id,
        items: items.map((item) => (item instanceof NdjsonLineError ? null : item)),
        unreadable,
        requestId: response.locals.requestId as string,
        clientId: restClientId(request, response),
        ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
      });
      if (result.replayed) response.setHeader('Idempotent-Replayed', 'true');
      if (!result.ok) {
        // Input pointers of a batch name the item: `/events/3/eventName` (JSON) or `/3/eventName` (NDJSON lines, from 0).
        const prefix = request.is(NDJSON) ? '' : `/${itemsName}`;
        const failure = result.failure.problems
          ? { ...result.failure, problems: result.failure.problems.map((p) => ({ ...p, pointer: `/body${prefix}${p.pointer}` })) }
          : result.failure;
        return sendFailure(response, failure, request.originalUrl);
      }
      response.status(202).json(result.body);
    },
  );
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
        const page = await deliveries.list(restClientId(request, response), {
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
      const delivery = await deliveries.get(id, restClientId(request, response));
      if (!delivery) return notFound(request, response, id);
      response.json(delivery);
    }),
  );
  router.post(
    `${DELIVERIES_PATH}/:id/retry`,
    whileStoreAvailable(async (request, response) => {
      const id = String(request.params.id);
      const clientId = restClientId(request, response);
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
      const outcome = await deliveries.discard(id, restClientId(request, response));
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

class NdjsonLineError {
  constructor(readonly detail: string) {}
}

function readEnvelope(body: unknown, itemsName: string): unknown[] | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return `The body must be an object {"${itemsName}": [...]}.`;
  const items = (body as Record<string, unknown>)[itemsName];
  if (!Array.isArray(items)) return `"${itemsName}" must be an array of items.`;
  const extra = Object.keys(body).filter((key) => key !== itemsName);
  if (extra.length > 0) return `Unknown property ${JSON.stringify(extra[0])}: the body holds only "${itemsName}".`;
  return items;
}

/** One JSON value per non-blank line; a line that is not JSON becomes that item's own error. */
function readNdjson(text: string): (unknown | NdjsonLineError)[] {
  const items: unknown[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      items.push(JSON.parse(line));
    } catch {
      items.push(new NdjsonLineError('this line is not valid JSON'));
    }
  }
  return items;
}

function invalidBatch(request: Request, response: Response, detail: string, pointer: string): void {
  sendProblem(response, {
    type: 'invalid-input',
    title: 'Invalid batch',
    status: 400,
    detail,
    instance: request.originalUrl,
    errors: [{ pointer, detail }],
  });
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
