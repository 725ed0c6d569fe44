import type { OpenApiBuilder, OperationObject, ReferenceObject, ResponseObject, ResponsesObject, SchemaObject } from 'openapi3-ts/oas31';
import { BATCH_ACCEPTED_SCHEMA, DELIVERY_ACCEPTED_SCHEMA, DELIVERY_PAGE_SCHEMA, DELIVERY_SCHEMA } from '../delivery/delivery-schemas.ts';
import {
  IDEMPOTENCY_KEY_PARAMETER,
  IDEMPOTENT_REPLAYED_HEADER,
  problemResponse as problem,
  REQUEST_ID_HEADER,
  REQUEST_ID_PARAMETER,
  ref,
} from './problem-schema.ts';
import { openApiPath } from './operation.ts';
import { operationResponses } from './responses.ts';
import { restBatchLimits } from '../gateway-plugin/batch-limits.ts';
import type { RestEntry } from './types.ts';

/** The delivery routes, documented as `rest/delivery-routes.ts` serves them. */
export const DELIVERIES_TAG = 'Deliveries';
const PREFER_PARAMETER = 'Prefer';
const LOCATION_HEADER = 'Location';
const PREFERENCE_APPLIED_HEADER = 'PreferenceApplied';

const QUEUE_UNAVAILABLE = problem(
  'Service unavailable: the delivery queue is full (`DELIVERY_MAX_QUEUED`) or cannot take writes; nothing was queued. Wait `Retry-After` seconds and send it again.',
  true,
  {
    type: 'urn:gateway:problem:delivery-unavailable',
    title: 'Delivery queue unavailable',
    status: 503,
    detail: 'The delivery queue is full (100000 pending, DELIVERY_MAX_QUEUED 100000); nothing was queued. Retry later.',
    requestId: '3f1c9a52-7c1e-4f7e-9a7f-2d1b8f5e4c21',
  },
);

function withUpstreamUnavailable(synchronous: ResponseObject | undefined): ResponseObject {
  if (!synchronous) return QUEUE_UNAVAILABLE;
  return {
    ...synchronous,
    description: `${QUEUE_UNAVAILABLE.description.replace('Service unavailable: ', 'Service unavailable: queued, ')} Synchronous: ${synchronous.description.replace('Service unavailable: ', '')}`,
  };
}

/** Components every delivery route refers to; added once. */
export function addDeliveryComponents(builder: OpenApiBuilder): void {
  builder
    .addTag({
      name: DELIVERIES_TAG,
      description:
        'Durable delivery: a request sent with `Prefer: respond-async` (or through a batch route) is stored, answered 202, and delivered ' +
        'by the gateway at the upstream’s pace, retried for hours while the upstream is down or rate limiting. These routes show where ' +
        'each of your deliveries stands, and retry or discard it. A client sees only its own deliveries.',
    })
    .addSchema('DeliveryAccepted', DELIVERY_ACCEPTED_SCHEMA as SchemaObject)
    .addSchema('BatchAccepted', BATCH_ACCEPTED_SCHEMA as SchemaObject)
    .addSchema('Delivery', DELIVERY_SCHEMA as SchemaObject)
    .addSchema('DeliveryPage', {
      ...DELIVERY_PAGE_SCHEMA,
      properties: {
        ...(DELIVERY_PAGE_SCHEMA.properties as Record<string, SchemaObject>),
        items: { type: 'array', items: ref('schemas', 'Delivery') },
      },
    })
    .addParameter(PREFER_PARAMETER, {
      name: 'Prefer',
      in: 'header',
      required: false,
      // No example or enum: clients that import the document (Bruno, Postman) fill and enable a header from them, and this
      // one changes what the call does (202 queued instead of the upstream's 201).
      description:
        'Send `respond-async` (RFC 7240) to validate, store the request for durable delivery and answer 202 with its delivery id, instead of ' +
        'calling the upstream now. The gateway delivers it in the background and retries for hours. Without it the call is synchronous.',
      schema: { type: 'string' },
    })
    .addHeader(LOCATION_HEADER, {
      description: 'The delivery’s status resource.',
      schema: { type: 'string', examples: ['/v1/deliveries/0b6f8a3e-6d1c-4d47-9a55-1f2d3c4b5a69'] },
    })
    .addHeader(PREFERENCE_APPLIED_HEADER, {
      description: '`respond-async` when the `Prefer` header was honoured.',
      schema: { type: 'string', enum: ['respond-async'] },
    });
}

/** A queueable operation: the `Prefer` header, its 202 answer and the 503 of a full queue. */
export function withQueuedAnswer(operation: OperationObject, queueByDefault: boolean): OperationObject {
  const responses: ResponsesObject = {
    ...operation.responses,
    '202': {
      description: queueByDefault
        ? 'Accepted: stored for durable delivery (this gateway queues by default, `DELIVERY_MODE=queue`). Follow `Location` for its status.'
        : 'Accepted (with `Prefer: respond-async`): stored for durable delivery. Follow `Location` for its status.',
      headers: {
        Location: ref('headers', LOCATION_HEADER),
        'Preference-Applied': ref('headers', PREFERENCE_APPLIED_HEADER),
        'X-Request-Id': ref('headers', REQUEST_ID_HEADER),
        'Idempotent-Replayed': ref('headers', IDEMPOTENT_REPLAYED_HEADER),
      },
      content: { 'application/json': { schema: ref('schemas', 'DeliveryAccepted') } },
    },
    // Either answer: the queue's (with `Prefer: respond-async`) or the upstream breaker's (a synchronous call).
    '503': withUpstreamUnavailable(operation.responses?.['503'] as ResponseObject | undefined),
  };
  return { ...operation, parameters: [ref('parameters', PREFER_PARAMETER), ...(operation.parameters ?? [])], responses };
}

/** `POST <batch path>`: JSON `{"<items>": [...]}` or NDJSON, each item the operation's body. */
export function addBatchPath(
  builder: OpenApiBuilder,
  entry: RestEntry,
  context: { tag: string; itemRef: ReferenceObject; secured: boolean; bodyLimitBytes?: number },
): void {
  const batch = entry.operation.delivery?.batch;
  if (!batch?.rest) return;
  const { itemsName } = batch;
  const { maxItems, maxItemBytes, maxBodyBytes } = restBatchLimits(batch, context.bodyLimitBytes ?? Number.POSITIVE_INFINITY);
  const upstream = entry.plugin.descriptor.title;
  const exampleItem = ((entry.operation.example ?? {}) as { body?: unknown }).body;
  const responses = operationResponses({
    instance: batch.rest.path,
    upstreamTitle: upstream,
    successStatus: 202,
    successDescription:
      'Accepted: the valid items are stored for durable delivery (in one transaction); `results` lists each item’s delivery id or its errors.',
    successSchema: ref('schemas', 'BatchAccepted'),
    takesBody: true,
    secured: context.secured,
    ...(context.bodyLimitBytes !== undefined ? { bodyLimitBytes: context.bodyLimitBytes } : {}),
  });
  // Nothing is sent upstream while the request is answered, so the upstream's own errors do not apply here.
  delete responses['502'];
  delete responses['504'];
  responses['400'] = problem(
    `Bad request: the body is not \`{"${itemsName}": [...]}\` with 1 to ${maxItems} items, or no item is valid (\`errors\` points at each item's problems, e.g. \`/${itemsName}/3/eventName\`). Nothing was queued.`,
  );
  responses['413'] = problem(
    `Payload too large: one item is larger than ${maxItemBytes} bytes, or the body (decompressed) larger than ${Number.isFinite(maxBodyBytes) ? `${maxBodyBytes} bytes, ` : ''}\`BODY_LIMIT\`. Reading stops there; nothing was queued.`,
  );
  responses['429'] = problem(
    'Too many requests: over this client’s `INBOUND_RATE_LIMIT` (`rate-limited`), or this client already has ' +
      '`DELIVERY_MAX_QUEUED_PER_CLIENT` deliveries pending (`too-many-pending`; nothing was queued). Wait `Retry-After` seconds.',
    true,
  );
  responses['503'] = QUEUE_UNAVAILABLE;
  const operation: OperationObject = {
    operationId: `${entry.operation.id}Batch`,
    summary: `${entry.operation.title}: many, queued`,
    description:
      `Queues 1 to ${maxItems} items for durable delivery to ${upstream}; each item is exactly the body of \`${entry.rest.method} ${openApiPath(entry.rest.path)}\` ` +
      'and is validated on its own: valid items are queued even when others are rejected. Send `{"' +
      itemsName +
      '": [...]}` as JSON, or one item per line as ' +
      '`application/x-ndjson` (for back-fills; a line that is not JSON is rejected on its own, indexes count non-blank lines from 0). ' +
      `Limits, checked while the body streams in (gzip, deflate or br included): ${maxItems} items, ${maxItemBytes} bytes per item. ` +
      'The answer lists every accepted item’s id, and rejected items until 20 problems are listed (`omittedErrors` counts the rest).',
    tags: [context.tag, DELIVERIES_TAG],
    parameters: [ref('parameters', IDEMPOTENCY_KEY_PARAMETER), ref('parameters', REQUEST_ID_PARAMETER)],
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: {
            type: 'object',
            additionalProperties: false,
            required: [itemsName],
            properties: { [itemsName]: { type: 'array', minItems: 1, maxItems, items: context.itemRef } },
          },
          ...(exampleItem !== undefined ? { example: { [itemsName]: [exampleItem] } } : {}),
        },
        'application/x-ndjson': {
          schema: { type: 'string', description: 'One JSON item per line.' },
          ...(exampleItem !== undefined ? { example: `${JSON.stringify(exampleItem)}\n` } : {}),
        },
      },
    },
    responses,
  };
  builder.addPath(batch.rest.path, { post: operation });
}
