import type { JsonSchema, OperationFailure } from '@gateway/core';
import { DELIVERY_PAGE_SCHEMA, DELIVERY_SCHEMA } from '../delivery/delivery-schemas.ts';
import type { DeliveryService } from '../delivery/delivery-service.ts';
import { DELIVERY_STATUSES, type DeliveryFilter, DeliveryStoreUnavailableError, InvalidCursorError } from '../delivery/delivery-store.ts';
import type { LocalAnswer, LocalContext, LocalOperation, LocalRefusal } from './local-operation.ts';

export const DELIVERIES_PATH = '/v1/deliveries';
export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;
/** Ids one retry or discard may name. */
export const MAX_FILTER_IDS = 1000;
export const GET_DELIVERY_TOOL = 'gateway-get-delivery';

/** A queue that cannot take a new delivery: full, or its store refuses writes. */
export const QUEUE_FULL: Extract<LocalRefusal, object> = {
  description:
    'Service unavailable: the delivery queue is full (`DELIVERY_MAX_QUEUED`) or cannot take writes; nothing was queued. Wait `Retry-After` seconds and send it again.',
  example: {
    type: 'urn:gateway:problem:delivery-unavailable',
    title: 'Delivery queue unavailable',
    status: 503,
    detail: 'The delivery queue is full (100000 pending, DELIVERY_MAX_QUEUED 100000); nothing was queued. Retry later.',
    requestId: '3f1c9a52-7c1e-4f7e-9a7f-2d1b8f5e4c21',
  },
};

const ID = { type: 'string', minLength: 1, maxLength: 200, description: 'The delivery id.' };
const PLUGIN = { type: 'string', minLength: 1, maxLength: 100, description: 'Only deliveries of this plugin, e.g. `gainsight-px`.' };

const STATUS_COUNTS: JsonSchema = {
  type: 'object',
  properties: Object.fromEntries(DELIVERY_STATUSES.map((status) => [status, { type: 'integer', minimum: 0 }])),
  required: [...DELIVERY_STATUSES],
  additionalProperties: false,
};

export const DELIVERIES_SUMMARY_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'What this client holds in the queue now, by status and by plugin.',
  properties: {
    byStatus: STATUS_COUNTS,
    byPlugin: { type: 'object', additionalProperties: STATUS_COUNTS, description: 'The same counts per plugin id.' },
    oldestQueuedAgeMs: {
      anyOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }],
      description: 'How long the oldest queued delivery has waited, in milliseconds; null when none is queued.',
    },
    deliveredLastMinute: { type: 'integer', minimum: 0 },
    pausedPlugins: {
      type: 'array',
      items: { type: 'string' },
      description:
        'Plugins whose deliveries wait because their upstream’s breaker is open (unreachable, or refusing the gateway’s own credentials).',
    },
  },
  required: ['byStatus', 'byPlugin', 'oldestQueuedAgeMs', 'deliveredLastMinute', 'pausedPlugins'],
  additionalProperties: false,
};

/** The body of `POST /v1/deliveries/retry` and `/discard`, and the arguments of their tools. */
const FILTER_INPUT: JsonSchema = {
  type: 'object',
  description: 'Which of your deliveries: every field given must match; at least one field.',
  properties: {
    status: { type: 'string', enum: ['queued', 'dead'], description: 'Only deliveries in this status.' },
    plugin: PLUGIN,
    before: { type: 'string', format: 'date-time', description: 'Only deliveries accepted before this time (ISO 8601).' },
    ids: { type: 'array', minItems: 1, maxItems: MAX_FILTER_IDS, uniqueItems: true, items: ID, description: 'Only these deliveries.' },
  },
  minProperties: 1,
  additionalProperties: false,
};

const matchedSchema = (counted: 'retried' | 'discarded'): JsonSchema => ({
  type: 'object',
  properties: { matched: { type: 'integer', minimum: 0 }, [counted]: { type: 'integer', minimum: 0 } },
  required: ['matched', counted],
  additionalProperties: false,
});

const NOT_FOUND = 'Not found: no delivery with this id for this client (deliveries are visible only to the client that sent them).';
const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

/**
 * The built-in `gateway` plugin's delivery operations: status, listing, summary, retry and discard of the caller's
 * own deliveries (another client's id is 404). Each is one declaration; REST, OpenAPI and MCP are built from it.
 */
export function deliveryOperations(deliveries: DeliveryService): LocalOperation[] {
  const operations: LocalOperation[] = [
    {
      id: 'deliveriesSummary',
      title: 'Summarise your deliveries',
      description:
        'How many of your deliveries are queued, being delivered, delivered and dead, overall and per plugin; how long the oldest queued one has waited; how many were delivered in the last minute; and which plugins are paused.',
      input: { type: 'object', properties: {}, additionalProperties: false },
      output: { name: 'DeliveriesSummary', schema: DELIVERIES_SUMMARY_SCHEMA },
      rest: { method: 'GET', path: `${DELIVERIES_PATH}/summary` },
      mcp: { tool: 'gateway-deliveries-summary', title: 'Summarise queued deliveries', hints: READ },
      success: { status: 200, description: 'Your deliveries, counted.' },
      refusals: {},
      handle: async (_input, { clientId }) => {
        const summary = await deliveries.summary(clientId);
        const now = Date.now();
        return ok(200, {
          byStatus: summary.byStatus,
          byPlugin: summary.byPlugin,
          oldestQueuedAgeMs: summary.oldestQueuedAt === undefined ? null : Math.max(0, now - summary.oldestQueuedAt),
          deliveredLastMinute: summary.deliveredLastMinute,
          pausedPlugins: deliveries.pausedPlugins,
        });
      },
    },
    {
      id: 'listDeliveries',
      title: 'List your deliveries',
      description:
        'Your deliveries, oldest first, optionally by status (e.g. `dead` to see what needs attention) and plugin; page with `cursor`.',
      input: {
        type: 'object',
        properties: {
          status: { type: 'string', enum: [...DELIVERY_STATUSES], description: 'Only deliveries in this status.' },
          plugin: PLUGIN,
          limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE, description: `Page size, 1 to ${MAX_PAGE}.` },
          cursor: { type: 'string', minLength: 1, maxLength: 500, description: 'The `nextCursor` of the previous page.' },
        },
        additionalProperties: false,
      },
      parameters: { status: 'query', plugin: 'query', limit: 'query', cursor: 'query' },
      output: { name: 'DeliveryPage', schema: DELIVERY_PAGE_SCHEMA },
      rest: { method: 'GET', path: DELIVERIES_PATH },
      mcp: { tool: 'gateway-list-deliveries', title: 'List queued deliveries', hints: READ },
      success: { status: 200, description: 'A page of your deliveries.' },
      refusals: { 400: 'Bad request: an invalid `status`, `plugin`, `limit` or `cursor` (named in `errors`).' },
      handle: async (input, { clientId }) => {
        try {
          const page = await deliveries.list(clientId, {
            limit: (input.limit as number | undefined) ?? DEFAULT_PAGE,
            ...(input.status !== undefined ? { status: input.status as (typeof DELIVERY_STATUSES)[number] } : {}),
            ...(input.plugin !== undefined ? { pluginId: input.plugin as string } : {}),
            ...(input.cursor !== undefined ? { cursor: input.cursor as string } : {}),
          });
          return ok(200, page);
        } catch (error) {
          if (!(error instanceof InvalidCursorError)) throw error;
          return refuse({
            kind: 'invalid-input',
            status: 400,
            title: 'Invalid input',
            detail: '/cursor is not a cursor this gateway handed out to this client; start again without it.',
            problems: [{ pointer: '/cursor', message: 'is not a cursor this gateway handed out to this client; start again without it' }],
          });
        }
      },
    },
    {
      id: 'getDelivery',
      title: 'Get a delivery',
      description: 'Where one of your deliveries stands: status, attempts, the next attempt and the last error.',
      input: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: ID } },
      parameters: { id: 'path' },
      output: { name: 'Delivery', schema: DELIVERY_SCHEMA },
      rest: { method: 'GET', path: `${DELIVERIES_PATH}/{id}` },
      mcp: {
        tool: GET_DELIVERY_TOOL,
        title: 'Get a queued delivery',
        description:
          'Where a queued delivery stands (queued, delivering, delivered or dead), with its attempts and last error. Pass an id returned by a queueing tool; only deliveries this client queued are found.',
        hints: READ,
        byDefault: true,
      },
      success: { status: 200, description: 'The delivery.' },
      refusals: { 404: NOT_FOUND },
      handle: async (input, { clientId }) => {
        const delivery = await deliveries.get(input.id as string, clientId);
        return delivery ? ok(200, delivery) : notFound(input.id as string);
      },
    },
    {
      id: 'discardDelivery',
      title: 'Discard a delivery',
      description:
        'Removes a queued or dead delivery of yours: it will not be sent. A delivery being delivered or already delivered cannot be discarded (409).',
      input: { type: 'object', required: ['id'], properties: { id: ID }, additionalProperties: false },
      parameters: { id: 'path' },
      rest: { method: 'DELETE', path: `${DELIVERIES_PATH}/{id}` },
      success: { status: 204, description: 'Discarded.' },
      refusals: { 404: NOT_FOUND, 409: 'Conflict: the delivery is being delivered or already delivered.' },
      handle: async (input, { clientId }) => {
        const id = input.id as string;
        const outcome = await deliveries.discard(id, clientId);
        if (outcome === 'discarded') return ok(204);
        if (outcome === 'not-found') return notFound(id);
        return refuse({
          kind: 'delivery-busy',
          status: 409,
          title: 'Delivery cannot be discarded',
          detail: `Delivery ${id} is being delivered or already delivered; only queued or dead deliveries can be discarded.`,
        });
      },
    },
    {
      id: 'retryDelivery',
      title: 'Retry a dead delivery',
      description:
        'Queues a dead delivery of yours again, with a fresh retry window (`DELIVERY_RETRY_WINDOW`), if the queue caps allow it as they would a new one. Queued deliveries are retried by the gateway itself.',
      input: { type: 'object', required: ['id'], properties: { id: ID }, additionalProperties: false },
      parameters: { id: 'path' },
      output: { name: 'Delivery', schema: DELIVERY_SCHEMA },
      rest: { method: 'POST', path: `${DELIVERIES_PATH}/{id}/retry` },
      success: { status: 202, description: 'Queued again; `Location` is its status.', location: true },
      refusals: {
        404: NOT_FOUND,
        409: 'Conflict: the delivery is not dead.',
        429: 'Too many requests: over `INBOUND_RATE_LIMIT`, or this client’s share of the queue is full (`too-many-pending`; it stays dead).',
      },
      handle: async (input, { clientId }) => {
        const id = input.id as string;
        const retried = await deliveries.retry(id, clientId);
        if (retried.outcome === 'retried') return { ok: true, status: 202, body: retried.delivery, location: deliveryPath(id) };
        if (retried.outcome === 'refused') return refuse(retried.failure);
        const current = await deliveries.get(id, clientId);
        if (!current) return notFound(id);
        return refuse({
          kind: 'delivery-not-dead',
          status: 409,
          title: 'Only a dead delivery can be retried',
          detail: `Delivery ${id} is ${current.status}; only dead deliveries are retried by hand (queued ones are retried by the gateway).`,
        });
      },
    },
    {
      id: 'retryDeliveries',
      title: 'Retry dead deliveries',
      description:
        'Queues again each of your dead deliveries that match the filter, oldest first, each passing the queue caps as a new one would; stops at the first refused (the rest stay dead). `matched` counts the dead ones that matched.',
      input: FILTER_INPUT,
      output: { name: 'DeliveriesRetried', schema: matchedSchema('retried') },
      rest: { method: 'POST', path: `${DELIVERIES_PATH}/retry` },
      mcp: {
        tool: 'gateway-retry-deliveries',
        title: 'Retry dead deliveries',
        hints: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      },
      success: { status: 200, description: 'How many matched, and how many were queued again.' },
      refusals: { 400: 'Bad request: the filter is empty or invalid (named in `errors`).' },
      handle: async (input, { clientId }) => ok(200, await deliveries.retryMatching(clientId, { ...filterOf(input), status: 'dead' })),
    },
    {
      id: 'discardDeliveries',
      title: 'Discard deliveries',
      description: 'Removes each of your queued or dead deliveries that match the filter: they will not be sent.',
      input: FILTER_INPUT,
      output: { name: 'DeliveriesDiscarded', schema: matchedSchema('discarded') },
      rest: { method: 'POST', path: `${DELIVERIES_PATH}/discard` },
      mcp: {
        tool: 'gateway-discard-deliveries',
        title: 'Discard queued or dead deliveries',
        hints: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
      },
      success: { status: 200, description: 'How many matched, and how many were discarded.' },
      refusals: { 400: 'Bad request: the filter is empty or invalid (named in `errors`).' },
      handle: async (input, { clientId }) => ok(200, await deliveries.discardMatching(clientId, filterOf(input))),
    },
  ];
  return operations.map((operation) => ({
    ...operation,
    handle: (input, context) => whileStoreAvailable(() => operation.handle(input, context)),
  }));
}

export const deliveryPath = (id: string): string => `${DELIVERIES_PATH}/${encodeURIComponent(id)}`;

/** A store that cannot be reached (Redis down) is a 503 the client can retry, not a 500. */
async function whileStoreAvailable(run: () => Promise<LocalAnswer>): Promise<LocalAnswer> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof DeliveryStoreUnavailableError)) throw error;
    return refuse({
      kind: 'delivery-unavailable',
      status: 503,
      title: 'Delivery queue unavailable',
      detail: 'The delivery queue cannot be reached right now. Retry later.',
      retryAfterSeconds: 5,
    });
  }
}

function filterOf(input: Record<string, unknown>): DeliveryFilter {
  return {
    ...(input.status !== undefined ? { status: input.status as 'queued' | 'dead' } : {}),
    ...(input.plugin !== undefined ? { pluginId: input.plugin as string } : {}),
    ...(input.before !== undefined ? { before: Date.parse(input.before as string) } : {}),
    ...(input.ids !== undefined ? { ids: input.ids as string[] } : {}),
  };
}

const ok = (status: number, body?: unknown): LocalAnswer => ({ ok: true, status, ...(body !== undefined ? { body } : {}) });
const refuse = (failure: OperationFailure): LocalAnswer => ({ ok: false, failure });

function notFound(id: string): LocalAnswer {
  return refuse({
    kind: 'not-found',
    status: 404,
    title: 'Delivery not found',
    detail: `No delivery ${JSON.stringify(id)} for this client (deliveries are visible only to the client that sent them).`,
  });
}

export type { LocalContext };
