import { DescriptorError } from './errors.ts';
import type { InputValidator } from './schema-validator.ts';
import type { JsonSchema, OperationDescriptor, PluginDescriptor } from './types.ts';

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

export interface CompiledOperation {
  readonly plugin: PluginDescriptor;
  readonly operation: OperationDescriptor<any>;
  readonly validateInput: InputValidator;
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
  const routes = new Map<string, string>();
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
      const validateInput = compileOrFail(() => compile(operation.input), (reason) => fail(`${at}.input`, reason));
      if (operation.output) compileOrFail(() => compile(operation.output ?? {}), (reason) => fail(`${at}.output`, reason));
      if (operation.example !== undefined) {
        const problems = validateInput(operation.example);
        if (problems.length > 0) fail(`${at}.example`, `does not match the input schema (${problems[0]?.pointer} ${problems[0]?.message})`);
      }

      if (operation.rest) {
        const route = `${operation.rest.method} ${operation.rest.path}`;
        if (!operation.rest.path.startsWith('/')) fail(`${at}.rest.path`, 'must start with "/"');
        const owner = routes.get(route);
        if (owner) fail(`${at}.rest`, `duplicate REST route "${route}" (also ${owner})`);
        routes.set(route, `${plugin.id}.${operation.id}`);
      }
      if (operation.mcp) {
        if (!TOOL_NAME.test(operation.mcp.tool)) fail(`${at}.mcp.tool`, `"${operation.mcp.tool}" is not a valid MCP tool name`);
        const owner = tools.get(operation.mcp.tool);
        if (owner) fail(`${at}.mcp.tool`, `duplicate MCP tool name "${operation.mcp.tool}" (also ${owner})`);
        tools.set(operation.mcp.tool, `${plugin.id}.${operation.id}`);
      }
      if (operation.delivery) {
        if (operation.upstream.method === 'GET') fail(`${at}.delivery`, 'a GET operation reads, so it cannot be queued for later delivery');
        const { batch } = operation.delivery;
        if (batch) {
          const bodyOnly = Object.keys((operation.input.properties as Record<string, unknown> | undefined) ?? {});
          if (bodyOnly.length !== 1 || bodyOnly[0] !== 'body') fail(`${at}.delivery.batch`, 'a batch needs an input of exactly { body }: each batch item is one body');
          if (!IDENTIFIER.test(batch.itemsName)) fail(`${at}.delivery.batch.itemsName`, `"${batch.itemsName}" is not a valid property name`);
          if (!Number.isInteger(batch.maxItems) || batch.maxItems < 1) fail(`${at}.delivery.batch.maxItems`, 'must be a positive integer');
          if (batch.rest) {
            const route = `POST ${batch.rest.path}`;
            const owner = routes.get(route);
            if (owner) fail(`${at}.delivery.batch.rest`, `duplicate REST route "${route}" (also ${owner})`);
            routes.set(route, `${plugin.id}.${operation.id}`);
          }
          if (batch.mcp) {
            if (!TOOL_NAME.test(batch.mcp.tool)) fail(`${at}.delivery.batch.mcp.tool`, `"${batch.mcp.tool}" is not a valid MCP tool name`);
            const owner = tools.get(batch.mcp.tool);
            if (owner) fail(`${at}.delivery.batch.mcp.tool`, `duplicate MCP tool name "${batch.mcp.tool}" (also ${owner})`);
            tools.set(batch.mcp.tool, `${plugin.id}.${operation.id}`);
          }
        }
      }
      compiled.push({ plugin, operation, validateInput });
    }
  }
  return compiled;
}

function compileOrFail(compile: () => InputValidator, fail: (reason: string) => never): InputValidator {
  try {
    return compile();
  } catch (error) {
    return fail(`invalid JSON Schema: ${(error as Error).message}`);
  }
}
