import { type JsonSchema, type OperationDescriptor, restParameterSources } from '@gateway/core';
import type { OperationObject, ParameterObject, ReferenceObject, SchemaObject } from 'openapi3-ts/oas31';
import { IDEMPOTENCY_KEY_PARAMETER, REQUEST_ID_PARAMETER, ref } from './problem-schema.ts';
import { operationResponses } from './responses.ts';
import type { RestEntry } from './types.ts';

export interface OperationContext {
  readonly operationId: string;
  readonly tag: string;
  /** Registers a schema under `components/schemas` (the same object, not a copy) and returns its name. */
  readonly schemaRef: (schema: JsonSchema, fallbackName: string) => string;
  /** Gateway URLs (paths) where a person sees what the sandbox received; empty in live mode. */
  readonly sandboxReads: readonly string[];
  readonly secured: boolean;
  readonly bodyLimitBytes?: number;
}

/** `/v1/users/:userId` (Express) -> `/v1/users/{userId}` (OpenAPI). */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** The OpenAPI operation for one REST exposure; every schema in it is the descriptor's own object. */
export function buildOperation(entry: RestEntry, context: OperationContext): OperationObject {
  const { operation, rest, plugin } = entry;
  const properties = inputProperties(operation);
  const required = new Set(Array.isArray(operation.input.required) ? (operation.input.required as string[]) : []);
  const example = (operation.example ?? {}) as Record<string, unknown>;
  const sources = Object.entries(restParameterSources(operation));

  const parameters: (ParameterObject | ReferenceObject)[] = sources
    .filter(([, source]) => source !== 'body')
    .map(([name, source]) => {
      const schema = properties[name] ?? {};
      return {
        name,
        in: source as 'path' | 'query' | 'header',
        required: source === 'path' || required.has(name),
        ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
        schema: schema as SchemaObject,
        ...(example[name] !== undefined ? { example: example[name] } : {}),
      };
    });
  parameters.push(ref('parameters', IDEMPOTENCY_KEY_PARAMETER), ref('parameters', REQUEST_ID_PARAMETER));

  const bodyName = sources.find(([, source]) => source === 'body')?.[0];
  const bodySchema = bodyName ? properties[bodyName] : undefined;
  const bodyExample = bodyName ? (example[bodyName] ?? firstExample(bodySchema)) : undefined;
  const upstreamTitle = plugin.descriptor.title;
  // Undeclared, REST relays the upstream's own 2xx, so the method's usual one and its other usual ones are documented.
  const successStatus = operation.responses?.successStatus ?? (rest.method === 'POST' ? 201 : 200);
  const relays = operation.upstream.errors === 'passthrough';
  const otherSuccessStatuses = operation.responses?.successStatus === undefined ? (RELAYED_SUCCESS[rest.method] ?? []) : [];

  return {
    operationId: context.operationId,
    summary: operation.title,
    description: describe(operation.description, upstreamTitle, context.sandboxReads),
    tags: [context.tag, ...(operation.tags ?? [])],
    parameters,
    ...(bodyName && bodySchema
      ? {
          requestBody: {
            required: required.has(bodyName),
            ...(typeof bodySchema.description === 'string' ? { description: bodySchema.description } : {}),
            content: {
              'application/json': {
                schema: ref('schemas', context.schemaRef(bodySchema, `${pascal(operation.id)}Body`)),
                ...(bodyExample !== undefined ? { example: bodyExample } : {}),
              },
            },
          },
        }
      : {}),
    responses: operationResponses({
      instance: exampleInstance(rest.path, example),
      upstreamTitle,
      successStatus,
      successDescription: `Success: ${upstreamTitle} accepted the call.${operation.output && successStatus !== 204 ? '' : ' No body.'}`,
      ...(operation.output && successStatus !== 204
        ? { successSchema: ref('schemas', context.schemaRef(operation.output, `${pascal(operation.id)}Result`)) }
        : {}),
      ...(operation.responses?.notFound?.length ? { notFound: true } : {}),
      ...(otherSuccessStatuses.length > 0 ? { otherSuccessStatuses } : {}),
      ...(relays ? { relaysUpstreamErrors: true } : {}),
      ...invalidInputExample(operation, sources),
      takesBody: bodyName !== undefined,
      ...(operation.delivery ? { queues: true } : {}),
      secured: context.secured,
      ...(context.bodyLimitBytes !== undefined ? { bodyLimitBytes: context.bodyLimitBytes } : {}),
    }),
  };
}

/** The 2xx statuses, besides the documented one, an upstream usually answers to each method. */
const RELAYED_SUCCESS: Readonly<Record<string, readonly number[]>> = { POST: [200], PUT: [204], PATCH: [204], DELETE: [204] };

/** The 400 example names this operation's own input: its first required body field, else its first parameter. */
function invalidInputExample(
  operation: OperationDescriptor<any>,
  sources: readonly [string, string][],
): { invalidInputExample?: { pointer: string; detail: string } } {
  const bodyName = sources.find(([, source]) => source === 'body')?.[0];
  const body = bodyName ? inputProperties(operation)[bodyName] : undefined;
  const requiredField = Array.isArray(body?.required) ? (body.required as string[])[0] : undefined;
  if (requiredField !== undefined) return { invalidInputExample: { pointer: `/${requiredField}`, detail: 'is required' } };
  const [name] = sources.find(([, source]) => source !== 'body') ?? [];
  if (name === undefined) return {};
  const type = inputProperties(operation)[name]?.type;
  return { invalidInputExample: { pointer: `/${name}`, detail: `must be ${Array.isArray(type) ? type[0] : (type ?? 'string')}` } };
}

/** The route with its example's path values (`/v1/users/u-1`): a problem's `instance` is a URI reference, never a template. */
function exampleInstance(path: string, example: Record<string, unknown>): string {
  return openApiPath(path).replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(String(example[name] ?? name)));
}

function describe(description: string, upstream: string, sandboxReads: readonly string[]): string {
  if (sandboxReads.length === 0) return description;
  const links = sandboxReads.map((path) => `[GET ${path}](${path})`).join(', ');
  return (
    `${description}\n\n**Sandbox mode:** this gateway sends ${upstream} calls to a local sandbox; nothing reaches ${upstream}. ` +
    `See what the sandbox received: ${links}.`
  );
}

function inputProperties(operation: OperationDescriptor<any>): Record<string, JsonSchema> {
  return (operation.input.properties ?? {}) as Record<string, JsonSchema>;
}

function firstExample(schema: JsonSchema | undefined): unknown {
  return Array.isArray(schema?.examples) ? schema.examples[0] : undefined;
}

function pascal(id: string): string {
  return id.charAt(0).toUpperCase() + id.slice(1);
}
