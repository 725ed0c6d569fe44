import { definePlugin, defineOperation, type InputOf, type PluginDescriptor } from '@gateway/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

const searchInput = {
  type: 'object',
  additionalProperties: false,
  required: ['shelf'],
  properties: {
    shelf: { type: 'integer', minimum: 1 },
    q: { type: 'string' },
    limit: { type: 'integer', maximum: 50 },
    fresh: { type: 'boolean' },
    tag: { type: 'array', items: { type: 'string' } },
    'X-Tenant': { type: 'string' },
  },
} as const;

/** A plugin written only with declarations: no toRequest anywhere. */
function libraryPlugin(baseUrl: string): PluginDescriptor {
  return definePlugin({
    id: 'library',
    title: 'Library',
    version: '1.0.0',
    description: 'Books.',
    upstream: { baseUrl },
    operations: [
      defineOperation<InputOf<typeof searchInput>>({
        id: 'searchShelf',
        title: 'Search a shelf',
        description: 'Searches one shelf.',
        input: searchInput,
        responses: { notFound: [404] },
        upstream: {
          method: 'GET',
          path: '/shelves/{shelf}/books',
          inputs: { q: 'query', limit: 'query', fresh: 'query', tag: 'query', 'X-Tenant': 'header' },
        },
        rest: { method: 'GET', path: '/v1/shelves/{shelf}/books' },
        mcp: false,
      }),
      defineOperation<InputOf<typeof shelveInput>>({
        id: 'shelveBook',
        title: 'Shelve a book',
        description: 'Puts a book on a shelf; the upstream answers 200 or 201.',
        input: shelveInput,
        upstream: { method: 'POST', path: '/shelves/{shelf}/books', inputs: { book: 'body' } },
        rest: { method: 'POST', path: '/v1/shelves/{shelf}/books' },
        mcp: false,
      }),
    ],
  });
}

const shelveInput = {
  type: 'object',
  additionalProperties: false,
  required: ['shelf', 'book'],
  properties: {
    shelf: { type: 'integer', minimum: 1 },
    book: { type: 'object', properties: { title: { type: 'string' } } },
  },
} as const;

/** Issue 14: the default request builder honours declared placements, and REST text becomes the schema's types. */
describe('the operation contract over real sockets (a declaration-only plugin)', () => {
  let upstream: CaptureServer;
  let gateway: TestGateway;

  beforeAll(async () => {
    upstream = await startCaptureServer({ status: 200, body: '[]' });
    gateway = await startTestGateway({ PLUGINS: 'none', UPSTREAM_RETRIES: '0' }, [libraryPlugin(`${upstream.url}/api`)]);
  });
  afterAll(async () => {
    await gateway.close();
    await upstream.close();
  });
  beforeEach(() => void upstream.requests.splice(0));

  it('sends query and header inputs upstream (they were dropped without toRequest), typed from REST text', async () => {
    const response = await fetch(`${gateway.restUrl}/v1/shelves/7/books?q=abc&limit=5&fresh=true&tag=a&tag=b`, {
      headers: { 'X-Tenant': 't-1' },
    });
    expect(response.status).toBe(200);
    const [request] = upstream.requests;
    expect(request?.url).toBe('/api/shelves/7/books?q=abc&limit=5&fresh=true&tag=a&tag=b');
    expect(request?.headers['x-tenant']).toBe('t-1');
  });

  it('validates the converted values: an integer too big or not a number is 400 naming the parameter', async () => {
    const tooMany = await fetch(`${gateway.restUrl}/v1/shelves/7/books?limit=500`);
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as { errors: unknown[] }).errors).toEqual([{ pointer: '/limit', detail: 'must be <= 50' }]);
    const notANumber = await fetch(`${gateway.restUrl}/v1/shelves/seven/books`);
    expect(((await notANumber.json()) as { errors: unknown[] }).errors).toEqual([{ pointer: '/shelf', detail: 'must be integer' }]);
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers a declared not-found status with 404, not 502 "refused the gateway"', async () => {
    upstream.reply({ status: 404, body: JSON.stringify({ message: 'no such shelf' }) });
    const response = await fetch(`${gateway.restUrl}/v1/shelves/9/books`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({
      type: 'urn:gateway:problem:not-found',
      upstreamStatus: 404,
      detail: expect.stringContaining('no such shelf'),
    });
  });

  it('documents every 2xx an operation without a declared successStatus relays, and serves the upstream one', async () => {
    const document = (await (await fetch(`${gateway.restUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const documented = Object.keys(document.paths['/v1/shelves/{shelf}/books']?.post?.responses ?? {}).filter((s) => s.startsWith('2'));
    for (const upstreamStatus of [200, 201]) {
      upstream.reply({ status: upstreamStatus, body: JSON.stringify({ id: 'b-1' }) });
      const response = await fetch(`${gateway.restUrl}/v1/shelves/7/books`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Dune' }),
      });
      expect(response.status).toBe(upstreamStatus);
      expect(documented).toContain(String(response.status));
    }
    expect(upstream.requests.map((r) => r.body)).toEqual(['{"title":"Dune"}', '{"title":"Dune"}']);
  });
});
