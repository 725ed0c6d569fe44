import type { OpenApiBuilder, OperationObject, ResponseObject, ResponsesObject, SchemaObject } from 'openapi3-ts/oas31';
import { BATCH_ACCEPTED_SCHEMA, DELIVERY_ACCEPTED_SCHEMA, DELIVERY_PAGE_SCHEMA, DELIVERY_SCHEMA } from '../delivery/delivery-schemas.ts';
import { QUEUE_FULL } from '../gateway-plugin/delivery-operations.ts';
import { IDEMPOTENT_REPLAYED_HEADER, problemResponse as problem, REQUEST_ID_HEADER, ref } from './problem-schema.ts';

/** The tag of the delivery routes and batches, and the answers of a queueable operation. */
export const DELIVERIES_TAG = 'Deliveries';
const PREFER_PARAMETER = 'Prefer';
const LOCATION_HEADER = 'Location';
const PREFERENCE_APPLIED_HEADER = 'PreferenceApplied';

const QUEUE_UNAVAILABLE = problem(QUEUE_FULL.description, true, QUEUE_FULL.example);

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
