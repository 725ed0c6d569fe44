// The exposes section: REST operations and MCP tools, each planned against the consumed operation it calls.
import type { HttpMethod, ToolHints } from '@gateway/core';
import type { Alpha2Document, Alpha2Exposes, Alpha2MappedOutput, Alpha2Tool } from './alpha2.ts';
import type { Bindings } from './binds.ts';
import type { ConsumedAdapter } from './consumes.ts';
import { type DiagnosticSink, formatPath, type YamlPath } from './diagnostics.ts';
import { checkMapping } from './output-mapping.ts';
import { type ConsumedOperation, type ExposureSource, type OperationPlan, PlanBuilder, singleBraces } from './plan.ts';

/** Where a capability wants to be served, each with the YAML path that says so. */
export interface DeclaredPort {
  readonly port: number;
  readonly path: string;
}

/** One REST operation or MCP tool, with the consumed operation it calls and how its inputs reach that call. */
export interface Exposure {
  readonly source: ExposureSource;
  readonly target: { adapter: ConsumedAdapter; operation: ConsumedOperation };
  readonly plan: OperationPlan;
  readonly name?: string;
  readonly label?: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly rest?: { method: HttpMethod; path: string };
  readonly tool?: { name: string; title?: string; description?: string; hints: ToolHints };
  /** MCP tools: the description of the exposure that declares them. */
  readonly mcpDescription?: string;
  /** MCP tools: the list cache hint of the exposure that declares them (Ikanos beta4 `ttlMs`, `cacheScope`). */
  readonly mcpListCache?: { readonly ttlMs?: number; readonly cacheScope?: 'public' | 'private' };
}

/** What the exposes section asks for: the exposures, the ports it names and its MCP server instructions. */
export interface CapabilityExposures {
  readonly exposures: readonly Exposure[];
  readonly ports: { readonly rest: readonly DeclaredPort[]; readonly mcp: readonly DeclaredPort[] };
  /** `exposes[type=mcp].description`: what the reference engine sends as the MCP server's instructions. */
  readonly mcpInstructions: readonly string[];
}

/** Reads every exposure the gateway can serve, reporting the ones it cannot and duplicate tools or routes. */
export function readExposures(
  capability: NonNullable<Alpha2Document['capability']>,
  adapters: readonly ConsumedAdapter[],
  bindings: Bindings,
  sink: DiagnosticSink,
): CapabilityExposures {
  const exposures: Exposure[] = [];
  const ports = { rest: [] as DeclaredPort[], mcp: [] as DeclaredPort[] };
  const mcpInstructions: string[] = [];
  const exposeNamespaces = new Set<string>();

  for (const [index, exposes] of (capability.exposes ?? []).entries()) {
    const at: YamlPath = ['capability', 'exposes', index];
    if (exposes.type === 'skill' || exposes.type === 'control') {
      sink.warning([...at, 'type'], `"${exposes.type}" exposures are not served by this gateway; ignored`);
      continue;
    }
    if (exposeNamespaces.has(exposes.namespace))
      sink.error([...at, 'namespace'], `exposure namespace "${exposes.namespace}" is declared twice`);
    exposeNamespaces.add(exposes.namespace);
    if (exposes.authentication) {
      sink.error(
        [...at, 'authentication'],
        'inbound authentication on an exposure is not supported by this gateway; serving it would leave it unprotected',
      );
    }
    if (exposes.address !== undefined)
      sink.warning([...at, 'address'], `address "${exposes.address}" is ignored: the gateway listens on HOST (default 127.0.0.1)`);
    if (exposes.type === 'rest') {
      ports.rest.push({ port: exposes.port, path: formatPath([...at, 'port']) });
      exposures.push(...readRestExposure(exposes, at, adapters, bindings, sink));
    } else {
      if (exposes.transport === 'stdio')
        sink.warning(
          [...at, 'transport'],
          'stdio transport: this gateway serves MCP over Streamable HTTP only; the tools are served there',
        );
      else if (exposes.port !== undefined) ports.mcp.push({ port: exposes.port, path: formatPath([...at, 'port']) });
      if (exposes.description) mcpInstructions.push(exposes.description);
      if (exposes.resources?.length) sink.warning([...at, 'resources'], 'MCP resources are not served by this gateway; ignored');
      if (exposes.prompts?.length) sink.warning([...at, 'prompts'], 'MCP prompts are not served by this gateway; ignored');
      exposures.push(...readMcpExposure(exposes, at, adapters, bindings, sink));
    }
  }
  if ((capability.aggregates ?? []).length > 0) {
    sink.warning(['capability', 'aggregates'], 'aggregates are not served by this gateway; only "call" exposures run');
  }
  checkUniqueness(exposures, sink);
  return { exposures, ports, mcpInstructions };
}

function resolveCall(
  call: string | undefined,
  at: YamlPath,
  adapters: readonly ConsumedAdapter[],
  sink: DiagnosticSink,
): { adapter: ConsumedAdapter; operation: ConsumedOperation } | undefined {
  if (!call) {
    sink.error(at, 'has no "call": only single-call exposures are served by this gateway');
    return undefined;
  }
  const [namespace, ...rest] = call.split('.');
  const adapter = adapters.find((a) => a.namespace === namespace);
  if (!adapter) {
    const known = adapters.map((a) => a.namespace).join(', ') || 'none';
    sink.error([...at, 'call'], `unknown call target "${call}": no consumes namespace "${namespace}" (declared: ${known})`);
    return undefined;
  }
  const [resourceName, operationName] = rest.length === 2 ? rest : [undefined, rest[0]];
  const matches = adapter.operations.filter((o) => o.name === operationName && (resourceName === undefined || o.resource === resourceName));
  if (matches.length === 0) {
    const known = adapter.operations.map((o) => o.name).join(', ') || 'none';
    sink.error([...at, 'call'], `unknown call target "${call}": "${namespace}" has no operation "${operationName}" (operations: ${known})`);
    return undefined;
  }
  if (matches.length > 1) {
    sink.error(
      [...at, 'call'],
      `"${call}" is ambiguous: resources ${matches.map((m) => m.resource).join(', ')} all have "${operationName}"; write ${namespace}.<resource>.${operationName}`,
    );
    return undefined;
  }
  return { adapter, operation: matches[0] as ConsumedOperation };
}

function unsupportedModes(item: { ref?: string; steps?: readonly unknown[] }, at: YamlPath, sink: DiagnosticSink): boolean {
  if (item.ref !== undefined) sink.error([...at, 'ref'], 'aggregate references ("ref") are not supported by this gateway; use "call"');
  else if (item.steps !== undefined)
    sink.error([...at, 'steps'], 'orchestrated "steps" are not supported by this gateway; use a single "call"');
  else return false;
  return true;
}

function readOutput(list: readonly Alpha2MappedOutput[] | undefined, at: YamlPath, sink: DiagnosticSink): Alpha2MappedOutput | undefined {
  if (!list || list.length === 0) return undefined;
  if (list.length > 1)
    sink.warning([...at, 'outputParameters', 1], 'only the first output parameter shapes the result; the others are ignored');
  const check = (spec: Alpha2MappedOutput, path: YamlPath): void => {
    if (spec.mapping !== undefined) {
      const problem = checkMapping(spec.mapping);
      if (problem) sink.error([...path, 'mapping'], problem);
    }
    for (const [name, property] of Object.entries(spec.properties ?? {})) check(property, [...path, 'properties', name]);
    if (spec.items) check(spec.items, [...path, 'items']);
  };
  const first = list[0] as Alpha2MappedOutput;
  check(first, [...at, 'outputParameters', 0]);
  return first;
}

function readRestExposure(
  exposes: Extract<Alpha2Exposes, { type: 'rest' }>,
  at: YamlPath,
  adapters: readonly ConsumedAdapter[],
  bindings: Bindings,
  sink: DiagnosticSink,
): Exposure[] {
  const exposures: Exposure[] = [];
  for (const [r, resource] of (exposes.resources ?? []).entries()) {
    const resourceAt = [...at, 'resources', r];
    if (resource.forward !== undefined) {
      sink.error([...resourceAt, 'forward'], 'forwarding resources are not supported by this gateway; declare operations with "call"');
      continue;
    }
    const restPath = singleBraces(resource.path.startsWith('/') ? resource.path : `/${resource.path}`);
    for (const [o, operation] of (resource.operations ?? []).entries()) {
      const operationAt = [...resourceAt, 'operations', o];
      if (unsupportedModes(operation, operationAt, sink)) continue;
      const target = resolveCall(operation.call, operationAt, adapters, sink);
      if (!target) continue;
      const output = readOutput(operation.outputParameters, operationAt, sink);
      const source: ExposureSource = {
        kind: 'rest',
        namespace: exposes.namespace,
        at: operationAt,
        restPath,
        restParameters: [
          ...(resource.inputParameters ?? []).map((parameter, i) => ({ parameter, at: [...resourceAt, 'inputParameters', i] })),
          ...(operation.inputParameters ?? []).map((parameter, i) => ({ parameter, at: [...operationAt, 'inputParameters', i] })),
        ],
        ...(operation.with ? { with: operation.with } : {}),
        ...(output ? { output } : {}),
      };
      const plan = new PlanBuilder(source, target.operation, bindings, sink).build();
      exposures.push({
        source,
        target,
        plan,
        ...(operation.name ? { name: operation.name } : {}),
        ...((operation.label ?? resource.label) ? { label: operation.label ?? resource.label } : {}),
        ...((operation.description ?? resource.description) ? { description: operation.description ?? resource.description } : {}),
        ...(operation.tags ? { tags: operation.tags } : {}),
        rest: { method: operation.method ?? 'GET', path: restPath },
      });
    }
  }
  return exposures;
}

/** Ikanos beta4 `ttlMs`/`cacheScope` on an MCP exposure: how long clients may reuse its tool list. */
function readListCache(
  exposes: { ttlMs?: unknown; cacheScope?: unknown },
  at: YamlPath,
  sink: DiagnosticSink,
): Exposure['mcpListCache'] | undefined {
  const { ttlMs, cacheScope } = exposes;
  if (ttlMs === undefined && cacheScope === undefined) return undefined;
  if (ttlMs !== undefined && !(Number.isSafeInteger(ttlMs) && (ttlMs as number) >= 0)) {
    sink.error([...at, 'ttlMs'], `ttlMs must be a whole number of milliseconds, 0 or more (got ${JSON.stringify(ttlMs)})`);
    return undefined;
  }
  return {
    ...(ttlMs !== undefined ? { ttlMs: ttlMs as number } : {}),
    ...(cacheScope === 'public' || cacheScope === 'private' ? { cacheScope } : {}),
  };
}

function readMcpExposure(
  exposes: Extract<Alpha2Exposes, { type: 'mcp' }>,
  at: YamlPath,
  adapters: readonly ConsumedAdapter[],
  bindings: Bindings,
  sink: DiagnosticSink,
): Exposure[] {
  const exposures: Exposure[] = [];
  const listCache = readListCache(exposes as { ttlMs?: unknown; cacheScope?: unknown }, at, sink);
  for (const [t, tool] of exposes.tools.entries()) {
    const toolAt = [...at, 'tools', t];
    if (unsupportedModes(tool, toolAt, sink)) continue;
    if (!tool.call) {
      sink.error(toolAt, 'mock tools (static outputParameters without "call") are not supported by this gateway');
      continue;
    }
    const target = resolveCall(tool.call, toolAt, adapters, sink);
    if (!target || !tool.name) continue;
    const output = readOutput(tool.outputParameters, toolAt, sink);
    const source: ExposureSource = {
      kind: 'mcp',
      namespace: exposes.namespace,
      at: toolAt,
      toolParameters: (tool.inputParameters ?? []).map((parameter, i) => ({ parameter, at: [...toolAt, 'inputParameters', i] })),
      ...(tool.with ? { with: tool.with } : {}),
      ...(output ? { output } : {}),
    };
    const plan = new PlanBuilder(source, target.operation, bindings, sink).build();
    exposures.push({
      source,
      target,
      plan,
      ...(exposes.description ? { mcpDescription: exposes.description } : {}),
      ...(listCache ? { mcpListCache: listCache } : {}),
      name: tool.name,
      ...(tool.label ? { label: tool.label } : {}),
      ...(tool.description ? { description: tool.description } : {}),
      ...(tool.tags ? { tags: tool.tags } : {}),
      tool: {
        name: tool.name,
        ...(tool.label ? { title: tool.label } : {}),
        ...(tool.description ? { description: tool.description } : {}),
        hints: toolHints(tool, target.operation.method),
      },
    });
  }
  return exposures;
}

/**
 * Explicit hints win. Missing ones follow the upstream method: GET is read-only and idempotent, POST is additive,
 * PUT/PATCH/DELETE may destroy, PUT/DELETE are idempotent; openWorld defaults to true (a remote API).
 */
function toolHints(tool: Alpha2Tool, method: HttpMethod): ToolHints {
  const reads = method === 'GET';
  const readOnlyHint = tool.hints?.readOnly ?? reads;
  return {
    readOnlyHint,
    destructiveHint: tool.hints?.destructive ?? (readOnlyHint ? false : method !== 'POST'),
    idempotentHint: tool.hints?.idempotent ?? (reads || method === 'PUT' || method === 'DELETE'),
    openWorldHint: tool.hints?.openWorld ?? true,
  };
}

function checkUniqueness(exposures: readonly Exposure[], sink: DiagnosticSink): void {
  const tools = new Map<string, YamlPath>();
  const routes = new Map<string, YamlPath>();
  for (const exposure of exposures) {
    if (exposure.tool) {
      const first = tools.get(exposure.tool.name);
      if (first) sink.error([...exposure.source.at, 'name'], `duplicate tool name "${exposure.tool.name}" (also ${formatPath(first)})`);
      else tools.set(exposure.tool.name, exposure.source.at);
    }
    if (exposure.rest) {
      const route = `${exposure.rest.method} ${exposure.rest.path.replace(/\{[^}]+\}/g, '{}')}`;
      const first = routes.get(route);
      if (first)
        sink.error(
          [...exposure.source.at, 'method'],
          `duplicate REST route ${exposure.rest.method} ${exposure.rest.path} (also ${formatPath(first)})`,
        );
      else routes.set(route, exposure.source.at);
    }
  }
}
