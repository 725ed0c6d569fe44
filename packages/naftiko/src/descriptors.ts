// Gateway plugin descriptors: one per called consumes adapter, its REST and MCP exposures merged into operations.
import type { OperationDescriptor, PluginDescriptor, SecretRef } from '@gateway/core';
import type { Alpha2Document } from './alpha2.ts';
import type { Bindings } from './binds.ts';
import type { ConsumedAdapter } from './consumes.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import type { Exposure } from './exposes.ts';
import { outputSchema } from './output-mapping.ts';
import { buildRequest, mapResponse } from './runtime.ts';

const PLUGIN_ID = /^[A-Za-z][A-Za-z0-9_.-]*$/;

/** One descriptor per adapter that some exposure calls; an adapter nobody calls is reported and left out. */
export function toDescriptors(
  document: Alpha2Document,
  adapters: readonly ConsumedAdapter[],
  exposures: readonly Exposure[],
  bindings: Bindings,
  sink: DiagnosticSink,
  { title, description }: { title: string; description: string },
): PluginDescriptor[] {
  const descriptors: PluginDescriptor[] = [];
  const secrets = boundSecrets(bindings);
  for (const adapter of adapters) {
    const own = exposures.filter((exposure) => exposure.target.adapter === adapter);
    if (own.length === 0) {
      if (!sink.hasErrors) sink.warning(adapter.at, `consumes "${adapter.namespace}" is not called by any exposure; not served`);
      continue;
    }
    const id = PLUGIN_ID.test(adapter.namespace) ? adapter.namespace : `capability-${adapter.namespace}`;
    // The description of each MCP exposure with a tool calling this adapter (the reference engine's instructions).
    const instructions = [
      ...new Set(own.flatMap((exposure) => (exposure.tool && exposure.mcpDescription ? [exposure.mcpDescription.trim()] : []))),
    ];
    descriptors.push({
      id,
      title: adapters.length > 1 ? `${title} (${adapter.namespace})` : title,
      version: document.info?.modified ?? document.info?.created ?? document.naftiko,
      description,
      ...(instructions.length > 0 ? { mcpInstructions: instructions.join(' ') } : {}),
      ...listCacheOf(own),
      upstream: { baseUrl: adapter.baseUrl, ...(adapter.auth ? { auth: adapter.auth } : {}), secrets },
      operations: toOperations(own),
    });
  }
  return descriptors;
}

/** The list cache hints of the MCP exposures calling this adapter, as one: the shortest TTL, `private` if any says so. */
function listCacheOf(exposures: readonly Exposure[]): Pick<PluginDescriptor, 'mcpListCache'> {
  const hints = exposures.flatMap((exposure) => (exposure.mcpListCache ? [exposure.mcpListCache] : []));
  if (hints.length === 0) return {};
  const ttls = hints.flatMap((hint) => (hint.ttlMs !== undefined ? [hint.ttlMs] : []));
  const scopes = hints.flatMap((hint) => (hint.cacheScope ? [hint.cacheScope] : []));
  return {
    mcpListCache: {
      ...(ttls.length > 0 ? { ttlMs: Math.min(...ttls) } : {}),
      ...(scopes.length > 0 ? { cacheScope: scopes.includes('private') ? 'private' : 'public' } : {}),
    },
  };
}

/** Shorter bound values are not treated as secrets: redacting "us" or "v2" would mangle every message. */
const MIN_BOUND_SECRET_LENGTH = 8;

/**
 * Every bound value may be a credential, wherever the capability uses it (auth, a `with` template, a body):
 * the gateway never echoes one back to a caller.
 */
function boundSecrets(bindings: Bindings): SecretRef[] {
  return bindings.variables
    .filter((variable) => variable.value !== undefined && variable.value.length >= MIN_BOUND_SECRET_LENGTH)
    .map((variable) => ({ source: variable.providerKey, value: variable.value }));
}

/** What makes two exposures the same operation: same upstream call, same inputs, same wiring, same output. */
function sameness(exposure: Exposure): string {
  const { plan, target } = exposure;
  return JSON.stringify({
    call: `${target.adapter.namespace}/${target.operation.resource}/${target.operation.name}`,
    inputs: plan.inputs.map(({ name, schema, required }) => ({ name, schema, required })),
    parameters: plan.parameters.map(({ parameter, expr }) => [parameter.name, parameter.in, expr]),
    body: plan.body,
    output: plan.output,
  });
}

/** REST operations and MCP tools that do the same call with the same inputs become one operation. */
function toOperations(exposures: readonly Exposure[]): OperationDescriptor<Record<string, unknown>>[] {
  const tools = exposures.filter((e) => e.tool);
  const merged = new Set<Exposure>();
  const operations: OperationDescriptor<Record<string, unknown>>[] = [];
  const ids = new Set<string>();
  const uniqueId = (wanted: string): string => {
    let id = /^[A-Za-z]/.test(wanted) ? wanted : `op-${wanted}`;
    id = id.replace(/[^A-Za-z0-9_.-]/g, '-');
    for (let n = 2; ids.has(id); n++) id = `${id.replace(/-\d+$/, '')}-${n}`;
    ids.add(id);
    return id;
  };
  for (const exposure of exposures) {
    if (merged.has(exposure)) continue;
    let tool: Exposure | undefined;
    if (exposure.rest) {
      const key = sameness(exposure);
      tool = tools.find((candidate) => !merged.has(candidate) && sameness(candidate) === key);
      if (tool) merged.add(tool);
    }
    merged.add(exposure);
    operations.push(toOperation(exposure, tool, uniqueId));
  }
  return operations;
}

function toOperation(
  primary: Exposure,
  tool: Exposure | undefined,
  uniqueId: (wanted: string) => string,
): OperationDescriptor<Record<string, unknown>> {
  const { plan, target } = primary;
  const { operation } = target;
  const mcp = (tool ?? primary).tool;
  const wanted = primary.name ?? (primary.rest ? `${primary.rest.method.toLowerCase()}-${primary.rest.path}` : operation.name);
  const summary =
    primary.label ?? tool?.label ?? shortText(primary.description) ?? shortText(operation.description) ?? primary.name ?? operation.name;
  const required = plan.inputs.filter((input) => input.required).map((input) => input.name);
  const tags = [...new Set([...(primary.tags ?? []), ...(tool?.tags ?? [])])];
  return {
    id: uniqueId(wanted),
    title: summary,
    ...(tags.length > 0 ? { tags } : {}),
    description: primary.description ?? tool?.description ?? operation.description ?? summary,
    input: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(plan.inputs.map((input) => [input.name, input.schema])),
      ...(required.length > 0 ? { required } : {}),
    },
    ...(plan.output ? { output: outputSchema(plan.output) } : {}),
    upstream: {
      method: operation.method,
      path: operation.path,
      toRequest: (input) => buildRequest(operation, plan, input),
      fromResponse: (response) => mapResponse(plan, response),
      errors: 'passthrough',
    },
    rest: primary.rest
      ? {
          method: primary.rest.method,
          path: primary.rest.path,
          parameters: Object.fromEntries(plan.inputs.map((input) => [input.name, input.source ?? 'query'])),
        }
      : false,
    mcp: mcp
      ? {
          tool: mcp.name,
          ...(mcp.title ? { title: mcp.title } : {}),
          ...(mcp.description ? { description: mcp.description } : {}),
          hints: mcp.hints,
        }
      : false,
  };
}

function shortText(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const line = text.trim().split('\n')[0] ?? '';
  return line.length <= 100 ? line : undefined;
}
