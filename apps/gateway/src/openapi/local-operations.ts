import type { JsonSchema } from '@gateway/core';
import type { OpenApiBuilder, OperationObject, ParameterObject, PathItemObject, ResponseObject, SchemaObject } from 'openapi3-ts/oas31';
import type { LocalOperation } from '../gateway-plugin/local-operation.ts';
import { openApiPath } from './operation.ts';
import { problemResponse as problem, REQUEST_ID_PARAMETER, ref } from './problem-schema.ts';
import { commonHeaders } from './responses.ts';

/** Refusals every gateway route may give, whatever it declares. */
const EVERY_ROUTE: Readonly<Record<number, string>> = {
  429: 'Too many requests: over this client’s `INBOUND_RATE_LIMIT`. Wait `Retry-After` seconds.',
  500: 'Internal error: the gateway failed to handle the request. It is logged with the request id.',
  503: 'Service unavailable: the delivery queue cannot be reached right now. Wait `Retry-After` seconds.',
};

/**
 * The OpenAPI entries of the gateway's own operations, built from their declarations as plugin operations are
 * from theirs: parameters and body from the one input schema, the success body from its output schema, and each
 * declared refusal as a Problem.
 */
export function addLocalOperations(
  builder: OpenApiBuilder,
  operations: readonly LocalOperation[],
  context: { readonly tag: string; readonly secured: boolean },
): void {
  const paths = new Map<string, PathItemObject>();
  for (const operation of operations) {
    const path = openApiPath(operation.rest.path);
    const item = paths.get(path) ?? {};
    item[operation.rest.method.toLowerCase() as 'get' | 'post' | 'delete'] = buildLocalOperation(builder, operation, context);
    paths.set(path, item);
  }
  for (const [path, item] of paths) builder.addPath(path, item);
}

function buildLocalOperation(
  builder: OpenApiBuilder,
  operation: LocalOperation,
  context: { readonly tag: string; readonly secured: boolean },
): OperationObject {
  const properties = (operation.input.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((operation.input.required as string[] | undefined) ?? []);
  const placed = operation.parameters ?? {};
  const parameters: ParameterObject[] = Object.entries(placed).map(([name, place]) => {
    const schema = properties[name] ?? {};
    return {
      name,
      in: place,
      required: place === 'path' || required.has(name),
      ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
      schema: schema as SchemaObject,
    };
  });
  const bodyNames = Object.keys(properties).filter((name) => !(name in placed));
  const body: SchemaObject | undefined =
    bodyNames.length > 0
      ? ({
          ...operation.input,
          properties: Object.fromEntries(bodyNames.map((name) => [name, properties[name]])),
          ...(Array.isArray(operation.input.required)
            ? { required: (operation.input.required as string[]).filter((n) => bodyNames.includes(n)) }
            : {}),
        } as SchemaObject)
      : undefined;
  const output = operation.output;
  if (output && !builder.getSpec().components?.schemas?.[output.name]) builder.addSchema(output.name, output.schema as SchemaObject);
  const success: ResponseObject = {
    description: operation.success.description,
    headers: { ...commonHeaders(), ...(operation.success.status === 202 ? { Location: { schema: { type: 'string' } } } : {}) },
    ...(output && operation.success.status !== 204 ? { content: { 'application/json': { schema: ref('schemas', output.name) } } } : {}),
  };
  const refusals: Record<number, string> = { ...EVERY_ROUTE };
  if (parameters.length > 0 || body) refusals[400] = 'Bad request: the input does not match its schema (each problem named in `errors`).';
  refusals[401] = context.secured
    ? 'Unauthorized: no valid credentials for this gateway.'
    : 'Unauthorized (only when the gateway requires inbound credentials).';
  if (body) {
    refusals[413] = 'Payload too large: the body is larger than `BODY_LIMIT`.';
    refusals[415] = 'Unsupported media type: send JSON.';
  }
  Object.assign(refusals, operation.refusals);
  return {
    operationId: operation.id,
    summary: operation.title,
    description: operation.mcp ? `${operation.description}\n\nAlso an MCP tool: \`${operation.mcp.tool}\`.` : operation.description,
    tags: [context.tag],
    parameters: [...parameters, ref('parameters', REQUEST_ID_PARAMETER)],
    ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: body } } } } : {}),
    responses: {
      [String(operation.success.status)]: success,
      ...Object.fromEntries(
        Object.entries(refusals).map(([status, description]) => [
          status,
          problem(description, status === '429' || status === '503', status === '503' ? queueUnavailable() : undefined),
        ]),
      ),
    },
  };
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
