import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';
import { liveEnvironment, postJson, startTestGateway, TEST_PX_KEY, type TestGateway } from './support/test-gateway.ts';

interface SandboxView {
  readonly users: ReadonlyMap<string, Record<string, unknown>>;
  readonly accounts: ReadonlyMap<string, Record<string, unknown>>;
  clear(): void;
}

const send = (url: string, method: string, body?: unknown) =>
  fetch(url, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });

/** An id with characters a path segment cannot carry as they are. */
const ODD_ID = 'ada/lovelace?x=1#2 é';

describe('PX users and accounts against the sandbox (REST)', () => {
  let gateway: TestGateway;
  let sandbox: SandboxView;

  beforeAll(async () => {
    gateway = await startTestGateway({ GAINSIGHT_PX_PRODUCT_KEY: 'AP-TEST-1' });
    sandbox = gateway.plugins[0]?.sandbox as unknown as SandboxView;
  });
  afterAll(() => gateway.close());
  beforeEach(() => sandbox.clear());

  it('creates (201), reads (200), updates (204) and deletes (204) a user; an unknown one is 404 not-found, not 502', async () => {
    const created = await postJson(`${gateway.restUrl}/v1/users`, { identifyId: 'u-1', email: 'ada@example.com' });
    expect(created.status).toBe(201);
    expect(sandbox.users.get('u-1')).toMatchObject({ identifyId: 'u-1', email: 'ada@example.com', propertyKeys: ['AP-TEST-1'] });

    const read = await fetch(`${gateway.restUrl}/v1/users/u-1`);
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ identifyId: 'u-1', email: 'ada@example.com' });

    const updated = await send(`${gateway.restUrl}/v1/users/u-1`, 'PUT', { title: 'CTO' });
    expect(updated.status).toBe(204);
    expect(sandbox.users.get('u-1')).toMatchObject({ email: 'ada@example.com', title: 'CTO' });

    const deleted = await send(`${gateway.restUrl}/v1/users/u-1?hardDelete=true`, 'DELETE');
    expect(deleted.status).toBe(204);
    const gone = await fetch(`${gateway.restUrl}/v1/users/u-1`);
    expect(gone.status).toBe(404);
    expect(gone.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await gone.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({ type: 'urn:gateway:problem:not-found', status: 404, upstreamStatus: 404 });
    expect(problem.detail).toContain('User was not found for parameters {id=u-1}');
    expect(JSON.stringify(problem)).not.toContain('GAINSIGHT_API_KEY');
  });

  it("answers 404 for an update or delete of an unknown user, and 400 with PX's message for a duplicate create", async () => {
    expect((await send(`${gateway.restUrl}/v1/users/nobody`, 'PUT', { title: 'x' })).status).toBe(404);
    expect((await send(`${gateway.restUrl}/v1/users/nobody`, 'DELETE')).status).toBe(404);
    expect((await postJson(`${gateway.restUrl}/v1/users`, { identifyId: 'u-2' })).status).toBe(201);
    const duplicate = await postJson(`${gateway.restUrl}/v1/users`, { identifyId: 'u-2' });
    expect(duplicate.status).toBe(400);
    expect(((await duplicate.json()) as { detail: string }).detail).toContain('possible duplicate');
  });

  it('carries ids with /, ?, #, space and non-ASCII characters through get, update and delete', async () => {
    expect((await postJson(`${gateway.restUrl}/v1/users`, { identifyId: ODD_ID })).status).toBe(201);
    const path = `${gateway.restUrl}/v1/users/${encodeURIComponent(ODD_ID)}`;
    const read = await fetch(path);
    expect(read.status).toBe(200);
    expect(((await read.json()) as { identifyId: string }).identifyId).toBe(ODD_ID);
    expect((await send(path, 'PUT', { firstName: 'Ada' })).status).toBe(204);
    expect(sandbox.users.get(ODD_ID)).toMatchObject({ firstName: 'Ada' });
    expect((await send(path, 'DELETE')).status).toBe(204);
    expect(sandbox.users.has(ODD_ID)).toBe(false);
  });

  it('lists with repeated filters, pageSize from the query string as an integer, and scrollId paging', async () => {
    for (const id of ['a', 'b', 'c']) await postJson(`${gateway.restUrl}/v1/users`, { identifyId: id, role: 'admin' });
    await postJson(`${gateway.restUrl}/v1/users`, { identifyId: 'd', role: 'viewer' });
    const first = await fetch(`${gateway.restUrl}/v1/users?filter=role==ADMIN&pageSize=2&sort=identifyId`);
    expect(first.status).toBe(200);
    const page = (await first.json()) as { users: { identifyId: string }[]; totalHits: number; scrollId: string };
    expect(page.users.map((u) => u.identifyId)).toEqual(['a', 'b']);
    expect(page.totalHits).toBe(3);
    const next = (await (
      await fetch(`${gateway.restUrl}/v1/users?filter=role==admin&filter=identifyId==c&pageSize=2&scrollId=${page.scrollId}`)
    ).json()) as {
      users: { identifyId: string }[];
    };
    expect(next.users).toEqual([]);
    const both = (await (await fetch(`${gateway.restUrl}/v1/users?filter=role==admin&filter=identifyId==c`)).json()) as {
      users: { identifyId: string }[];
    };
    expect(both.users.map((u) => u.identifyId)).toEqual(['c']);
    const wrong = await fetch(`${gateway.restUrl}/v1/users?pageSize=lots`);
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { errors: unknown[] }).errors).toEqual([{ pointer: '/pageSize', detail: 'must be integer' }]);
  });

  it('creates, reads, updates and lists accounts', async () => {
    expect((await postJson(`${gateway.restUrl}/v1/accounts`, { id: 'acme', name: 'Acme Corp' })).status).toBe(201);
    expect((await send(`${gateway.restUrl}/v1/accounts/acme`, 'PUT', { plan: 'enterprise' })).status).toBe(204);
    const read = await fetch(`${gateway.restUrl}/v1/accounts/acme`);
    expect(await read.json()).toMatchObject({ id: 'acme', name: 'Acme Corp', plan: 'enterprise', propertyKeys: ['AP-TEST-1'] });
    const list = (await (await fetch(`${gateway.restUrl}/v1/accounts?filter=name==acme%20corp`)).json()) as {
      accounts: unknown[];
      totalHits: number;
    };
    expect(list.totalHits).toBe(1);
    expect((await fetch(`${gateway.restUrl}/v1/accounts/nope`)).status).toBe(404);
    expect((await send(`${gateway.restUrl}/v1/accounts/nope`, 'PUT', { plan: 'x' })).status).toBe(404);
  });

  it('reads back the user and account a custom event refers to', async () => {
    await postJson(`${gateway.restUrl}/v1/accounts`, { id: 'acme', name: 'Acme Corp' });
    await postJson(`${gateway.restUrl}/v1/users`, { identifyId: 'u-7', accountId: 'acme' });
    const event = await postJson(`${gateway.restUrl}/v1/custom-events`, { eventName: 'Signup', identifyId: 'u-7', accountId: 'acme' });
    expect(event.status).toBe(201);
    const listed = (await (await fetch(`${gateway.restUrl}/sandbox/v1/events/custom?filter=identifyId==u-7`)).json()) as {
      customEvents: { identifyId: string; accountId: string }[];
    };
    const [sent] = listed.customEvents;
    const user = (await (await fetch(`${gateway.restUrl}/v1/users/${encodeURIComponent(sent?.identifyId ?? '')}`)).json()) as {
      accountId: string;
    };
    expect(user.accountId).toBe('acme');
    const account = await fetch(`${gateway.restUrl}/v1/accounts/${encodeURIComponent(user.accountId)}`);
    expect(await account.json()).toMatchObject({ id: sent?.accountId, name: 'Acme Corp' });
  });

  it('documents in OpenAPI what is declared: 201 create, 204 update and delete, 404 on lookups, list inputs as query parameters', async () => {
    const document = (await (await fetch(`${gateway.restUrl}/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, unknown>; parameters: { name?: string; in?: string; schema?: unknown }[] }>
      >;
    };
    const user = document.paths['/v1/users/{identifyId}'];
    expect(Object.keys(user?.get?.responses ?? {})).toEqual(expect.arrayContaining(['200', '404']));
    expect(Object.keys(user?.put?.responses ?? {})).toEqual(expect.arrayContaining(['204', '404']));
    expect(user?.put?.responses).not.toHaveProperty('200');
    expect(Object.keys(user?.delete?.responses ?? {})).toEqual(expect.arrayContaining(['204', '404']));
    expect(document.paths['/v1/users']?.post?.responses).toHaveProperty('201');
    expect(document.paths['/v1/users']?.post?.responses).not.toHaveProperty('404');
    const listParameters = document.paths['/v1/users']?.get?.parameters.filter((p) => p.in === 'query').map((p) => p.name);
    expect(listParameters).toEqual(['filter', 'pageSize', 'scrollId', 'sort']);
    expect(user?.delete?.parameters.find((p) => p.name === 'hardDelete')).toMatchObject({ in: 'query', schema: { type: 'boolean' } });
  });

  it('refuses input before anything is sent: unknown fields, a missing id, an empty update', async () => {
    const typo = await postJson(`${gateway.restUrl}/v1/users`, { identifyId: 'u-3', emial: 'x' });
    expect(typo.status).toBe(400);
    expect(((await typo.json()) as { errors: unknown[] }).errors).toEqual([{ pointer: '/emial', detail: 'is not a known field' }]);
    expect((await send(`${gateway.restUrl}/v1/users/u-3`, 'PUT', {})).status).toBe(400);
    expect(sandbox.users.size).toBe(0);
  });
});

describe('PX users and accounts: what the upstream receives (capture upstream)', () => {
  let upstream: CaptureServer;
  let gateway: TestGateway;

  beforeAll(async () => {
    upstream = await startCaptureServer({ status: 204 });
    gateway = await startTestGateway(liveEnvironment(upstream.url, { UPSTREAM_RETRIES: '0' }));
  });
  afterAll(async () => {
    await gateway.close();
    await upstream.close();
  });
  beforeEach(() => void upstream.requests.splice(0));

  it('sends list inputs as query parameters, filter repeated, with the PX key', async () => {
    upstream.reply({ status: 200, body: JSON.stringify({ users: [], totalHits: 0, scrollId: null }) });
    const response = await fetch(`${gateway.restUrl}/v1/users?filter=email==a@b.c&filter=role==admin&pageSize=5&sort=-lastSeenDate`);
    expect(response.status).toBe(200);
    const [request] = upstream.requests;
    expect(request?.method).toBe('GET');
    const url = new URL(request?.url ?? '', 'http://upstream');
    expect(url.pathname).toBe('/v1/users');
    expect(url.searchParams.getAll('filter')).toEqual(['email==a@b.c', 'role==admin']);
    expect(url.searchParams.get('pageSize')).toBe('5');
    expect(url.searchParams.get('sort')).toBe('-lastSeenDate');
    expect(request?.headers['x-aptrinsic-api-key']).toBe(TEST_PX_KEY);
  });

  it("puts the id of an update or delete in the body (PX's /users/update and /users/delete), hardDelete in the query", async () => {
    expect((await send(`${gateway.restUrl}/v1/users/${encodeURIComponent(ODD_ID)}`, 'PUT', { title: 'CTO' })).status).toBe(204);
    expect((await send(`${gateway.restUrl}/v1/users/${encodeURIComponent(ODD_ID)}?hardDelete=true`, 'DELETE')).status).toBe(204);
    expect((await send(`${gateway.restUrl}/v1/accounts/acme`, 'PUT', { plan: 'x' })).status).toBe(204);
    expect(upstream.requests.map((r) => [r.method, r.url, JSON.parse(r.body)])).toEqual([
      ['PUT', '/v1/users/update', { title: 'CTO', identifyId: ODD_ID }],
      ['DELETE', '/v1/users/delete?hardDelete=true', { identifyId: ODD_ID }],
      ['PUT', '/v1/accounts/update', { plan: 'x', id: 'acme' }],
    ]);
  });

  it('answers 204 for a delete PX answers with 200, and fills the upstream path of a get, percent-encoded', async () => {
    upstream.reply({ status: 200, body: '{}' });
    const deleted = await send(`${gateway.restUrl}/v1/users/u-1`, 'DELETE');
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    upstream.reply({ status: 200, body: JSON.stringify({ identifyId: ODD_ID }) });
    expect((await fetch(`${gateway.restUrl}/v1/users/${encodeURIComponent(ODD_ID)}`)).status).toBe(200);
    expect(upstream.requests[1]?.url).toBe(`/v1/users/${encodeURIComponent(ODD_ID)}`);
  });

  it('keeps "the gateway was refused" for 401 and 403 on a user lookup, and 404 as not found', async () => {
    upstream.reply(
      { status: 401, body: '{}' },
      { status: 404, body: JSON.stringify({ externalapierror: { status: 'NOT_FOUND', message: 'User was not found' } }) },
    );
    const refused = await fetch(`${gateway.restUrl}/v1/users/u-1`);
    expect(refused.status).toBe(502);
    expect(((await refused.json()) as { type: string }).type).toBe('urn:gateway:problem:upstream-refused-gateway');
    const missing = await fetch(`${gateway.restUrl}/v1/users/u-1`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { type: string }).type).toBe('urn:gateway:problem:not-found');
  });

  it('refuses a create without propertyKeys when no default product key is configured, sending nothing', async () => {
    const response = await postJson(`${gateway.restUrl}/v1/users`, { identifyId: 'u-1' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: unknown[] }).errors).toEqual([
      { pointer: '/propertyKeys', detail: 'is required: this gateway has no default product key (GAINSIGHT_PX_PRODUCT_KEY)' },
    ]);
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('PX users and accounts over MCP (sandbox)', () => {
  let gateway: TestGateway;
  let client: Client;

  beforeAll(async () => {
    gateway = await startTestGateway({ GAINSIGHT_PX_PRODUCT_KEY: 'AP-TEST-1' });
    client = new Client({ name: 'px-users-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.mcpUrl)));
  });
  afterAll(async () => {
    await client.close();
    await gateway.close();
  });

  it('lists the user and account tools with their hints', async () => {
    const { tools } = await client.listTools();
    const hints = Object.fromEntries(tools.map((tool) => [tool.name, tool.annotations]));
    expect(hints['gainsight-get-user']).toMatchObject({ readOnlyHint: true, destructiveHint: false, idempotentHint: true });
    expect(hints['gainsight-list-accounts']).toMatchObject({ readOnlyHint: true });
    expect(hints['gainsight-create-user']).toMatchObject({ readOnlyHint: false, destructiveHint: false, idempotentHint: false });
    expect(hints['gainsight-update-account']).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: true });
    expect(hints['gainsight-delete-user']).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: true });
    const getUser = tools.find((tool) => tool.name === 'gainsight-get-user');
    expect(getUser?.outputSchema?.properties?.body).toMatchObject({ title: 'User' });
  });

  it('creates a user, reads it back as structured content, and reports an unknown one as not found', async () => {
    const created = await client.callTool({
      name: 'gainsight-create-user',
      arguments: { body: { identifyId: 'm-1', email: 'm@example.com' } },
    });
    expect(created.isError).toBeFalsy();
    const read = await client.callTool({ name: 'gainsight-get-user', arguments: { identifyId: 'm-1' } });
    expect(read.isError).toBeFalsy();
    expect(read.structuredContent).toMatchObject({ status: 200, body: { identifyId: 'm-1', email: 'm@example.com' } });
    const missing = await client.callTool({ name: 'gainsight-get-user', arguments: { identifyId: 'nobody' } });
    expect(missing.isError).toBe(true);
    const text = (missing.content as { text: string }[])[0]?.text ?? '';
    expect(text).toContain('Not found');
    expect(text).not.toContain('refused the gateway');
  });

  it('lists users with a numeric pageSize and deletes one', async () => {
    await client.callTool({ name: 'gainsight-create-user', arguments: { body: { identifyId: 'm-2' } } });
    const page = await client.callTool({ name: 'gainsight-list-users', arguments: { filter: ['identifyId==m-2'], pageSize: 10 } });
    expect(page.structuredContent).toMatchObject({ status: 200, body: { totalHits: 1 } });
    const deleted = await client.callTool({ name: 'gainsight-delete-user', arguments: { identifyId: 'm-2', hardDelete: true } });
    expect(deleted.isError).toBeFalsy();
    expect((await client.callTool({ name: 'gainsight-get-user', arguments: { identifyId: 'm-2' } })).isError).toBe(true);
  });
});
