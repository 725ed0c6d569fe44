import {
  type HttpMethod,
  type OperationDescriptor,
  type PluginDescriptor,
  pathTemplateNames,
  type SecretRef,
  type ToolHints,
  type UpstreamAuth,
} from '@gateway/core';
import type {
  Alpha2Auth,
  Alpha2ConsumedParameter,
  Alpha2Consumes,
  Alpha2Document,
  Alpha2Exposes,
  Alpha2MappedOutput,
  Alpha2Tool,
  Alpha2Type,
} from './alpha2.ts';
import type { Bindings, Environment } from './binds.ts';
import { type DiagnosticSink, formatPath, type YamlPath } from './diagnostics.ts';
import { splitTemplate } from './expressions.ts';
import { checkMapping, outputSchema } from './output-mapping.ts';
import {
  type ConsumedOperation,
  type ConsumedParameter,
  type ExposureSource,
  type OperationPlan,
  PlanBuilder,
  singleBraces,
} from './plan.ts';
import { buildRequest, mapResponse } from './runtime.ts';
import { API_KEY_NEEDS_KEY } from './schema.ts';

export interface InterpretOptions {
  readonly file: string;
  readonly environment: Environment;
  /** Base URI per consumes namespace, overriding the file (and `CAPABILITY_BASE_URI_<NAMESPACE>`). */
  readonly baseUris?: Readonly<Record<string, string>>;
}

/** Where a capability wants to be served, each with the YAML path that says so. */
export interface DeclaredPort {
  readonly port: number;
  readonly path: string;
}

export interface InterpretedCapability {
  readonly title: string;
  readonly description: string;
  /** One descriptor per consumed adapter that some exposure calls (one for a single-upstream capability). */
  readonly descriptors: readonly PluginDescriptor[];
  readonly ports: { readonly rest: readonly DeclaredPort[]; readonly mcp: readonly DeclaredPort[] };
  /** `exposes[type=mcp].description`: what the reference engine sends as the MCP server's instructions. */
  readonly mcpInstructions: readonly string[];
}

interface Adapter {
  readonly namespace: string;
  readonly baseUrl: string;
  readonly auth?: UpstreamAuth;
  readonly description?: string;
  readonly operations: readonly ConsumedOperation[];
  readonly at: YamlPath;
}

interface Exposure {
  readonly source: ExposureSource;
  readonly target: { adapter: Adapter; operation: ConsumedOperation };
  readonly plan: OperationPlan;
  readonly name?: string;
  readonly label?: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly rest?: { method: HttpMethod; path: string };
  readonly tool?: { name: string; title?: string; description?: string; hints: ToolHints };
  /** MCP tools: the description of the exposure that declares them. */
  readonly mcpDescription?: string;
}

/** The environment variable that overrides a consumes adapter's base URI: `CAPABILITY_BASE_URI_PX_CUSTOM_EVENTS`. */
export function baseUriVariable(namespace: string): string {
  return `CAPABILITY_BASE_URI_${namespace.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

const PLUGIN_ID = /^[A-Za-z][A-Za-z0-9_.-]*$/;

/** Maps a schema-checked alpha2 document to plugin descriptors, reporting what it cannot serve. */
export function interpret(
  document: Alpha2Document,
  bindings: Bindings,
  sink: DiagnosticSink,
  options: InterpretOptions,
): InterpretedCapability | undefined {
  if (!document.capability) {
    sink.error(['consumes'], 'this is a shared consumer file (root "consumes" without "capability"): it exposes nothing to serve');
    return undefined;
  }
  const adapters = readAdapters(document, bindings, sink, options);
  const exposures: Exposure[] = [];
  const ports = { rest: [] as DeclaredPort[], mcp: [] as DeclaredPort[] };
  const mcpInstructions: string[] = [];
  const exposeNamespaces = new Set<string>();

  for (const [index, exposes] of (document.capability.exposes ?? []).entries()) {
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
  if ((document.capability.aggregates ?? []).length > 0) {
    sink.warning(['capability', 'aggregates'], 'aggregates are not served by this gateway; only "call" exposures run');
  }
  checkUniqueness(exposures, sink);
  if (exposures.length === 0 && !sink.hasErrors) sink.error(['capability'], 'exposes no REST operation and no MCP tool: nothing to serve');

  const title = document.info?.label ?? adapters[0]?.namespace ?? 'Naftiko capability';
  const description = document.info?.description ?? title;
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
      upstream: { baseUrl: adapter.baseUrl, ...(adapter.auth ? { auth: adapter.auth } : {}), secrets },
      operations: toOperations(own),
    });
  }
  return { title, description, descriptors, ports, mcpInstructions };
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

// ---- consumes -------------------------------------------------------------------------------------------

function readAdapters(document: Alpha2Document, bindings: Bindings, sink: DiagnosticSink, options: InterpretOptions): Adapter[] {
  const lists: [YamlPath, readonly Alpha2Consumes[] | undefined][] = [
    [['consumes'], document.consumes],
    [['capability', 'consumes'], document.capability?.consumes],
  ];
  const adapters: Adapter[] = [];
  for (const [listPath, list] of lists) {
    for (const [index, consumes] of (list ?? []).entries()) {
      const at = [...listPath, index];
      if ('location' in consumes) {
        sink.error([...at, 'location'], 'imported consumes ("location") are not supported by this gateway; declare the adapter inline');
        continue;
      }
      if (adapters.some((a) => a.namespace === consumes.namespace)) {
        sink.error([...at, 'namespace'], `consumes namespace "${consumes.namespace}" is declared twice`);
        continue;
      }
      const override = options.baseUris?.[consumes.namespace] ?? options.environment[baseUriVariable(consumes.namespace)];
      if (override !== undefined && !/^https?:\/\/[^/]+/.test(override)) {
        sink.error(
          [...at, 'baseUri'],
          `the override ${options.baseUris?.[consumes.namespace] !== undefined ? '' : `${baseUriVariable(consumes.namespace)} `}"${override}" is not an http(s) URL`,
        );
      }
      const auth = consumes.authentication
        ? readAuth(consumes.authentication, [...at, 'authentication'], bindings, sink, options.file)
        : undefined;
      const shared = readParameters(consumes.inputParameters, [...at, 'inputParameters'], sink);
      const operations: ConsumedOperation[] = [];
      for (const [r, resource] of (consumes.resources ?? []).entries()) {
        const resourceAt = [...at, 'resources', r];
        const resourceParameters = readParameters(resource.inputParameters, [...resourceAt, 'inputParameters'], sink);
        for (const [o, operation] of resource.operations.entries()) {
          const operationAt = [...resourceAt, 'operations', o];
          const parameters = mergeParameters(
            [...shared, ...resourceParameters, ...readParameters(operation.inputParameters, [...operationAt, 'inputParameters'], sink)],
            resource.path,
            [...resourceAt, 'path'],
            sink,
          );
          const bodyTemplate = operation.body === undefined ? undefined : readBodyTemplate(operation.body, [...operationAt, 'body'], sink);
          operations.push({
            namespace: consumes.namespace,
            resource: resource.name,
            name: operation.name,
            method: operation.method ?? 'GET',
            path: singleBraces(resource.path.startsWith('/') ? resource.path : `/${resource.path}`),
            ...(operation.label ? { label: operation.label } : {}),
            ...((operation.description ?? resource.description) ? { description: operation.description ?? resource.description } : {}),
            parameters,
            ...(bodyTemplate !== undefined ? { bodyTemplate } : {}),
            at: operationAt,
          });
          if (operation.outputRawFormat && operation.outputRawFormat !== 'json') {
            sink.warning(
              [...operationAt, 'outputRawFormat'],
              `"${operation.outputRawFormat}" answers are relayed as text; only json is mapped`,
            );
          }
        }
      }
      adapters.push({
        namespace: consumes.namespace,
        baseUrl: (override ?? fillBaseUri(consumes.baseUri, consumes.namespace, [...at, 'baseUri'], bindings, sink)).replace(/\/+$/, ''),
        ...(auth ? { auth } : {}),
        ...(consumes.description ? { description: consumes.description } : {}),
        operations,
        at,
      });
    }
  }
  return adapters;
}

/**
 * `{{VAR}}` in a baseUri reads a bound variable; a placeholder nothing fills (a catalog file's `{domain}`) would
 * make every call fail to resolve the host, so it is an error naming both fixes.
 */
function fillBaseUri(baseUri: string, namespace: string, at: YamlPath, bindings: Bindings, sink: DiagnosticSink): string {
  const unfilled: string[] = [];
  const filled = baseUri.replace(
    /\{\{\s*([^{}]+?)\s*\}\}|\{([^{}]+)\}/g,
    (placeholder, bound: string | undefined, plain: string | undefined) => {
      const variable = bound ? bindings.find(bound) : undefined;
      if (variable && variable !== 'ambiguous') return variable.value ?? placeholder;
      unfilled.push(bound ?? plain ?? placeholder);
      return placeholder;
    },
  );
  if (unfilled.length > 0) {
    const names = unfilled.map((name) => `{${name}}`).join(', ');
    sink.error(
      at,
      `${JSON.stringify(baseUri)} has ${unfilled.length > 1 ? 'placeholders' : 'a placeholder'} ${names} that nothing fills, so every call would fail; ` +
        `bind ${unfilled.length > 1 ? 'them' : 'it'} (write {{${unfilled[0]}}} and declare ${unfilled[0]} in binds) or set ${baseUriVariable(namespace)} to the full URL`,
    );
  }
  return filled;
}

const TYPES: readonly Alpha2Type[] = ['string', 'number', 'integer', 'boolean', 'array', 'object'];

function readParameters(list: readonly Alpha2ConsumedParameter[] | undefined, at: YamlPath, sink: DiagnosticSink): ConsumedParameter[] {
  return (list ?? []).map((parameter, index) => {
    const path = [...at, index];
    const type = TYPES.includes(parameter.type as Alpha2Type) ? (parameter.type as Alpha2Type) : undefined;
    if (parameter.type !== undefined && !type) sink.warning([...path, 'type'], `unknown type ${JSON.stringify(parameter.type)}; ignored`);
    if (parameter.required !== undefined && typeof parameter.required !== 'boolean')
      sink.warning([...path, 'required'], 'must be true or false; ignored');
    return {
      name: parameter.name,
      in: parameter.in,
      ...(parameter.value !== undefined ? { value: parameter.value } : {}),
      ...(type ? { type } : {}),
      ...(typeof parameter.required === 'boolean' ? { required: parameter.required } : {}),
      ...(typeof parameter.description === 'string' ? { description: parameter.description } : {}),
      declared: true,
      path,
    };
  });
}

/** Later levels win on the same name + location; path templates nobody declared become path parameters. */
function mergeParameters(list: ConsumedParameter[], path: string, pathAt: YamlPath, sink: DiagnosticSink): ConsumedParameter[] {
  const merged: ConsumedParameter[] = [];
  for (const parameter of list) {
    const existing = merged.findIndex((p) => p.name === parameter.name && p.in === parameter.in);
    if (existing >= 0) merged[existing] = parameter;
    else merged.push(parameter);
  }
  const templates = pathTemplateNames(path);
  for (const name of templates) {
    if (!merged.some((p) => p.in === 'path' && p.name.toLowerCase() === name.toLowerCase())) {
      merged.push({ name, in: 'path', type: 'string', declared: false, path: pathAt });
    }
  }
  for (const parameter of merged) {
    if (parameter.in === 'path' && parameter.declared && !templates.some((name) => name.toLowerCase() === parameter.name.toLowerCase())) {
      sink.warning(parameter.path, `declared "in: path" but the path ${path} has no {${parameter.name}}; never sent`);
    }
  }
  return merged;
}

function readBodyTemplate(body: { type: string; data: unknown } | string, at: YamlPath, sink: DiagnosticSink): unknown {
  if (typeof body !== 'string' && body.type !== 'json') {
    sink.error([...at, 'type'], `"${body.type}" request bodies are not supported by this gateway (JSON only)`);
    return undefined;
  }
  const data = typeof body === 'string' ? body : body.data;
  if (typeof data !== 'string') return data;
  for (const text of [data, data.replace(/(?<!")(\{\{\s*[^{}]+?\s*\}\})(?!")/g, '"$1"')]) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // try the next reading
    }
  }
  sink.error(typeof body === 'string' ? at : [...at, 'data'], 'is not JSON (with {{placeholders}} as values)');
  return undefined;
}

function readAuth(auth: Alpha2Auth, at: YamlPath, bindings: Bindings, sink: DiagnosticSink, file: string): UpstreamAuth | undefined {
  const secret = (field: string, text: string | undefined): SecretRef | undefined => {
    if (text === undefined) {
      sink.error([...at, field], `${auth.type} authentication needs "${field}"`);
      return undefined;
    }
    return readSecret(text, [...at, field], bindings, sink, file);
  };
  switch (auth.type) {
    case 'apikey': {
      // Both problems at once: a missing key is no reason to keep quiet about a missing value.
      if (!auth.key) sink.error([...at, 'key'], API_KEY_NEEDS_KEY);
      const value = secret('value', auth.value);
      return value && auth.key ? { type: 'apikey', in: auth.placement ?? 'header', name: auth.key, secret: value } : undefined;
    }
    case 'bearer': {
      const token = secret('token', auth.token);
      return token ? { type: 'bearer', secret: token } : undefined;
    }
    case 'basic': {
      const username = secret('username', auth.username);
      const password = secret('password', auth.password);
      return username && password ? { type: 'basic', username, secret: password } : undefined;
    }
    default:
      sink.error([...at, 'type'], `"${auth.type}" authentication is not supported by this gateway (apikey, bearer and basic are)`);
      return undefined;
  }
}

/** `{{VAR}}` / `{{namespace.VAR}}` (or `$namespace.VAR`) from binds; the variables' names are the source. */
function readSecret(text: string, at: YamlPath, bindings: Bindings, sink: DiagnosticSink, file: string): SecretRef | undefined {
  const dollar = /^\$([A-Za-z0-9-]+\.[A-Za-z0-9_]+)$/.exec(text.trim());
  const parts = splitTemplate(dollar ? `{{${dollar[1]}}}` : text);
  const sources: string[] = [];
  let value = '';
  let complete = true;
  for (const part of parts) {
    if ('text' in part) {
      value += part.text;
      continue;
    }
    const variable = bindings.find(part.reference);
    if (variable === 'ambiguous') {
      sink.error(at, `{{${part.reference}}} is bound by several bind namespaces; write {{namespace.${part.reference}}}`);
      return undefined;
    }
    if (!variable) {
      sink.error(at, `{{${part.reference}}} is not declared in binds`);
      return undefined;
    }
    sources.push(variable.providerKey);
    if (variable.value === undefined) complete = false;
    else value += variable.value;
  }
  if (sources.length === 0) {
    sink.warning(at, 'a credential written in the file; bind it from the environment instead ({{VAR}} with binds)');
    return { source: `${file} ${formatPath(at)}`, value: text };
  }
  return { source: [...new Set(sources)].join(', '), value: complete ? value : undefined };
}

// ---- exposes --------------------------------------------------------------------------------------------

function resolveCall(
  call: string | undefined,
  at: YamlPath,
  adapters: readonly Adapter[],
  sink: DiagnosticSink,
): { adapter: Adapter; operation: ConsumedOperation } | undefined {
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
  adapters: readonly Adapter[],
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

function readMcpExposure(
  exposes: Extract<Alpha2Exposes, { type: 'mcp' }>,
  at: YamlPath,
  adapters: readonly Adapter[],
  bindings: Bindings,
  sink: DiagnosticSink,
): Exposure[] {
  const exposures: Exposure[] = [];
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

// ---- descriptors ----------------------------------------------------------------------------------------

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
