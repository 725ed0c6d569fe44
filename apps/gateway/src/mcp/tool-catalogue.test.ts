import { definePlugin, type OperationDescriptor, type PluginDescriptor } from '@gateway/core';
import { ACCOUNT_TOOLS, gainsightPxPlugin, readPxSettings, USER_TOOLS } from '@gateway/plugin-gainsight-px';
import { describe, expect, it } from 'vitest';
import { buildToolCatalogue } from './tool-catalogue.ts';

const HINTS = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

function plugin(id: string, operations: OperationDescriptor[]): PluginDescriptor {
  return definePlugin({
    id,
    title: `Title of ${id}`,
    version: '1.0.0',
    description: `What ${id} does.`,
    upstream: { baseUrl: 'https://example.com' },
    operations,
  });
}

const operation = (id: string, mcp: OperationDescriptor['mcp'], output?: OperationDescriptor['output']): OperationDescriptor => ({
  id,
  title: `Operation ${id}`,
  description: `Does ${id}.`,
  input: { type: 'object', properties: { q: { type: 'string' } } },
  ...(output ? { output } : {}),
  upstream: { method: 'GET', path: `/${id}` },
  rest: false,
  mcp,
});

describe('buildToolCatalogue', () => {
  it('makes one tool per operation with an mcp exposure, serving the input schema less its examples', () => {
    const px = gainsightPxPlugin(readPxSettings({}));
    const other = plugin('other', [operation('hidden', false), operation('lookup', { tool: 'other-lookup', hints: HINTS })]);
    const operations = [px, other].flatMap((p) => p.operations.map((o) => ({ plugin: p, operation: o })));
    const catalogue = buildToolCatalogue(operations, [
      { descriptor: px, mode: 'sandbox' },
      { descriptor: other, mode: 'live' },
    ]);

    expect(catalogue.tools.map((t) => t.name)).toEqual([
      'gainsight-send-custom-event',
      ...Object.values(USER_TOOLS),
      ...Object.values(ACCOUNT_TOOLS),
      'other-lookup',
    ]);
    const send = catalogue.find('gainsight-send-custom-event');
    expect(send).toMatchObject({ pluginId: 'gainsight-px', operationId: 'sendCustomEvent' });
    // The operation's own schema, less its examples, plus the optional idempotencyKey argument beside it.
    const input = px.operations[0]?.input as { properties: Record<string, unknown>; required: string[] };
    const served = send?.definition.inputSchema as { properties: Record<string, unknown>; required: string[] };
    const { examples, ...body } = input.properties.body as Record<string, unknown>;
    expect(examples).toBeDefined();
    expect(served.properties.body).toMatchObject({ ...body, properties: expect.any(Object) });
    expect(JSON.stringify(served)).not.toContain('"examples"');
    expect(served.required).toEqual(input.required);
    expect(Object.keys(served.properties)).toEqual(['body', 'idempotencyKey']);
    expect(send?.acceptsIdempotencyKey).toBe(true);
    expect(catalogue.find('hidden')).toBeUndefined();
    expect(catalogue.find('nope')).toBeUndefined();

    const lookup = catalogue.find('other-lookup')?.definition;
    expect(lookup?.title).toBe('Operation lookup');
    expect(lookup?.description.startsWith('Does lookup.')).toBe(true);
    expect(lookup?.annotations).toEqual({ title: 'Operation lookup', ...HINTS });

    expect(catalogue.instructions).toContain(`Gainsight PX: ${px.description}`);
    expect(catalogue.instructions).toContain('SANDBOX: calls go to a local stand-in; nothing reaches Gainsight PX.');
    expect(catalogue.instructions).toContain('Title of other: What other does. Tools: other-lookup.');
    expect(catalogue.instructions.match(/SANDBOX/g)).toHaveLength(1);
  });

  it('describes the result with the operation output schema when there is one', () => {
    const output = { type: 'object', properties: { id: { type: 'string' } } };
    const p = plugin('p', [operation('a', { tool: 'a-tool', hints: HINTS }, output), operation('b', { tool: 'b-tool', hints: HINTS })]);
    const catalogue = buildToolCatalogue(
      p.operations.map((o) => ({ plugin: p, operation: o })),
      [{ descriptor: p, mode: 'live' }],
    );
    const schema = (name: string) =>
      catalogue.find(name)?.definition.outputSchema as { properties: Record<string, unknown>; required: string[] };
    // What the answer is (its type and name), not its fields: the text content carries the whole answer.
    expect(schema('a-tool').properties.body).toEqual({ type: 'object' });
    expect(schema('b-tool').properties).not.toHaveProperty('body');
    expect(schema('b-tool').required).toEqual(['status', 'requestId']);
  });

  it('gives no plugin line for a plugin without tools', () => {
    const p = plugin('quiet', [operation('a', false)]);
    const catalogue = buildToolCatalogue(
      [{ plugin: p, operation: p.operations[0] as OperationDescriptor }],
      [{ descriptor: p, mode: 'live' }],
    );
    expect(catalogue.tools).toEqual([]);
    expect(catalogue.instructions).not.toContain('quiet');
  });
});
