import type { JsonSchema, OperationDescriptor, PluginDescriptor, ToolHints } from '@gateway/core';
import { type CompiledLocalOperation, madeFrom } from '../gateway-plugin/local-operation.ts';
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

/** A tool and what it runs: a plugin `operation` through the dispatch, or one of the gateway's own (`local`) operations. */
export type ToolEntry = {
  /** The plugin the tool belongs to (a local tool made from a plugin operation belongs to its plugin); empty for the gateway's own. */
  readonly pluginId: string;
  readonly operationId: string;
  /** Whether the tool's arguments may carry `idempotencyKey` (not part of the operation input). */
  readonly acceptsIdempotencyKey: boolean;
  readonly definition: ToolDefinition;
} & ({ readonly kind: 'operation' } | { readonly kind: 'local'; readonly operation: CompiledLocalOperation });

export interface ToolCatalogue {
  readonly tools: readonly ToolDefinition[];
  /** The server's `instructions`: what the gateway is and which upstreams its tools reach. */
  readonly instructions: string;
  find(name: string): ToolEntry | undefined;
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

/**
 * Every operation with an `mcp` exposure becomes one tool, and so does each of the gateway's own operations that
 * declares one (those made from a plugin operation, its batch, right after it). Built once at start-up; a pure
 * function of the declarations.
 */
export function buildToolCatalogue(
  operations: readonly CatalogueOperation[],
  plugins: readonly CataloguePlugin[],
  options: { readonly tools?: readonly string[]; readonly localOperations?: readonly CompiledLocalOperation[] } = {},
): ToolCatalogue {
  const entries = new Map<string, ToolEntry>();
  const local = (options.localOperations ?? []).filter((operation) => operation.mcp);
  const byDefault = new Set<string>();
  const addLocal = (operation: CompiledLocalOperation): void => {
    const entry = localEntry(operation);
    entries.set(entry.definition.name, entry);
    if (operation.mcp?.byDefault) byDefault.add(entry.definition.name);
  };
  for (const { plugin, operation } of operations) {
    if (operation.mcp) {
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
      byDefault.add(tool);
    }
    for (const derived of local) if (madeFrom(derived, plugin.id, operation.id)) addLocal(derived);
  }
  for (const operation of local) if (!operation.derivedFrom) addLocal(operation);
  const patterns = options.tools ?? [];
  // Without MCP_TOOLS every plugin tool (and `byDefault` gateway tool) is listed; the gateway's queue-management tools
  // are an operator toolset, named in MCP_TOOLS to be listed (each tool an agent sees costs it tokens on every connect).
  const selected = patterns.length === 0 ? byDefault : selectTools([...entries.keys()], patterns);
  for (const name of entries.keys()) if (!selected.has(name)) entries.delete(name);
  const tools = [...entries.values()].map((entry) => entry.definition);
  return {
    tools,
    instructions: instructionsFor(plugins, [...entries.values()]),
    find: (name) => entries.get(name),
  };
}

export const IDEMPOTENCY_KEY_ARGUMENT = 'idempotencyKey';

/**
 * One of the gateway's own operations as a tool: its input schema is the one REST validates (or its declared
 * lighter view), its output the one OpenAPI shows, outlined as plugin tools' are.
 */
function localEntry(operation: CompiledLocalOperation): ToolEntry {
  const mcp = operation.mcp as NonNullable<CompiledLocalOperation['mcp']>;
  const input = mcp.input ?? operation.input;
  const output = operation.output ? outline(operation.output.schema) : undefined;
  return {
    kind: 'local',
    operation,
    pluginId: operation.derivedFrom?.pluginId ?? '',
    operationId: operation.id,
    acceptsIdempotencyKey: operation.idempotent === true,
    definition: {
      name: mcp.tool,
      title: mcp.title,
      description: mcp.description ?? `${operation.description} Only this client's deliveries count.`,
      inputSchema: operation.idempotent ? withIdempotencyKey(input) : input,
      // Its type and name only, as for plugin tools: the fields cost every agent tokens on each connect.
      outputSchema: mcp.answers === 'call' ? resultSchema(output) : { type: 'object', ...output },
      annotations: { title: mcp.title, ...mcp.hints },
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
