import { describe, expect, it } from 'vitest';
import { definePlugin } from './define.ts';
import { DescriptorError } from './errors.ts';
import { createSchemaCompiler } from './schema-validator.ts';
import type { OperationDescriptor, PluginDescriptor } from './types.ts';
import { compileDescriptors } from './validate-descriptors.ts';

const operation = (overrides: Partial<OperationDescriptor> = {}): OperationDescriptor => ({
  id: 'doThing',
  title: 'Do a thing',
  description: 'Does a thing.',
  input: { type: 'object', properties: { body: { type: 'object' } } },
  upstream: { method: 'POST', path: '/things' },
  rest: { method: 'POST', path: '/v1/things' },
  mcp: { tool: 'do-thing', hints: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true } },
  ...overrides,
});

const plugin = (id: string, operations: OperationDescriptor[]): PluginDescriptor =>
  definePlugin({ id, title: id, version: '1.0.0', description: id, upstream: { baseUrl: 'http://127.0.0.1:1' }, operations });

function loadError(plugins: PluginDescriptor[]): DescriptorError {
  try {
    compileDescriptors(plugins, createSchemaCompiler());
  } catch (error) {
    expect(error).toBeInstanceOf(DescriptorError);
    return error as DescriptorError;
  }
  throw new Error('expected a DescriptorError');
}

describe('compileDescriptors', () => {
  it('compiles valid descriptors once, one entry per operation', () => {
    const compiled = compileDescriptors([plugin('a', [operation()])], createSchemaCompiler());
    expect(compiled).toHaveLength(1);
    expect(compiled[0]?.validateInput({ body: {} })).toEqual([]);
    expect(compiled[0]?.validateInput({ body: 3 })).toEqual([{ pointer: '/body', message: 'must be object' }]);
  });

  it('rejects duplicate operation ids, naming plugin and field', () => {
    const error = loadError([plugin('a', [operation(), operation({ rest: false, mcp: false })])]);
    expect(error.message).toBe('plugin "a": operations[1].id: duplicate operation id "doThing"');
  });

  it('rejects duplicate REST routes across plugins', () => {
    const error = loadError([plugin('a', [operation()]), plugin('b', [operation({ mcp: false })])]);
    expect(error.pluginId).toBe('b');
    expect(error.field).toBe('operations[0].rest');
    expect(error.message).toContain('duplicate REST route "POST /v1/things" (also a.doThing)');
  });

  it('rejects a delivery summarize that is not a function', () => {
    const error = loadError([plugin('a', [operation({ delivery: { summarize: 'eventName' as never } })])]);
    expect(error.field).toBe('operations[0].delivery.summarize');
    expect(error.message).toContain('must be a function');
  });

  it('rejects duplicate MCP tool names across plugins', () => {
    const error = loadError([plugin('a', [operation()]), plugin('b', [operation({ rest: false })])]);
    expect(error.message).toBe('plugin "b": operations[0].mcp.tool: duplicate MCP tool name "do-thing" (also a.doThing)');
  });

  it('rejects an invalid JSON Schema with the compiler reason', () => {
    const error = loadError([plugin('a', [operation({ input: { type: 'object', properties: { body: { type: 'nope' } } } })])]);
    expect(error.field).toBe('operations[0].input');
    expect(error.message).toMatch(/invalid JSON Schema/);
  });

  it('rejects an example that does not match the input schema', () => {
    const input = { type: 'object', required: ['body'], properties: { body: { type: 'object' } } };
    const error = loadError([plugin('a', [operation({ input, example: {} })])]);
    expect(error.field).toBe('operations[0].example');
  });

  it('rejects a non-object input schema and a bad base URL', () => {
    expect(loadError([plugin('a', [operation({ input: { type: 'string' } })])]).field).toBe('operations[0].input');
    const bad = { ...plugin('a', [operation()]), upstream: { baseUrl: 'ftp://x' } };
    expect(loadError([bad]).field).toBe('upstream.baseUrl');
  });

  it('accepts upstream secrets as { source, value } and rejects anything else', () => {
    const base = plugin('a', [operation()]);
    const withSecrets = (secrets: unknown) => ({ ...base, upstream: { ...base.upstream, secrets } }) as PluginDescriptor;
    expect(
      compileDescriptors(
        [
          withSecrets([
            { source: 'TENANT_TOKEN', value: 'abc' },
            { source: 'UNSET', value: undefined },
          ]),
        ],
        createSchemaCompiler(),
      ),
    ).toHaveLength(1);
    expect(loadError([withSecrets('abc')]).field).toBe('upstream.secrets');
    expect(loadError([withSecrets([{ source: 'X', value: 3 }])]).field).toBe('upstream.secrets[0]');
    expect(loadError([withSecrets([null])]).field).toBe('upstream.secrets[0]');
  });
});
