import type { ExamplesObject, ResponseObject, ResponsesObject, SchemaObject } from 'openapi3-ts/oas31';
import {
  IDEMPOTENT_REPLAYED_HEADER,
  PROBLEM_SCHEMA,
  RATE_LIMIT_HEADER,
  RATE_LIMIT_POLICY_HEADER,
  REQUEST_ID_HEADER,
  RETRY_AFTER_HEADER,
  ref,
} from './problem-schema.ts';

/** Headers every answer may carry: its request id and, while INBOUND_RATE_LIMIT is on, the client's budget. */
export const commonHeaders = () => ({
  'X-Request-Id': ref('headers', REQUEST_ID_HEADER),
  RateLimit: ref('headers', RATE_LIMIT_HEADER),
  'RateLimit-Policy': ref('headers', RATE_LIMIT_POLICY_HEADER),
});

export interface ResponseContext {
  /** The operation's path, as `instance` in the examples. */
  readonly instance: string;
  /** The upstream's name, as the gateway's problem titles use it. */
  readonly upstreamTitle: string;
  readonly successStatus: number;
  readonly successDescription: string;
  /** `$ref` (or schema) of the success body; none = the gateway answers without a body. */
  readonly successSchema?: object;
  /** Whether the operation declares upstream statuses that mean "no such record" (then 404 `not-found` applies). */
  readonly notFound?: boolean;
  /** Other 2xx statuses the route may relay from the upstream (its success status is undeclared), same body. */
  readonly otherSuccessStatuses?: readonly number[];
  /**
   * The operation relays every upstream error status with the upstream's own body (`errors: 'passthrough'`):
   * those answers are documented as the upstream's, and the gateway's examples of mapped upstream errors are left out.
   */
  readonly relaysUpstreamErrors?: boolean;
  /** The 400 example's problem: a field of this operation's own input, or none. */
  readonly invalidInputExample?: { readonly pointer: string; readonly detail: string };
  /** Whether the operation reads a JSON body (then 413 and 415 apply). */
  readonly takesBody: boolean;
  /** Whether the route may queue for durable delivery (then a client's full share of the queue is a 429 too). */
  readonly queues?: boolean;
  /** Whether the gateway authenticates callers (see `InboundSecurity`). */
  readonly secured: boolean;
  readonly bodyLimitBytes?: number;
}

const EXAMPLE_REQUEST_ID = '3f1c9a52-7c1e-4f7e-9a7f-2d1b8f5e4c21';
const PROBLEM_TYPE = 'application/problem+json';

const exampleProblem =
  (instance: string) =>
  (kind: string, title: string, status: number, detail: string, extra: Record<string, unknown> = {}) => ({
    type: `urn:gateway:problem:${kind}`,
    title,
    status,
    detail,
    instance,
    requestId: EXAMPLE_REQUEST_ID,
    ...extra,
  });
const example = (summary: string, value: Record<string, unknown>) => ({ summary, value });

/** 401, as every route of a gateway that may require inbound credentials answers it. */
export function unauthorizedResponse(instance: string, secured: boolean): ResponseObject {
  return problemResponse(
    secured
      ? 'Unauthorized: the request carries no valid credentials for this gateway (see the security schemes).'
      : 'Unauthorized: the caller’s credentials for this gateway are missing or invalid (answered only when the gateway requires inbound credentials).',
    {
      unauthorized: example(
        'No valid credentials',
        exampleProblem(instance)('unauthorized', 'Unauthorized', 401, 'Send valid credentials for this gateway.'),
      ),
    },
  );
}

/** 415 of a route that reads a JSON body. */
export function unsupportedMediaTypeResponse(instance: string): ResponseObject {
  return problemResponse('Unsupported media type: send the body as UTF-8 JSON with `Content-Type: application/json`.', {
    'unsupported-media-type': example(
      'Not sent as JSON',
      exampleProblem(instance)(
        'unsupported-media-type',
        'Unsupported media type',
        415,
        'Send the body as JSON with "Content-Type: application/json" (got "text/plain").',
      ),
    ),
  });
}

/** 409 and 422 of a route that takes an `Idempotency-Key`. */
export function idempotencyResponses(instance: string): { '409': ResponseObject; '422': ResponseObject } {
  const problem = exampleProblem(instance);
  return {
    '409': {
      ...problemResponse(
        'Conflict: a request with the same `Idempotency-Key` is still being processed. Wait `Retry-After` seconds, then send it again to get its result.',
        {
          'idempotency-in-flight': example(
            'The first request with this key is in progress',
            problem(
              'idempotency-in-flight',
              'Request with this idempotency key in progress',
              409,
              'A request with this idempotency key is still being processed. Wait for it, then retry to get its result.',
            ),
          ),
        },
      ),
      headers: { 'Retry-After': ref('headers', RETRY_AFTER_HEADER), ...commonHeaders() },
    },
    '422': problemResponse(
      'Unprocessable content: this `Idempotency-Key` was already used with a different request body in the last 24 hours. Use a new key for a new request.',
      {
        'idempotency-key-reused': example(
          'Idempotency key reused with another body',
          problem(
            'idempotency-key-reused',
            'Idempotency key reused with another request',
            422,
            'This idempotency key was already used with a different request body in the last 24 hours. Use a new key for a new request.',
          ),
        ),
      },
    ),
  };
}

/** 500, as every route answers it. */
export function internalErrorResponse(instance: string): ResponseObject {
  return problemResponse('Internal error: the gateway failed to handle the request. It is logged with the request id.', {
    'internal-error': example(
      'The gateway failed',
      exampleProblem(instance)(
        'internal-error',
        'Internal error',
        500,
        'The gateway failed to handle this request. It has been logged with the request id.',
      ),
    ),
  });
}

/** Every answer the gateway can give on one REST route: success, then each error status as a Problem. */
export function operationResponses(context: ResponseContext): ResponsesObject {
  const { instance, upstreamTitle: upstream } = context;
  const problem = exampleProblem(instance);
  const limit = context.bodyLimitBytes ? `${context.bodyLimitBytes} bytes` : 'the configured limit';

  const relays = context.relaysUpstreamErrors === true;
  const success = (status: number, description: string): ResponseObject => ({
    description,
    headers: { ...commonHeaders(), 'Idempotent-Replayed': ref('headers', IDEMPOTENT_REPLAYED_HEADER) },
    ...(context.successSchema && status !== 204
      ? { content: { 'application/json': { schema: context.successSchema as SchemaObject } } }
      : {}),
  });
  const invalid = context.invalidInputExample;
  const responses: ResponsesObject = {
    [String(context.successStatus)]: success(context.successStatus, context.successDescription),
    ...Object.fromEntries(
      (context.otherSuccessStatuses ?? []).map((status) => [
        String(status),
        success(
          status,
          `Success: ${upstream} answered ${status}, relayed as it came.${context.successSchema && status !== 204 ? '' : ' No body.'}`,
        ),
      ]),
    ),
    '400': problemResponse(
      relays
        ? 'Bad request: the body is not valid JSON, does not match the schema (`errors` lists each problem with a JSON Pointer into the body), ' +
            `a query parameter or body is not declared, or the \`Idempotency-Key\` is not valid; or ${upstream} answered 400, relayed with its own body (not a Problem).`
        : 'Bad request: the body is not valid JSON, does not match the schema (`errors` lists each problem with a JSON Pointer ' +
            `into the body), a query parameter or body is not declared, the \`Idempotency-Key\` is not valid, or ${upstream} rejected it (\`upstreamStatus\`). ` +
            'Correct the request and send it again.',
      {
        'invalid-input': invalid
          ? example(
              'The input does not match the schema',
              problem('invalid-input', 'Invalid input', 400, `${invalid.pointer} ${invalid.detail}`, {
                errors: [{ pointer: invalid.pointer, detail: invalid.detail }],
              }),
            )
          : example(
              'An undeclared query parameter',
              problem('invalid-input', 'Invalid input', 400, 'undeclared query parameter "x" (this operation takes none).'),
            ),
        ...(context.takesBody
          ? {
              'malformed-json': example(
                'The body is not valid JSON',
                problem(
                  'malformed-json',
                  'Malformed JSON',
                  400,
                  "The request body is not valid JSON (Expected property name or '}' in JSON at position 1).",
                ),
              ),
            }
          : {}),
        ...(relays
          ? {}
          : {
              'upstream-rejected-input': example(
                `${upstream} rejected the request`,
                problem(
                  'upstream-rejected-input',
                  `${upstream} rejected the request`,
                  400,
                  `${upstream} answered 400: Validation error. Correct the request and send it again.`,
                  {
                    upstreamStatus: 400,
                  },
                ),
              ),
            }),
      },
      relays,
    ),
    '401': unauthorizedResponse(instance, context.secured),
  };
  if (relays) {
    for (const status of ['403', '404']) {
      responses[status] = relayedResponse(
        `${status === '403' ? 'Forbidden' : 'Not found'}: ${upstream} answered ${status}, relayed with its own body.`,
      );
    }
  }
  if (context.notFound) {
    responses['404'] = problemResponse(
      `Not found: ${upstream} has no record with the identifier sent (\`upstreamStatus\` says what it answered).`,
      {
        'not-found': example(
          `${upstream} has no such record`,
          problem('not-found', 'Not found', 404, `${upstream} has no such record (it answered 404). Check the identifier you sent.`, {
            upstreamStatus: 404,
          }),
        ),
      },
    );
  }
  if (context.takesBody) {
    responses['413'] = problemResponse(`Payload too large: the body is larger than this gateway accepts (${limit}, \`BODY_LIMIT\`).`, {
      'payload-too-large': example(
        'The body is too large',
        problem(
          'payload-too-large',
          'Payload too large',
          413,
          `The request body is larger than the ${context.bodyLimitBytes ?? 'configured'} bytes this gateway accepts (BODY_LIMIT).`,
        ),
      ),
    });
    responses['415'] = unsupportedMediaTypeResponse(instance);
  }
  Object.assign(responses, idempotencyResponses(instance));
  responses['429'] = {
    ...problemResponse(
      `Too many requests: this client sent more than the gateway's inbound limit (\`INBOUND_RATE_LIMIT\`, \`rate-limited\`), ${upstream} is rate limiting, ` +
        `or the gateway's own outbound limit for ${upstream} (\`UPSTREAM_RATE_LIMIT\`) is reached. Wait \`Retry-After\` seconds, then send the request again.` +
        (context.queues
          ? ' Queued requests: this client already has `DELIVERY_MAX_QUEUED_PER_CLIENT` deliveries pending, or holds `DELIVERY_MAX_BYTES_PER_CLIENT` bytes of pending and dead deliveries (`too-many-pending`); nothing was queued.'
          : ''),
      {
        'rate-limited': example(
          'This client is over the inbound limit',
          problem(
            'rate-limited',
            'Too many requests',
            429,
            'This client (its API key, or its address without a valid key) sent more than 600 requests in a minute (INBOUND_RATE_LIMIT). Retry after 42 s.',
          ),
        ),
        ...(relays
          ? {}
          : {
              'upstream-rate-limited': example(
                `${upstream} is rate limiting`,
                problem(
                  'upstream-rate-limited',
                  `${upstream} is rate limiting`,
                  429,
                  `${upstream} answered 429 (too many requests). Wait and send it again.`,
                  {
                    upstreamStatus: 429,
                  },
                ),
              ),
            }),
        ...(context.queues
          ? {
              'too-many-pending': example(
                'This client has too many deliveries pending',
                problem(
                  'too-many-pending',
                  'Too many pending deliveries',
                  429,
                  'This client has 250000 deliveries pending and may have at most 250000 (DELIVERY_MAX_QUEUED_PER_CLIENT); the event was not queued. Retry once some are delivered (GET /v1/deliveries?status=queued lists them).',
                ),
              ),
            }
          : {}),
      },
      relays,
    ),
    headers: { 'Retry-After': ref('headers', RETRY_AFTER_HEADER), ...commonHeaders() },
  };
  responses['500'] = internalErrorResponse(instance);
  if (relays) {
    responses['502'] = problemResponse(
      `Bad gateway: ${upstream} could not be reached after the gateway’s retries (a Problem); or ${upstream} answered 502, relayed with its own body.`,
      {
        'upstream-unreachable': example(
          `${upstream} could not be reached`,
          problem('upstream-unreachable', `${upstream} could not be reached`, 502, `${upstream} refused the connection. Try again later.`),
        ),
      },
      true,
    );
    responses['4XX'] = relayedResponse(`Any other client error ${upstream} answers, relayed with its own status and body.`);
    responses['5XX'] = relayedResponse(
      `Any other server error ${upstream} answers (after the gateway’s retries), relayed with its own status and body.`,
    );
  } else
    responses['502'] = problemResponse(
      `Bad gateway: ${upstream} failed, could not be reached, or refused the gateway’s own configuration (credentials, base URL), ` +
        'after the gateway’s retries. ' +
        'The request may not have been recorded; `upstreamStatus` says what the upstream answered.',
      {
        'upstream-failed': example(
          `${upstream} failed`,
          problem(
            'upstream-failed',
            `${upstream} failed`,
            502,
            `${upstream} answered 503. The request may not have been recorded; try again later.`,
            {
              upstreamStatus: 503,
            },
          ),
        ),
        'upstream-unreachable': example(
          `${upstream} could not be reached`,
          problem('upstream-unreachable', `${upstream} could not be reached`, 502, `${upstream} refused the connection. Try again later.`),
        ),
        'upstream-refused-gateway': example(
          `${upstream} refused the gateway's configuration`,
          problem(
            'upstream-refused-gateway',
            `${upstream} refused the gateway's configuration`,
            502,
            `${upstream} answered 401 to the gateway's own credentials or address, not to anything in your request. The gateway's operator must check its configuration.`,
            { upstreamStatus: 401 },
          ),
        ),
      },
    );
  const unavailable = 'the gateway sends it nothing until a probe gets an answer again; nothing was sent.';
  responses['503'] = {
    ...problemResponse(
      `Service unavailable: ${upstream} could not be reached on its last attempts (\`upstream-unavailable\`): ${unavailable} ` +
        'Wait `Retry-After` seconds (until the next probe), then send it again.' +
        (relays ? ` Or ${upstream} answered 503, relayed with its own body.` : ''),
      {
        'upstream-unavailable': example(
          `${upstream} is unavailable`,
          problem(
            'upstream-unavailable',
            `${upstream} is unavailable`,
            503,
            `${upstream} could not be reached on its last attempts; ${unavailable} Try again after Retry-After.`,
          ),
        ),
      },
      relays,
    ),
    headers: { 'Retry-After': ref('headers', RETRY_AFTER_HEADER), ...commonHeaders() },
  };
  responses['504'] = problemResponse(
    `Gateway timeout: ${upstream} did not answer in time; the request may or may not have been recorded.`,
    {
      'upstream-timeout': example(
        `${upstream} did not answer in time`,
        problem(
          'upstream-timeout',
          `${upstream} did not answer in time`,
          504,
          `${upstream} did not answer within 10000 ms; the request may or may not have been recorded.`,
        ),
      ),
    },
  );
  return responses;
}

/** `orRelayed`: the same status may also be the upstream's own answer, relayed with its body. */
function problemResponse(description: string, examples?: ExamplesObject, orRelayed = false): ResponseObject {
  return {
    description,
    headers: commonHeaders(),
    content: {
      [PROBLEM_TYPE]: { schema: ref('schemas', PROBLEM_SCHEMA), ...(examples ? { examples } : {}) },
      ...(orRelayed ? RELAYED_CONTENT : {}),
    },
  };
}

/** The upstream's own answer, whatever its shape: JSON, or text when it sent text. */
const RELAYED_CONTENT = {
  'application/json': { schema: { description: "The upstream's own answer, unchanged (credentials it echoes are redacted)." } },
  'text/plain': { schema: { type: 'string' } },
} as const;

function relayedResponse(description: string): ResponseObject {
  return { description, headers: commonHeaders(), content: { ...RELAYED_CONTENT } };
}
