import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CapabilityGateway, connectMcp, fixture, json, startCapabilityGateway } from './fixtures/capability-gateway.ts';
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';

const DIRECTORY_TOKEN = 'directory-token-5b1e-never-shown';
const DESK_PASSWORD = 'desk-password-77c0-never-shown';
const STATUS_KEY = 'status-key-31aa-never-shown';
const DESK_SIGNATURE = 'desk-signature-9d4e-never-shown';
const SECRETS = [DIRECTORY_TOKEN, DESK_PASSWORD, STATUS_KEY, DESK_SIGNATURE];

/** Our own capability files (test/fixtures/capabilities), served together, each upstream a loopback capture server. */
describe('capability fixtures: GET/DELETE, path/query/header parameters, bearer/basic/query-key auth, nested outputs', () => {
  let directory: CaptureServer;
  let desk: CaptureServer;
  let status: CaptureServer;
  let gateway: CapabilityGateway;
  let mcp: Client;
  const printed: string[] = [];

  beforeAll(async () => {
    [directory, desk, status] = await Promise.all([startCaptureServer(), startCaptureServer(), startCaptureServer()]);
    gateway = await startCapabilityGateway([fixture('user-directory.yaml'), fixture('ticket-desk.yaml')], {
      TEST_DIRECTORY_TOKEN: DIRECTORY_TOKEN,
      TEST_DESK_USER: 'desk-bot',
      TEST_DESK_PASSWORD: DESK_PASSWORD,
      TEST_STATUS_KEY: STATUS_KEY,
      TEST_DESK_SIGNATURE: DESK_SIGNATURE,
      CAPABILITY_BASE_URI_DIRECTORY: `${directory.url}/api`,
      CAPABILITY_BASE_URI_DESK: `${desk.url}/api/v2`,
      CAPABILITY_BASE_URI_STATUS_PAGE: status.url,
      UPSTREAM_RETRIES: '0',
    });
    mcp = await connectMcp(gateway.mcpUrl);
  });
  afterEach(() => {
    for (const server of [directory, desk, status]) server.requests.length = 0;
  });
  afterAll(async () => {
    await mcp?.close();
    await gateway?.close();
    await Promise.all([directory, desk, status].map((server) => server?.close()));
    const all = [...(gateway?.logs ?? []), ...printed].join('\n');
    for (const secret of SECRETS) expect(all).not.toContain(secret);
  });

  const call = async (method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) => {
    const response = await fetch(`${gateway.restUrl}${path}`, {
      method,
      headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    const text = await response.text();
    printed.push(text);
    return { status: response.status, body: json(text) as any };
  };
  const tool = async (name: string, args: Record<string, unknown>) => {
    const result = await mcp.callTool({ name, arguments: args });
    printed.push(JSON.stringify(result));
    return result;
  };

  it('loads one plugin per consumed upstream: directory, desk, status-page', () => {
    expect(gateway.plugins.map((p) => p.descriptor.id)).toEqual(['directory', 'desk', 'status-page']);
  });

  describe('user-directory.yaml (bearer auth)', () => {
    const user = {
      data: { id: 'u-42', profile: { displayName: 'Ann' }, relations: { manager: { id: 'u-1', secretNote: 'x' } }, internal: true },
    };

    it('GET with a REST path {userid} fills the upstream {userId}, passes the header parameter and maps nested output', async () => {
      directory.reply({ status: 200, body: JSON.stringify(user) });
      const { status: code, body } = await call('GET', '/v1/users/u-42', { headers: { 'X-Tenant': 'acme' } });
      expect(code).toBe(200);
      expect(body).toEqual({ id: 'u-42', name: 'Ann', manager: { id: 'u-1' } });
      const [received] = directory.requests;
      expect(`${received?.method} ${received?.url}`).toBe('GET /api/users/u-42');
      expect(received?.headers.authorization).toBe(`Bearer ${DIRECTORY_TOKEN}`);
      expect(received?.headers['x-tenant']).toBe('acme');
      expect(received?.body).toBe('');
    });

    it('GET with query parameters: renamed by with, typed integer accepted as text, array output mapped per item', async () => {
      directory.reply({
        status: 200,
        body: JSON.stringify({
          meta: { total: 2 },
          data: [
            { id: 'u-1', profile: { displayName: 'Ann' }, contact: { emails: ['ann@example.com', 'a@example.com'] } },
            { id: 'u-2', profile: { displayName: 'Bo' }, contact: { emails: [] } },
          ],
        }),
      });
      const { status: code, body } = await call('GET', '/v1/users?limit=5&search=an');
      expect(code).toBe(200);
      expect(body).toEqual({
        total: 2,
        users: [
          { id: 'u-1', name: 'Ann', email: 'ann@example.com' },
          { id: 'u-2', name: 'Bo', email: null },
        ],
      });
      const url = new URL(directory.requests[0]?.url ?? '', 'http://x');
      expect(url.pathname).toBe('/api/users');
      expect(Object.fromEntries(url.searchParams)).toEqual({ limit: '5', q: 'an' });
    });

    it('rejects a query value of the wrong type with 400 and calls nothing upstream', async () => {
      const { status: code, body } = await call('GET', '/v1/users?limit=many');
      expect(code).toBe(400);
      expect(JSON.stringify(body)).toMatch(/limit/);
      expect(directory.requests).toHaveLength(0);
    });

    it('DELETE: 204 from upstream is success with no body; 404 and its body pass through', async () => {
      directory.reply({ status: 204 });
      const removed = await call('DELETE', '/v1/users/u-42');
      expect(removed).toEqual({ status: 204, body: undefined });
      expect(`${directory.requests[0]?.method} ${directory.requests[0]?.url}`).toBe('DELETE /api/users/u-42');
      directory.reply({ status: 404, body: '{"error":"no such user"}' });
      expect(await call('DELETE', '/v1/users/u-404')).toEqual({ status: 404, body: { error: 'no such user' } });
    });

    it('MCP tools: a required string argument per path parameter, hints as annotations, label as title', async () => {
      const { tools } = await mcp.listTools();
      const get = tools.find((t) => t.name === 'directory-get-user');
      expect(get?.title).toBe('Get a directory user');
      expect(get?.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false });
      expect(get?.inputSchema).toMatchObject({ properties: { userId: { type: 'string' } }, required: ['userId'] });
      const remove = tools.find((t) => t.name === 'directory-delete-user');
      expect(remove?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: true });
    });

    it('MCP get: same upstream call, mapped output; a 204 delete is success; a 404 is an error result', async () => {
      directory.reply({ status: 200, body: JSON.stringify(user) });
      const got = await tool('directory-get-user', { userId: 'u-42', 'X-Tenant': 'acme' });
      expect(got.isError).toBeFalsy();
      expect(got.structuredContent).toMatchObject({ status: 200, body: { id: 'u-42', name: 'Ann' } });
      expect(`${directory.requests[0]?.method} ${directory.requests[0]?.url}`).toBe('GET /api/users/u-42');
      expect(directory.requests[0]?.headers['x-tenant']).toBe('acme');

      directory.reply({ status: 204 });
      const removed = await tool('directory-delete-user', { userId: 'u-42' });
      expect(removed.isError).toBeFalsy();
      expect(removed.structuredContent).toMatchObject({ status: 204 });

      directory.reply({ status: 404, body: '{"error":"no such user"}' });
      const missing = await tool('directory-delete-user', { userId: 'u-404' });
      expect(missing.isError).toBe(true);
      expect(JSON.stringify(missing.content)).toMatch(/404[\s\S]*no such user/);
    });

    it('an MCP call without a required path argument is an error result and calls nothing', async () => {
      const result = await tool('directory-get-user', {});
      expect(result.isError).toBe(true);
      expect(JSON.stringify(result.content)).toMatch(/userId/);
      expect(directory.requests).toHaveLength(0);
    });
  });

  describe('ticket-desk.yaml (two upstreams: basic auth and a query API key)', () => {
    it('POST with body fields fills the upstream JSON body template, with the parameter default', async () => {
      desk.reply({ status: 201, body: '{"ticket":{"id":7,"status":"open","assignee":"x"}}' });
      const { status: code, body } = await call('POST', '/v1/tickets', { body: { subject: 'Printer on fire', email: 'ann@example.com' } });
      expect(code).toBe(201);
      expect(body).toEqual({ id: 7, state: 'open' });
      const [received] = desk.requests;
      expect(`${received?.method} ${received?.url}`).toBe('POST /api/v2/tickets');
      expect(received?.headers.authorization).toBe(`Basic ${Buffer.from(`desk-bot:${DESK_PASSWORD}`).toString('base64')}`);
      expect(JSON.parse(received?.body ?? '')).toEqual({
        ticket: { subject: 'Printer on fire', priority: 'normal', requester: { email: 'ann@example.com' }, channel: 'api' },
      });
    });

    it('the MCP tool fills the same template from Mustache and tools. references', async () => {
      desk.reply({ status: 201, body: '{"ticket":{"id":8}}' });
      const result = await tool('desk-open-ticket', { subject: 'Slow VPN', email: 'bo@example.com', priority: 'high' });
      expect(result.isError).toBeFalsy();
      expect(JSON.parse(desk.requests[0]?.body ?? '')).toEqual({
        ticket: { subject: '[agent] Slow VPN', priority: 'high', requester: { email: 'bo@example.com' }, channel: 'api' },
      });
    });

    it('a REST path parameter and a literal fill a {{ticketId}} path and a raw JSON body template (PATCH)', async () => {
      desk.reply({ status: 200, body: '{"ticket":{"id":7,"status":"closed"}}' });
      const { status: code, body } = await call('POST', '/v1/tickets/7/close');
      expect(code).toBe(200);
      expect(body).toEqual({ ticket: { id: 7, status: 'closed' } });
      expect(`${desk.requests[0]?.method} ${desk.requests[0]?.url}`).toBe('PATCH /api/v2/tickets/7');
      expect(JSON.parse(desk.requests[0]?.body ?? '')).toEqual({ ticket: { status: 'closed' }, signature: DESK_SIGNATURE });
    });

    it('an upstream error that echoes a credential or a bound secret passes through with them redacted, on REST and MCP', async () => {
      const echo = { status: 403, body: JSON.stringify({ error: `signature ${DESK_SIGNATURE} rejected for user desk-bot` }) };
      desk.reply(echo, echo);
      const rest = await call('POST', '/v1/tickets/7/close');
      expect(rest).toEqual({ status: 403, body: { error: 'signature [redacted] rejected for user [redacted]' } });
      // The upstream did receive the secret: it is redacted on the way back, not left out on the way in.
      expect(JSON.parse(desk.requests[0]?.body ?? '')).toMatchObject({ signature: DESK_SIGNATURE });
      const result = await tool('desk-open-ticket', { subject: 'Echo', email: 'cy@example.com' });
      expect(result.isError).toBe(true);
      expect(JSON.stringify(result)).not.toContain(DESK_SIGNATURE);
      expect(JSON.stringify(result)).toContain('signature [redacted] rejected');

      status.reply({ status: 401, body: `api_key=${STATUS_KEY} is revoked`, headers: { 'content-type': 'text/plain' } });
      const response = await fetch(`${gateway.restUrl}/v1/status/api`);
      const text = await response.text();
      printed.push(text);
      expect(response.status).toBe(401);
      expect(text).toBe('api_key=[redacted] is revoked');
    });

    it('an API key in the query string and a scalar output mapping', async () => {
      status.reply({ status: 200, body: '{"component":{"name":"api","state":"degraded"}}' });
      const response = await fetch(`${gateway.restUrl}/v1/status/api`);
      expect(response.status).toBe(200);
      // A mapped string is the whole answer; the REST adapter sends string results as text/plain.
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await response.text()).toBe('degraded');
      const url = new URL(status.requests[0]?.url ?? '', 'http://x');
      expect(url.pathname).toBe('/components/api');
      expect(url.searchParams.get('api_key')).toBe(STATUS_KEY);
    });
  });

  it('publishes the capability operations in the OpenAPI document', async () => {
    const response = await fetch(`${gateway.restUrl}/openapi.json`);
    const document = (await response.json()) as { paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>> };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/v1/users', '/v1/users/{userid}', '/v1/tickets', '/v1/tickets/{ticketId}/close', '/v1/status/{component}']),
    );
    const list = document.paths['/v1/users']?.get?.parameters ?? [];
    expect(list.map((p) => `${p.in}:${p.name}`)).toEqual(expect.arrayContaining(['query:limit', 'query:search', 'header:X-Tenant']));
  });
});
