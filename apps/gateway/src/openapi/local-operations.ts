import type { JsonSchema } from '@gateway/core';
import type {
  MediaTypeObject,
  OpenApiBuilder,
  OperationObject,
  ParameterObject,
  PathItemObject,
  ReferenceObject,
  ResponseObject,
  SchemaObject,
} from 'openapi3-ts/oas31';
import { type LocalOperation, refusalText } from '../gateway-plugin/local-operation.ts';
import { openApiPath } from './operation.ts';
import {
  IDEMPOTENCY_KEY_PARAMETER,
  IDEMPOTENT_REPLAYED_HEADER,
  problemResponse as problem,
  REQUEST_ID_PARAMETER,
  ref,
} from './problem-schema.ts';
import {
  commonHeaders,
  idempotencyResponses,
  internalErrorResponse,
  unauthorizedResponse,
  unsupportedMediaTypeResponse,
} from './responses.ts';

/** Refusals every gateway route may give, whatever it declares (401 and 500 are added as every route documents them). */
const EVERY_ROUTE: Readonly<Record<number, string>> = {
  429: 'Too many requests: over this client’s `INBOUND_RATE_LIMIT`. Wait `Retry-After` seconds.',
  503: 'Service unavailable: the delivery queue cannot be reached right now. Wait `Retry-After` seconds.',
};

export interface LocalOperationsContext {
  /** The operation's tags: `Deliveries`, or a batch's plugin tag and `Deliveries`. */
  readonly tags: readonly string[];
  readonly secured: boolean;
  /** The `components/schemas` name a schema object already has: the body shows it as a `$ref`. */
  readonly schemaName?: (schema: JsonSchema) => string | undefined;
}

/**
 * The OpenAPI entries of the gateway's own operations, built from their declarations as plugin operations are
 * from theirs: parameters and body from the one input schema, the success body from its output schema, and each
 * declared refusal as a Problem.
 */
export function addLocalOperations(builder: OpenApiBuilder, operations: readonly LocalOperation[], context: LocalOperationsContext): void {
  const paths = new Map<string, PathItemObject>();
  for (const operation of operations) {
    if (!operation.rest) continue;
    const path = openApiPath(operation.rest.path);
    const item = paths.get(path) ?? {};
    item[operation.rest.method.toLowerCase() as 'get' | 'post' | 'delete'] = buildLocalOperation(
      builder,
      operation,
      operation.rest,
      context,
    );
    paths.set(path, item);
  }
  for (const [path, item] of paths) builder.addPath(path, item);
}

function buildLocalOperation(
  builder: OpenApiBuilder,
  operation: LocalOperation,
  rest: NonNullable<LocalOperation['rest']>,
  context: LocalOperationsContext,
): OperationObject {
  const instance = openApiPath(rest.path).replace(/\{([^}]+)\}/g, '$1');
  const properties = (operation.input.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((operation.input.required as string[] | undefined) ?? []);
  const placed = operation.parameters ?? {};
  const parameters: (ParameterObject | ReferenceObject)[] = Object.entries(placed).map(([name, place]) => {
    const schema = properties[name] ?? {};
    return {
      name,
      in: place,
      required: place === 'path' || required.has(name),
      ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
      schema: schema as SchemaObject,
    };
  });
  const takesParameters = parameters.length > 0;
  if (operation.idempotent) parameters.push(ref('parameters', IDEMPOTENCY_KEY_PARAMETER));
  parameters.push(ref('parameters', REQUEST_ID_PARAMETER));
  const bodyNames = Object.keys(properties).filter((name) => !(name in placed));
  const body: SchemaObject | undefined =
    bodyNames.length > 0
      ? ({
          ...operation.input,
          properties: Object.fromEntries(bodyNames.map((name) => [name, named(properties[name], context.schemaName)])),
          ...(Array.isArray(operation.input.required)
            ? { required: (operation.input.required as string[]).filter((n) => bodyNames.includes(n)) }
            : {}),
        } as SchemaObject)
      : undefined;
  const output = operation.output;
  if (output && !builder.getSpec().components?.schemas?.[output.name]) builder.addSchema(output.name, output.schema as SchemaObject);
  const success: ResponseObject = {
    description: operation.success.description,
    headers: {
      ...commonHeaders(),
      ...(operation.idempotent ? { 'Idempotent-Replayed': ref('headers', IDEMPOTENT_REPLAYED_HEADER) } : {}),
      ...(operation.success.location ? { Location: { schema: { type: 'string' } } } : {}),
    },
    ...(output && operation.success.status !== 204 ? { content: { 'application/json': { schema: ref('schemas', output.name) } } } : {}),
  };
  const responses: Record<string, ResponseObject> = {
    401: unauthorizedResponse(instance, context.secured),
    500: internalErrorResponse(instance),
  };
  if (operation.idempotent) Object.assign(responses, idempotencyResponses(instance));
  const refusals: Record<number, LocalOperation['refusals'][number]> = { ...EVERY_ROUTE };
  if (takesParameters || body) refusals[400] = 'Bad request: the input does not match its schema (each problem named in `errors`).';
  if (body) {
    refusals[413] = 'Payload too large: the body is larger than `BODY_LIMIT`.';
    responses[415] = unsupportedMediaTypeResponse(instance);
  }
  Object.assign(refusals, operation.refusals);
  for (const [status, refusal] of Object.entries(refusals)) {
    const waits = status === '429' || status === '503';
    const example = typeof refusal === 'string' ? (status === '503' ? queueUnavailable() : undefined) : refusal.example;
    responses[status] = problem(refusalText(refusal), waits, example);
  }
  return {
    operationId: operation.id,
    summary: operation.title,
    description: operation.mcp ? `${operation.description}\n\nAlso an MCP tool: \`${operation.mcp.tool}\`.` : operation.description,
    tags: [...context.tags],
    parameters,
    ...(body ? { requestBody: { required: true, content: bodyContent(operation, body) } } : {}),
    responses: { [String(operation.success.status)]: success, ...responses },
  };
}

/** JSON, and for the `items` reader one item per line as NDJSON too; with the declared example. */
function bodyContent(operation: LocalOperation, schema: SchemaObject): Record<string, MediaTypeObject> {
  const { example } = operation;
  const content: Record<string, MediaTypeObject> = { 'application/json': { schema, ...(example !== undefined ? { example } : {}) } };
  const reader = operation.rest?.body;
  if (reader) {
    const items = example?.[reader.itemsName];
    content['application/x-ndjson'] = {
      schema: { type: 'string', description: 'One JSON item per line.' },
      ...(Array.isArray(items) ? { example: items.map((item) => `${JSON.stringify(item)}\n`).join('') } : {}),
    };
  }
  return content;
}

/** A copy of `schema` where each schema object the document already names is a `$ref` to it. */
function named(schema: unknown, schemaName: LocalOperationsContext['schemaName']): unknown {
  if (typeof schema !== 'object' || schema === null || !schemaName) return schema;
  if (Array.isArray(schema)) return schema.map((item) => named(item, schemaName));
  const name = schemaName(schema as JsonSchema);
  if (name) return ref('schemas', name);
  return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, named(value, schemaName)]));
}

/** What a 503 from a delivery route looks like (the store cannot be reached: Redis away, or the disk refuses reads). */
function queueUnavailable(): Record<string, unknown> {
  return {
    type: 'urn:gateway:problem:delivery-unavailable',
    title: 'Delivery queue unavailable',
    status: 503,
    detail: 'The delivery queue cannot be reached right now. Retry later.',
  };
}
