import type { JsonSchema, OperationDescriptor, PluginDescriptor, ToolHints } from '@gateway/core';
import { BATCH_ACCEPTED_SCHEMA, DELIVERY_SCHEMA } from '../delivery/delivery-schemas.ts';
import { IDEMPOTENCY_KEY_SCHEMA } from '../idempotency/idempotency-key.ts';
import { selectTools } from './toolset.ts';

/** What `tools/list` shows for one tool (the MCP `Tool` shape, kept as plain data so the SDK stays at the edge). */
export interface ToolDefinition {
  readonly name: string;
  readonly title?: string;
  readonly description: string;
  /** The operation's input JSON Schema object itself: the same object REST validates against. */
  readonly inputSchema: JsonSchema;
  readonly outputSchema: JsonSchema;
  readonly annotations: ToolHints & { readonly title?: string };
}

/**
 * A tool and the operation it runs: `operation` calls it now; `batch` queues many of its inputs for delivery;
 * `get-delivery` reads a queued delivery's status.
 */
export interface ToolEntry {
  readonly kind: 'operation' | 'batch' | 'get-delivery';
  /** For `batch`: the argument holding the items (each one the operation's `body`) and how many are allowed. */
  readonly batch?: { readonly itemsName: string; readonly maxItems: number };
  readonly pluginId: string;
  readonly operationId: string;
  /** Whether the tool's arguments may carry `idempotencyKey` (not part of the operation input). */
  readonly acceptsIdempotencyKey: boolean;
  readonly definition: ToolDefinition;
}

export interface ToolCatalogue {
  readonly tools: readonly ToolDefinition[];
  /** The server's `instructions`: what the gateway is and which upstreams its tools reach. */
  readonly instructions: string;
  find(name: string): ToolEntry | undefined;
  /** The gateway's own tools (`localTools`) that MCP_TOOLS selects; the gateway adds them after building. */
  readonly selectedLocalTools: ReadonlySet<string>;
}

/** The parts of a loaded plugin the catalogue reads. */
export interface CataloguePlugin {
  readonly descriptor: PluginDescriptor;
  readonly mode: 'live' | 'sandbox';
}

/** The parts of a loaded operation the catalogue reads. */
export interface CatalogueOperation {
  readonly plugin: PluginDescriptor;
  readonly operation: OperationDescriptor<any>;
}

/** Said once in the server instructions, not in every tool description (it would be most of a lean tools/list). */
const RESULT_GUIDE =
  'Results: on success structuredContent has `status` (the upstream HTTP status), `body` (what the upstream answered, if anything) ' +
  'and `requestId` (quote it when reporting a problem); `replayed: true` when an idempotencyKey repeat returned the first result. ' +
  'On failure the result has isError: true and a message naming each field to change. Tools that change something take an optional ' +
  '`idempotencyKey` (e.g. a UUID): a retry with the same key and arguments within 24 hours returns the first result instead of acting twice.';

/** Every operation with an `mcp` exposure becomes one tool. Built once at start-up; a pure function of the descriptors. */
export function buildToolCatalogue(
  operations: readonly CatalogueOperation[],
  plugins: readonly CataloguePlugin[],
  options: { readonly deliveries?: boolean; readonly tools?: readonly string[]; readonly localTools?: readonly string[] } = {},
): ToolCatalogue {
  const entries = new Map<string, ToolEntry>();
  for (const { plugin, operation } of operations) {
    const batch = options.deliveries ? operation.delivery?.batch : undefined;
    if (!operation.mcp) {
      if (batch?.mcp) entries.set(batch.mcp.tool, batchEntry(plugin, operation, batch.itemsName, batch.mcp));
      continue;
    }
    const { tool, title, description, hints } = operation.mcp;
    const toolTitle = title ?? operation.title;
    entries.set(tool, {
      kind: 'operation',
      pluginId: plugin.id,
      operationId: operation.id,
      acceptsIdempotencyKey: acceptsIdempotencyKey(operation),
      definition: {
        name: tool,
        title: toolTitle,
        description: description ?? operation.description,
        inputSchema: withoutExamples(acceptsIdempotencyKey(operation) ? withIdempotencyKey(operation.input) : operation.input),
        outputSchema: resultSchema(operation.output ? outline(operation.output) : undefined),
        annotations: {
          title: toolTitle,
          readOnlyHint: hints.readOnlyHint,
          destructiveHint: hints.destructiveHint,
          idempotentHint: hints.idempotentHint,
          openWorldHint: hints.openWorldHint,
        },
      },
    });
    if (batch?.mcp) entries.set(batch.mcp.tool, batchEntry(plugin, operation, batch.itemsName, batch.mcp));
  }
  if (options.deliveries && operations.some(({ operation }) => operation.delivery)) entries.set(GET_DELIVERY_TOOL, getDeliveryEntry());
  const localTools = options.localTools ?? [];
  const patterns = options.tools ?? [];
  // Without MCP_TOOLS every plugin tool is listed; the gateway's own queue-management tools are an operator toolset,
  // named in MCP_TOOLS to be listed (each tool an agent sees costs it tokens on every connect).
  const selected = patterns.length === 0 ? new Set(entries.keys()) : selectTools([...entries.keys(), ...localTools], patterns);
  for (const name of entries.keys()) if (!selected.has(name)) entries.delete(name);
  const tools = [...entries.values()].map((entry) => entry.definition);
  return {
    tools,
    instructions: instructionsFor(plugins, [...entries.values()]),
    find: (name) => entries.get(name),
    selectedLocalTools: new Set(localTools.filter((name) => selected.has(name))),
  };
}

export const IDEMPOTENCY_KEY_ARGUMENT = 'idempotencyKey';
export const GET_DELIVERY_TOOL = 'gateway-get-delivery';

/** Queues up to `maxItems` of an operation's bodies at once; each item is validated on its own. */
function batchEntry(
  plugin: PluginDescriptor,
  operation: OperationDescriptor<any>,
  itemsName: string,
  mcp: { readonly tool: string; readonly title: string; readonly description: string; readonly maxItems: number },
): ToolEntry {
  // Not the body schema again (it is in the single tool's inputSchema, and would double the list): its type and a pointer.
  const itemSchema = {
    type: 'object',
    description: `One item: the \`body\` argument of ${operation.mcp ? operation.mcp.tool : operation.id}.`,
  };
  const inputSchema = withIdempotencyKey({
    type: 'object',
    additionalProperties: false,
    required: [itemsName],
    properties: { [itemsName]: { type: 'array', minItems: 1, maxItems: mcp.maxItems, items: itemSchema } },
  });
  return {
    kind: 'batch',
    batch: { itemsName, maxItems: mcp.maxItems },
    pluginId: plugin.id,
    operationId: operation.id,
    acceptsIdempotencyKey: true,
    definition: {
      name: mcp.tool,
      title: mcp.title,
      description: `${mcp.description}\n\n${BATCH_RESULT_GUIDE}`,
      inputSchema,
      outputSchema: resultSchema(outline(BATCH_ACCEPTED_SCHEMA)),
      annotations: { title: mcp.title, readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
  };
}

const BATCH_RESULT_GUIDE =
  'Result: structuredContent.body has `accepted`, `rejected` and `results` (per item, in order: its delivery `id`, or its `errors`). ' +
  `Accepted items are stored and delivered in the background, retried for hours if the upstream is unavailable; check one with ${GET_DELIVERY_TOOL}. ` +
  'When no item is valid, the result has isError: true listing each problem.';

function getDeliveryEntry(): ToolEntry {
  const title = 'Get a queued delivery';
  return {
    kind: 'get-delivery',
    pluginId: '',
    operationId: '',
    acceptsIdempotencyKey: false,
    definition: {
      name: GET_DELIVERY_TOOL,
      title,
      description:
        'Where a queued delivery stands (queued, delivering, delivered or dead), with its attempts and last error. Pass an id returned by a queueing tool; only deliveries this client queued are found.',
      inputSchema: {
        type: 'object',
        additionalProperties: false,
        required: ['id'],
        properties: { id: { type: 'string', minLength: 1, maxLength: 200, description: 'The delivery id.' } },
      },
      outputSchema: outline(DELIVERY_SCHEMA),
      annotations: { title, readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
  };
}

/** Tools that change something take an optional idempotency key, unless their input already has one. */
function acceptsIdempotencyKey(operation: OperationDescriptor<any>): boolean {
  const properties = (operation.input.properties ?? {}) as Record<string, unknown>;
  return operation.mcp !== false && !operation.mcp.hints.readOnlyHint && !(IDEMPOTENCY_KEY_ARGUMENT in properties);
}

/** The operation's input schema plus `idempotencyKey`; every other property is the descriptor's own schema object. */
function withIdempotencyKey(input: JsonSchema): JsonSchema {
  return {
    ...input,
    properties: {
      ...(input.properties as Record<string, unknown>),
      [IDEMPOTENCY_KEY_ARGUMENT]: {
        ...IDEMPOTENCY_KEY_SCHEMA,
        description: 'Optional retry key, e.g. a UUID (see the server instructions).',
      },
    },
  };
}

/** The shape of a successful tool result's `structuredContent` (its fields are explained once, in RESULT_GUIDE). */
function resultSchema(body: JsonSchema | undefined): JsonSchema {
  return {
    type: 'object',
    properties: {
      status: { type: 'integer' },
      ...(body && Object.keys(body).length > 0 ? { body } : {}),
      requestId: { type: 'string' },
      replayed: { type: 'boolean', const: true },
    },
    required: ['status', 'requestId'],
    // `body` may be any JSON value when the operation does not declare its answer.
    ...(body && Object.keys(body).length > 0 ? { additionalProperties: false } : {}),
  };
}

/** Keywords that explain rather than constrain. */
const ANNOTATIONS = new Set(['examples', 'example', '$comment']);

/**
 * An input schema as `tools/list` shows it: the descriptor's schema without its examples (the OpenAPI document
 * keeps them). Every keyword that validates, and every description, is the descriptor's own.
 */
function withoutExamples(schema: JsonSchema): JsonSchema {
  const strip = (value: unknown, isPropertyMap: boolean): unknown => {
    if (Array.isArray(value)) return value.map((item) => strip(item, false));
    if (typeof value !== 'object' || value === null) return value;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (!isPropertyMap && ANNOTATIONS.has(key)) continue;
      out[key] = strip(item, !isPropertyMap && (key === 'properties' || key === 'patternProperties' || key === '$defs'));
    }
    return out;
  };
  return strip(schema, false) as JsonSchema;
}

/**
 * What an upstream answer is, for `tools/list`: its type and name (`User`), not its fields. The text content
 * carries the whole answer, the tool description says what it holds, and the full schema (in the OpenAPI
 * document) would make every list several times longer.
 */
export function outline(schema: JsonSchema): JsonSchema {
  return {
    ...(typeof schema.title === 'string' ? { title: schema.title } : {}),
    ...(typeof schema.type === 'string' ? { type: schema.type } : {}),
  };
}

function instructionsFor(plugins: readonly CataloguePlugin[], entries: readonly ToolEntry[]): string {
  const lines = [
    'This gateway runs upstream API operations as tools. It adds the upstream credentials itself: never put API keys in tool arguments.',
  ];
  for (const { descriptor, mode } of plugins) {
    const tools = entries.filter((entry) => entry.pluginId === descriptor.id).map((entry) => entry.definition.name);
    if (tools.length === 0) continue;
    const sandbox = mode === 'sandbox' ? ` SANDBOX: calls go to a local stand-in; nothing reaches ${descriptor.title}.` : '';
    lines.push(`- ${descriptor.title}: ${descriptor.mcpInstructions ?? descriptor.description} Tools: ${tools.join(', ')}.${sandbox}`);
  }
  lines.push(RESULT_GUIDE);
  return lines.join('\n');
}
