import { request as httpRequest } from 'node:http';
import { definePlugin, type PluginDescriptor } from '@gateway/core';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CapabilityGateway, connectMcp, fixture, startCapabilityGateway } from './fixtures/capability-gateway.ts';
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

const DIRECTORY_TOKEN = 'directory-token-5b1e-never-shown';

/** A request whose path goes on the wire exactly as written (fetch and `new URL` would resolve dot segments first). */
function rawRequest(base: string, method: string, path: string): Promise<{ status: number; type: string | undefined; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: hostname, port, method, path }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, type: response.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** A plugin without `toRequest`: the gateway's default request fills `/items/{itemId}`. */
function itemsPlugin(baseUrl: string): PluginDescriptor {
  return definePlugin({
    id: 'items',
    title: 'Items',
    version: '1.0.0',
    description: 'Reads items by id (test plugin).',
    upstream: { baseUrl },
    operations: [
      {
        id: 'getItem',
        title: 'Get an item',
        description: 'Reads one item.',
        input: { type: 'object', additionalProperties: false, required: ['itemId'], properties: { itemId: { type: 'string' } } },
        upstream: { method: 'GET', path: '/items/{itemId}', errors: 'passthrough' },
        rest: { method: 'GET', path: '/v1/items/{itemId}', parameters: { itemId: 'path' } },
        mcp: { tool: 'items-get', hints: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } },
      },
      {
        id: 'getItemCarelessly',
        title: 'Get an item (a plugin that builds its own path without the gateway rule)',
        description: 'Concatenates the id into the path.',
        input: { type: 'object', additionalProperties: false, required: ['itemId'], properties: { itemId: { type: 'string' } } },
        upstream: {
          method: 'GET',
          path: '/items/{itemId}',
          toRequest: (input: { itemId: string }) => ({ method: 'GET', path: `/items/${input.itemId}` }),
        },
        rest: { method: 'GET', path: '/v1/careless-items/{itemId}', parameters: { itemId: 'path' } },
        mcp: false,
      },
    ],
  });
}

/** "." and "..", and every percent-encoding of them a URL parser or a decoding server could turn back into a dot segment. */
const DOT_SEGMENTS = ['.', '..', '%2e', '%2E', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '%252e', '%252e%252e', '%25252E%2e', '%25%32%65'];

/** Values that must reach the upstream as one path segment holding exactly that text. */
const ONE_SEGMENT = [
  ...['/', '?', '#', '%', '\\', ';', ':', '@', '&', '=', '+', '$', ',', '[', ']', ' ', '"', '<', '>', '{', '}', '|', '^', '`', "'"].flatMap(
    (c) => [`a${c}b`, c],
  ),
  'ü',
  '😀 ok',
  '\r\nX-Injected: 1',
  '%2F',
  '%2f..%2f',
  '../profile',
  '..%2Fprofile',
  '%2e%2e%2fprofile',
  '..;',
  '...',
  '..profile',
  '.hidden',
  'a/../b',
  '%',
  '%zz',
  '%00',
  '\u0000',
];

/** Issue 11, defect 2: no input can move an upstream request out of its path segment. */
describe('path parameters stay in their upstream path segment (REST and MCP, Naftiko and default requests)', () => {
  let directory: CaptureServer;
  let items: CaptureServer;
  let gateway: CapabilityGateway;
  let mcp: Client;
  let gatewayWithItems: TestGateway;
  let itemsMcp: Client;
  const printed: string[] = [];

  beforeAll(async () => {
    [directory, items] = await Promise.all([startCaptureServer({ status: 204 }), startCaptureServer({ status: 200, body: '{}' })]);
    gateway = await startCapabilityGateway([fixture('user-directory.yaml')], {
      TEST_DIRECTORY_TOKEN: DIRECTORY_TOKEN,
      CAPABILITY_BASE_URI_DIRECTORY: `${directory.url}/api`,
      UPSTREAM_RETRIES: '0',
      INBOUND_RATE_LIMIT: '0',
    });
    gatewayWithItems = await startTestGateway({ PLUGINS: 'none', UPSTREAM_RETRIES: '0', INBOUND_RATE_LIMIT: '0' }, [
      itemsPlugin(`${items.url}/base`),
    ]);
    mcp = await connectMcp(gateway.mcpUrl);
    itemsMcp = await connectMcp(gatewayWithItems.mcpUrl);
  });
  afterEach(() => {
    directory.requests.length = 0;
    items.requests.length = 0;
  });
  afterAll(async () => {
    await Promise.all([mcp?.close(), itemsMcp?.close()]);
    await Promise.all([gateway?.close(), gatewayWithItems?.close()]);
    await Promise.all([directory?.close(), items?.close()]);
    expect([...(gateway?.logs ?? []), ...printed].join('\n')).not.toContain(DIRECTORY_TOKEN);
  });

  const tool = async (client: Client, name: string, args: Record<string, unknown>) => {
    const result = (await client.callTool({ name, arguments: args })) as { isError?: boolean; content: { text: string }[] };
    const text = result.content.map((c) => c.text).join('\n');
    printed.push(text);
    return { isError: result.isError === true, text };
  };

  describe('a dot segment, in any encoding, is refused and nothing is sent', () => {
    it.each(
      DOT_SEGMENTS.flatMap((value) => [
        ['DELETE', value],
        ['GET', value],
      ]),
    )('REST %s /v1/users/%s: 400 problem naming userid', async (method, value) => {
      const answer = await rawRequest(gateway.restUrl, method, `/v1/users/${value}`);
      printed.push(answer.body);
      expect(answer.status).toBe(400);
      expect(answer.type).toMatch(/^application\/problem\+json/);
      const problem = JSON.parse(answer.body);
      expect(problem.type).toBe('urn:gateway:problem:invalid-input');
      expect(problem.errors).toEqual([{ pointer: '/userid', detail: expect.stringContaining('must not be "." or ".."') }]);
      expect(directory.requests).toHaveLength(0);
    });

    it('REST: the problem says why', async () => {
      const problem = JSON.parse((await rawRequest(gateway.restUrl, 'DELETE', '/v1/users/%2E%2E')).body);
      expect(problem.detail).toBe(
        '/userid must not be "." or ".." (nor a percent-encoding of them): the upstream path {userId} takes exactly one path segment',
      );
    });

    it.each(DOT_SEGMENTS)('MCP directory-delete-user {userId: %j}: tool error, nothing sent', async (value) => {
      const { isError, text } = await tool(mcp, 'directory-delete-user', { userId: value });
      expect(isError).toBe(true);
      expect(text).toContain('- userId: must not be "." or ".."');
      expect(directory.requests).toHaveLength(0);
    });

    it.each(['..', '%2e', '%252e%252e'])(
      'default request (no toRequest): REST /v1/items/%s and MCP items-get are refused',
      async (value) => {
        const answer = await rawRequest(gatewayWithItems.restUrl, 'GET', `/v1/items/${value}`);
        printed.push(answer.body);
        expect(answer.status).toBe(400);
        expect(JSON.parse(answer.body).errors).toEqual([
          { pointer: '/itemId', detail: expect.stringContaining('must not be "." or ".."') },
        ]);
        const { isError, text } = await tool(itemsMcp, 'items-get', { itemId: decodeURIComponent(value) });
        expect(isError).toBe(true);
        expect(text).toContain('- itemId: must not be "." or ".."');
        expect(items.requests).toHaveLength(0);
      },
    );
  });

  describe('any other value reaches the upstream as exactly one segment holding that text', () => {
    const received = (server: CaptureServer) => {
      expect(server.requests).toHaveLength(1);
      return server.requests[0]?.url ?? '';
    };
    /** The upstream's view: the path's segments, each decoded once. */
    const segments = (url: string) => url.split('?')[0]?.split('/').slice(1).map(decodeURIComponent);

    it.each(ONE_SEGMENT)('MCP directory-delete-user {userId: %j}', async (value) => {
      const { isError } = await tool(mcp, 'directory-delete-user', { userId: value });
      expect(isError).toBe(false);
      const url = received(directory);
      expect(url).toBe(`/api/users/${encodeURIComponent(value)}`);
      expect(segments(url)).toEqual(['api', 'users', value]);
    });

    it.each(ONE_SEGMENT)('REST DELETE /v1/users/<%j percent-encoded>', async (value) => {
      const answer = await rawRequest(gateway.restUrl, 'DELETE', `/v1/users/${encodeURIComponent(value)}`);
      expect(answer.status).toBe(204);
      expect(received(directory)).toBe(`/api/users/${encodeURIComponent(value)}`);
    });

    it.each(['a;b', 'a:b', 'a@b', 'a$b', 'a,b', 'a+b', 'a=b', 'a&b', "a'b", 'a!b', 'a*b', 'a(b)', 'a~b'])(
      'REST DELETE /v1/users/%s (sent unencoded) keeps the character inside the segment',
      async (raw) => {
        const answer = await rawRequest(gateway.restUrl, 'DELETE', `/v1/users/${raw}`);
        expect(answer.status).toBe(204);
        expect(received(directory)).toBe(`/api/users/${encodeURIComponent(raw)}`);
      },
    );

    it.each(['a/b', '%2F', '..%2F', 'a?b#c', '😀'])('default request (no toRequest): items-get {itemId: %j}', async (value) => {
      const { isError } = await tool(itemsMcp, 'items-get', { itemId: value });
      expect(isError).toBe(false);
      expect(received(items)).toBe(`/base/items/${encodeURIComponent(value)}`);
    });
  });

  it("the upstream client refuses a path with a dot segment, whatever a plugin's own toRequest built: nothing is sent", async () => {
    for (const value of ['..', '%2e%2E', '.']) {
      const answer = await rawRequest(gatewayWithItems.restUrl, 'GET', `/v1/careless-items/${value}`);
      printed.push(answer.body);
      expect(answer.status).toBe(500);
      expect(JSON.parse(answer.body).type).toBe('urn:gateway:problem:internal-error');
    }
    expect((await rawRequest(gatewayWithItems.restUrl, 'GET', '/v1/careless-items/fine')).status).toBe(200);
    expect(items.requests.map((r) => r.url)).toEqual(['/base/items/fine']);
  });

  describe('values that cannot be a segment at all', () => {
    it.each(['%zz', '%', 'a%2', '%E0%A4%A', '%C0%AE'])(
      'REST DELETE /v1/users/%s (a percent-encoding that does not decode): 400 problem, not 500',
      async (raw) => {
        const answer = await rawRequest(gateway.restUrl, 'DELETE', `/v1/users/${raw}`);
        printed.push(answer.body);
        expect(answer.status).toBe(400);
        expect(answer.type).toMatch(/^application\/problem\+json/);
        expect(JSON.parse(answer.body)).toMatchObject({
          type: 'urn:gateway:problem:bad-request',
          detail: expect.stringContaining('malformed percent-encoding'),
        });
        expect(directory.requests).toHaveLength(0);
      },
    );

    it('MCP: a lone surrogate is a tool error (it has no UTF-8 form), not "gateway failed"', async () => {
      const { isError, text } = await tool(mcp, 'directory-delete-user', { userId: 'a\ud800b' });
      expect(isError).toBe(true);
      expect(text).toContain('- userId: must be well-formed Unicode text');
      expect(directory.requests).toHaveLength(0);
    });

    it('MCP: an empty value is a tool error (it would turn /users/{userId} into the list endpoint)', async () => {
      const { isError, text } = await tool(mcp, 'directory-delete-user', { userId: '' });
      expect(isError).toBe(true);
      expect(text).toContain('- userId: is required to fill the upstream path {userId}');
      const viaDefault = await tool(itemsMcp, 'items-get', { itemId: '' });
      expect(viaDefault.isError).toBe(true);
      expect(viaDefault.text).toContain('- itemId: is required to fill the upstream path {itemId}');
      expect(directory.requests).toHaveLength(0);
      expect(items.requests).toHaveLength(0);
    });
  });
});
