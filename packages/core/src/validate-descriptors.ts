import { DescriptorError } from './errors.ts';
import { pathTemplateNames } from './path-template.ts';
import {
  inputPropertyFor,
  inputPropertyNames,
  normalisedRoute,
  restParameterSources,
  restPathNames,
  upstreamPlacements,
} from './rest-parameters.ts';
import { compileTextCoercion, type InputValidator, type TextCoercion } from './schema-validator.ts';
import type { JsonSchema, OperationDescriptor, PluginDescriptor } from './types.ts';

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

export interface CompiledOperation {
  readonly plugin: PluginDescriptor;
  readonly operation: OperationDescriptor<any>;
  readonly validateInput: InputValidator;
  /** For a REST exposure: converts its path, query and header values (text) to their schema types. */
  readonly coerceRestText?: TextCoercion;
}

/**
 * Checks every loaded descriptor together and compiles each input schema once.
 * Throws a DescriptorError naming the plugin and the field at the first problem.
 */
export function compileDescriptors(
  plugins: readonly PluginDescriptor[],
  compile: (schema: JsonSchema) => InputValidator,
): CompiledOperation[] {
  const pluginIds = new Set<string>();
  const routes = new Map<string, RouteOwner>();
  const tools = new Map<string, string>();
  const compiled: CompiledOperation[] = [];

  for (const plugin of plugins) {
    const fail = (field: string, reason: string): never => {
      throw new DescriptorError(plugin.id, field, reason);
    };
    if (!IDENTIFIER.test(plugin.id)) fail('id', `"${plugin.id}" is not a valid identifier`);
    if (pluginIds.has(plugin.id)) fail('id', 'another loaded plugin has the same id');
    pluginIds.add(plugin.id);
    if (!/^https?:\/\//.test(plugin.upstream.baseUrl)) fail('upstream.baseUrl', `"${plugin.upstream.baseUrl}" is not an http(s) URL`);
    const { secrets } = plugin.upstream;
    if (secrets !== undefined) {
      if (!Array.isArray(secrets)) fail('upstream.secrets', 'must be a list of { source, value }');
      for (const [index, ref] of secrets.entries()) {
        if (typeof ref?.source !== 'string' || (ref.value !== undefined && typeof ref.value !== 'string')) {
          fail(`upstream.secrets[${index}]`, 'must be { source: string, value: string | undefined }');
        }
      }
    }

    const operationIds = new Set<string>();
    for (const [index, operation] of plugin.operations.entries()) {
      const at = `operations[${index}]`;
      if (!IDENTIFIER.test(operation.id)) fail(`${at}.id`, `"${operation.id}" is not a valid identifier`);
      if (operationIds.has(operation.id)) fail(`${at}.id`, `duplicate operation id "${operation.id}"`);
      operationIds.add(operation.id);

      if (operation.input.type !== 'object') fail(`${at}.input`, 'the input schema must have type "object"');
      const validateInput = compileOrFail(
        () => compile(operation.input),
        (reason) => fail(`${at}.input`, reason),
      );
      if (operation.output)
        compileOrFail(
          () => compile(operation.output ?? {}),
          (reason) => fail(`${at}.output`, reason),
        );
      if (operation.example !== undefined) {
        const problems = validateInput(operation.example);
        if (problems.length > 0) fail(`${at}.example`, `does not match the input schema (${problems[0]?.pointer} ${problems[0]?.message})`);
      }

      checkPlacements(operation, (field, reason) => fail(`${at}.${field}`, reason));
      checkResponses(operation, (field, reason) => fail(`${at}.${field}`, reason));
      let coerceRestText: TextCoercion | undefined;
      if (operation.rest) {
        const route = `${operation.rest.method} ${operation.rest.path}`;
        if (!operation.rest.path.startsWith('/')) fail(`${at}.rest.path`, 'must start with "/"');
        const owner = routes.get(normalisedRoute(operation.rest.method, operation.rest.path));
        if (owner) fail(`${at}.rest`, `duplicate REST route "${route}" (also ${describeOwner(owner, route)})`);
        routes.set(normalisedRoute(operation.rest.method, operation.rest.path), { operation: `${plugin.id}.${operation.id}`, route });
        const sources = restParameterSources(operation);
        checkRestSources(operation.rest.path, sources, (reason) => fail(`${at}.rest.parameters`, reason));
        const textNames = Object.keys(sources).filter((name) => sources[name] !== 'body');
        if (textNames.length > 0)
          coerceRestText = compileOrFail(
            () => compileTextCoercion(operation.input, textNames),
            (reason) => fail(`${at}.input`, reason),
          );
      }
      if (operation.mcp) {
        if (!TOOL_NAME.test(operation.mcp.tool)) fail(`${at}.mcp.tool`, `"${operation.mcp.tool}" is not a valid MCP tool name`);
        const owner = tools.get(operation.mcp.tool);
        if (owner) fail(`${at}.mcp.tool`, `duplicate MCP tool name "${operation.mcp.tool}" (also ${owner})`);
        tools.set(operation.mcp.tool, `${plugin.id}.${operation.id}`);
      }
      if (operation.delivery) {
        if (operation.upstream.method === 'GET') fail(`${at}.delivery`, 'a GET operation reads, so it cannot be queued for later delivery');
        const { batch, summarize } = operation.delivery;
        if (summarize !== undefined && typeof summarize !== 'function')
          fail(`${at}.delivery.summarize`, 'must be a function from the validated input to { eventName?, identifyId?, accountId? }');
        if (batch) {
          const bodyOnly = Object.keys((operation.input.properties as Record<string, unknown> | undefined) ?? {});
          if (bodyOnly.length !== 1 || bodyOnly[0] !== 'body')
            fail(`${at}.delivery.batch`, 'a batch needs an input of exactly { body }: each batch item is one body');
          if (!IDENTIFIER.test(batch.itemsName))
            fail(`${at}.delivery.batch.itemsName`, `"${batch.itemsName}" is not a valid property name`);
          if (!Number.isInteger(batch.maxItems) || batch.maxItems < 1) fail(`${at}.delivery.batch.maxItems`, 'must be a positive integer');
          if (batch.rest) {
            const route = `POST ${batch.rest.path}`;
            const owner = routes.get(normalisedRoute('POST', batch.rest.path));
            if (owner) fail(`${at}.delivery.batch.rest`, `duplicate REST route "${route}" (also ${describeOwner(owner, route)})`);
            routes.set(normalisedRoute('POST', batch.rest.path), { operation: `${plugin.id}.${operation.id}`, route });
          }
          if (batch.mcp) {
            if (!TOOL_NAME.test(batch.mcp.tool)) fail(`${at}.delivery.batch.mcp.tool`, `"${batch.mcp.tool}" is not a valid MCP tool name`);
            const owner = tools.get(batch.mcp.tool);
            if (owner) fail(`${at}.delivery.batch.mcp.tool`, `duplicate MCP tool name "${batch.mcp.tool}" (also ${owner})`);
            tools.set(batch.mcp.tool, `${plugin.id}.${operation.id}`);
          }
        }
      }
      compiled.push({ plugin, operation, validateInput, ...(coerceRestText ? { coerceRestText } : {}) });
    }
  }
  return compiled;
}

interface RouteOwner {
  readonly operation: string;
  readonly route: string;
}

function describeOwner(owner: RouteOwner, route: string): string {
  return owner.route === route ? owner.operation : `${owner.operation} at "${owner.route}": parameter names do not tell routes apart`;
}

const PLACEMENTS = new Set(['path', 'query', 'header', 'body']);

/** Every input property has somewhere to go upstream (unless `toRequest` shapes the request), and at most one is the body. */
function checkPlacements(operation: OperationDescriptor<any>, fail: (field: string, reason: string) => never): void {
  const names = inputPropertyNames(operation);
  for (const [name, placement] of Object.entries(operation.upstream.inputs ?? {})) {
    if (!names.includes(name)) fail(`upstream.inputs.${name}`, 'is not a property of the input schema');
    if (!PLACEMENTS.has(placement)) fail(`upstream.inputs.${name}`, `"${placement}" is not one of path, query, header, body`);
    if (placement === 'path' && !pathTemplateNames(operation.upstream.path).some((p) => inputPropertyFor(operation, p) === name)) {
      fail(`upstream.inputs.${name}`, `is placed in the path, but upstream.path "${operation.upstream.path}" has no {${name}}`);
    }
  }
  const placements = upstreamPlacements(operation);
  const bodies = Object.keys(placements).filter((name) => placements[name] === 'body');
  if (bodies.length > 1) fail('upstream.inputs', `only one input property can be the JSON body (${bodies.join(', ')} are)`);
  if (operation.upstream.toRequest) return;
  for (const placeholder of pathTemplateNames(operation.upstream.path)) {
    if (inputPropertyFor(operation, placeholder) === undefined) fail('upstream.path', `{${placeholder}} names no input property`);
  }
  const unplaced = names.filter((name) => placements[name] === undefined);
  if (unplaced.length > 0) {
    fail(
      'upstream.inputs',
      `${unplaced.join(', ')} would never reach the upstream: place each one (path, query, header or body) or shape the request with toRequest`,
    );
  }
}

/** REST path parameters and the inputs read from the path are the same names; one JSON body at most. */
function checkRestSources(path: string, sources: Record<string, string>, fail: (reason: string) => never): void {
  const inPath = restPathNames(path);
  for (const name of inPath)
    if (sources[name] !== 'path') fail(`the REST path parameter "${name}" must be an input property read from the path`);
  for (const [name, source] of Object.entries(sources)) {
    if (!PLACEMENTS.has(source)) fail(`${name}: "${source}" is not one of path, query, header, body`);
    if (source === 'path' && !inPath.includes(name)) fail(`${name} is read from the path, but the REST path "${path}" has no :${name}`);
  }
  const bodies = Object.keys(sources).filter((name) => sources[name] === 'body');
  if (bodies.length > 1) fail(`only one input property can be the JSON body (${bodies.join(', ')} are)`);
}

function checkResponses(operation: OperationDescriptor<any>, fail: (field: string, reason: string) => never): void {
  const { responses } = operation;
  if (!responses) return;
  const { successStatus, notFound } = responses;
  if (successStatus !== undefined && !(Number.isInteger(successStatus) && successStatus >= 200 && successStatus <= 299)) {
    fail('responses.successStatus', 'must be a 2xx status');
  }
  for (const status of notFound ?? []) {
    if (!(Number.isInteger(status) && status >= 400 && status <= 499)) fail('responses.notFound', `${status} is not a 4xx status`);
  }
}

function compileOrFail<T>(compile: () => T, fail: (reason: string) => never): T {
  try {
    return compile();
  } catch (error) {
    return fail(`invalid JSON Schema: ${(error as Error).message}`);
  }
}
