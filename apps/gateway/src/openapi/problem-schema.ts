import { MAX_REPORTED_PROBLEMS } from '@gateway/core';
import type { HeaderObject, ParameterObject, ResponseObject, SchemaObject } from 'openapi3-ts/oas31';
import { IDEMPOTENCY_KEY_SCHEMA } from '../idempotency/idempotency-key.ts';

/** Names of the shared components every operation refers to. */
export const PROBLEM_SCHEMA = 'Problem';
export const REQUEST_ID_HEADER = 'XRequestId';
export const RETRY_AFTER_HEADER = 'RetryAfter';
export const REQUEST_ID_PARAMETER = 'XRequestId';
export const IDEMPOTENCY_KEY_PARAMETER = 'IdempotencyKey';
export const IDEMPOTENT_REPLAYED_HEADER = 'IdempotentReplayed';
export const RATE_LIMIT_HEADER = 'RateLimit';
export const RATE_LIMIT_POLICY_HEADER = 'RateLimitPolicy';

export const ref = (kind: 'schemas' | 'headers' | 'parameters', name: string) => ({ $ref: `#/components/${kind}/${name}` });

/** A refusal of the gateway's own routes: a Problem with its request id, Retry-After when waiting helps, and an example. */
export const problemResponse = (description: string, withRetryAfter = false, example?: Record<string, unknown>): ResponseObject => ({
  description,
  headers: {
    'X-Request-Id': ref('headers', REQUEST_ID_HEADER),
    ...(withRetryAfter ? { 'Retry-After': ref('headers', RETRY_AFTER_HEADER) } : {}),
  },
  content: {
    'application/problem+json': {
      schema: ref('schemas', PROBLEM_SCHEMA),
      ...(example ? { examples: { [String(example.type).split(':').pop() as string]: { value: example } } } : {}),
    },
  },
});

/** RFC 9457 problem details, as `rest/problem.ts` writes them. */
export const problemSchema: SchemaObject = {
  title: 'Problem',
  description:
    'An RFC 9457 problem detail (`application/problem+json`). `type` names the kind of problem as ' +
    '`urn:gateway:problem:<kind>`; branch on it (or on `status`), not on `title` or `detail`, which are for people.',
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: {
      type: 'string',
      format: 'uri',
      description:
        'The kind of problem, `urn:gateway:problem:` followed by one of: invalid-input, malformed-json, malformed-body, bad-request, ' +
        'payload-too-large, unsupported-media-type, not-found, method-not-allowed, internal-error, ' +
        'idempotency-in-flight, idempotency-key-reused, upstream-rejected-input, upstream-refused-gateway, upstream-rate-limited, ' +
        'upstream-failed, upstream-timeout, upstream-unreachable, upstream-unavailable (the upstream breaker is open: nothing was sent), unauthorized, rate-limited, host-not-allowed, ' +
        'delivery-unavailable (the delivery queue is full or cannot write), too-many-pending (this client has ' +
        'DELIVERY_MAX_QUEUED_PER_CLIENT deliveries pending, or DELIVERY_MAX_BYTES_PER_CLIENT bytes held), delivery-not-dead, delivery-busy, store-unavailable.',
      examples: ['urn:gateway:problem:invalid-input'],
    },
    title: { type: 'string', description: 'A short summary of the kind of problem.', examples: ['Invalid input'] },
    status: { type: 'integer', minimum: 400, maximum: 599, description: 'The HTTP status of this answer.', examples: [400] },
    detail: {
      type: 'string',
      description: 'What went wrong with this request and what to do about it.',
      examples: ['/eventName is required'],
    },
    instance: {
      type: 'string',
      format: 'uri-reference',
      description: 'The request path (and query) the problem is about.',
      examples: ['/v1/custom-events'],
    },
    requestId: {
      type: 'string',
      description: 'The request id, also sent as the `X-Request-Id` header; quote it when reporting a problem.',
      examples: ['3f1c9a52-7c1e-4f7e-9a7f-2d1b8f5e4c21'],
    },
    errors: {
      type: 'array',
      description:
        `For invalid input: one entry per problem, with \`pointer\` into the request body or \`header\` naming a request header (e.g. \`Idempotency-Key\`); ` +
        `at most ${MAX_REPORTED_PROBLEMS} (see \`omittedErrors\`).`,
      maxItems: MAX_REPORTED_PROBLEMS,
      items: {
        type: 'object',
        required: ['detail'],
        properties: {
          header: {
            type: 'string',
            description: 'The request header that is wrong (instead of `pointer`).',
            examples: ['Idempotency-Key'],
          },
          pointer: {
            type: 'string',
            format: 'json-pointer',
            description: 'JSON Pointer (RFC 6901) into the request body; empty for the body itself.',
            examples: ['/eventName'],
          },
          detail: { type: 'string', description: 'What is wrong at that place.', examples: ['is required'] },
        },
      },
    },
    omittedErrors: {
      type: 'integer',
      minimum: 1,
      description: `For invalid input with more than ${MAX_REPORTED_PROBLEMS} problems: how many more there were than \`errors\` lists.`,
      examples: [59980],
    },
    upstreamStatus: {
      type: 'integer',
      description: 'The status the upstream service answered, when the problem comes from its answer.',
      examples: [503],
    },
  },
};

export const requestIdHeader: HeaderObject = {
  description:
    'The request id: the caller’s own `X-Request-Id` when it sent a valid one, otherwise one the gateway made. It is in the gateway’s logs.',
  schema: { type: 'string', examples: ['3f1c9a52-7c1e-4f7e-9a7f-2d1b8f5e4c21'] },
};

export const retryAfterHeader: HeaderObject = {
  description: 'Seconds to wait before sending the request again.',
  schema: { type: 'integer', minimum: 0, examples: [1] },
};

export const requestIdParameter: ParameterObject = {
  name: 'X-Request-Id',
  in: 'header',
  required: false,
  description:
    'Your own id for this request (1-128 of `A-Za-z0-9._:-`); echoed back and logged. The gateway makes one when absent or invalid.',
  // No example value: tools that prefill examples (Swagger UI, Postman) would send the same id with every request.
  schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
};

export const idempotencyKeyParameter: ParameterObject = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Makes a retry safe: within 24 hours, the same key with the same body returns the first result (with `Idempotent-Replayed: true`) ' +
    'without calling the upstream again; the same key with another body is 422. 1-255 printable ASCII characters, no spaces.',
  // No example value: a prefilled key (Swagger UI, Postman) would make every later send a replay, or a 422 once the body is edited.
  schema: { ...IDEMPOTENCY_KEY_SCHEMA },
};

/** express-rate-limit's IETF draft-8 headers, on every answer while INBOUND_RATE_LIMIT is on. */
export const rateLimitHeader: HeaderObject = {
  description:
    'This client’s inbound budget (`INBOUND_RATE_LIMIT`): its policy name, `r` requests remaining and `t` seconds until it refills.',
  schema: { type: 'string', examples: ['"600-in-1min"; r=599; t=60'] },
};

export const rateLimitPolicyHeader: HeaderObject = {
  description: 'The inbound budget’s policy: `q` requests per `w` seconds per client.',
  schema: { type: 'string', examples: ['"600-in-1min"; q=600; w=60'] },
};

export const idempotentReplayedHeader: HeaderObject = {
  description:
    'Present (`true`) when this is the stored result of an earlier request with the same `Idempotency-Key`, replayed without calling the upstream.',
  schema: { type: 'string', enum: ['true'] },
};
