import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CapabilityGateway, connectMcp, fixture, json, startCapabilityGateway } from './fixtures/capability-gateway.ts';
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';

const ADMIN_TOKEN = 'admin-token-c41d-never-shown';

/** Defects seen on real catalog files (issue 14, part 4), each reproduced on workspace-admin.yaml over real sockets. */
describe('Naftiko-served operations: defects found on real catalog files', () => {
  let admin: CaptureServer;
  let gateway: CapabilityGateway;
  let mcp: Client;

  beforeAll(async () => {
    admin = await startCaptureServer();
    gateway = await startCapabilityGateway([fixture('workspace-admin.yaml')], {
      TEST_ADMIN_TOKEN: ADMIN_TOKEN,
      CAPABILITY_BASE_URI_ADMIN: admin.url,
      UPSTREAM_RETRIES: '0',
    });
    mcp = await connectMcp(gateway.mcpUrl);
  });
  afterEach(() => {
    admin.requests.length = 0;
  });
  afterAll(async () => {
    await mcp?.close();
    await gateway?.close();
    await admin?.close();
    expect(gateway?.logs.join('\n') ?? '').not.toContain(ADMIN_TOKEN);
  });

  const call = async (method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) => {
    const response = await fetch(`${gateway.restUrl}${path}`, {
      method,
      headers: init.headers ?? {},
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    const text = await response.text();
    return { status: response.status, type: response.headers.get('content-type'), body: json(text) as any };
  };

  it('a body-less POST reaches the upstream with no body and no content type, on REST and MCP', async () => {
    admin.reply({ status: 200, body: '{"archived":true}' }, { status: 200, body: '{"archived":true}' });
    expect(await call('POST', '/v1/workspaces/w-1/archive')).toMatchObject({ status: 200, body: { archived: true } });
    const result = await mcp.callTool({ name: 'admin-archive-workspace', arguments: { workspaceId: 'w-2' } });
    expect(result.isError).toBeFalsy();
    expect(admin.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /workspaces/w-1/archive', 'POST /workspaces/w-2/archive']);
    for (const received of admin.requests) {
      expect(received.body).toBe('');
      expect(received.headers['content-type']).toBeUndefined();
    }
  });

  it('REST refuses an undeclared query parameter with 400 naming it, as MCP refuses an undeclared argument', async () => {
    const rest = await call('GET', '/v1/workspaces?limit=5&owner=ann&sort=name');
    expect(rest.status).toBe(400);
    expect(rest.type).toMatch(/^application\/problem\+json/);
    expect(rest.body.detail).toMatch(/"owner"/);
    expect(rest.body.detail).toMatch(/"sort"/);
    expect(rest.body.detail).toMatch(/limit/);
    const tool = await mcp.callTool({ name: 'admin-archive-workspace', arguments: { workspaceId: 'w-1', owner: 'ann' } });
    expect(tool.isError).toBe(true);
    expect(admin.requests).toHaveLength(0);

    admin.reply({ status: 200, body: '[]' });
    expect((await call('GET', '/v1/workspaces?limit=5')).status).toBe(200);
    expect(admin.requests[0]?.url).toBe('/workspaces?limit=5');
  });

  it('REST refuses a body sent to an operation that takes none with 400, instead of dropping it', async () => {
    const rest = await call('POST', '/v1/workspaces/w-1/archive', {
      body: '{"reason":"old"}',
      headers: { 'content-type': 'application/json' },
    });
    expect(rest.status).toBe(400);
    expect(rest.body.detail).toMatch(/takes no request body/);
    expect(admin.requests).toHaveLength(0);
  });

  it('an MCP error for a relayed upstream status says it once, then the upstream answer', async () => {
    admin.reply({ status: 404, body: '{"error":"no such workspace"}' }, { status: 404 });
    const withBody = await mcp.callTool({ name: 'admin-delete-workspace', arguments: { workspaceId: 'w-404' } });
    const text = (withBody.content as { text: string }[])[0]?.text ?? '';
    expect(withBody.isError).toBe(true);
    expect(text.match(/answered 404/g)).toHaveLength(1);
    expect(text).toMatch(/Upstream answer: \{"error":"no such workspace"\}/);
    const empty = await mcp.callTool({ name: 'admin-delete-workspace', arguments: { workspaceId: 'w-405' } });
    const emptyText = (empty.content as { text: string }[])[0]?.text ?? '';
    expect(emptyText.match(/answered 404/g)).toHaveLength(1);
    expect(emptyText).toMatch(/no body/);
  });

  it('OpenAPI documents what is served: relayed 2xx statuses, 204, upstream 403/404 as their own bodies, examples of this operation', async () => {
    const document = (await (await fetch(`${gateway.restUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, any> }>>;
    };
    const archive = document.paths['/v1/workspaces/{workspaceId}/archive']?.post?.responses ?? {};
    const remove = document.paths['/v1/workspaces/{workspaceId}']?.delete?.responses ?? {};
    const list = document.paths['/v1/workspaces']?.get?.responses ?? {};
    expect(Object.keys(archive)).toEqual(expect.arrayContaining(['200', '201', '403', '404', '4XX', '5XX']));
    expect(Object.keys(remove)).toEqual(expect.arrayContaining(['200', '204', '403', '404']));
    expect(remove['204']?.content).toBeUndefined();
    for (const status of ['403', '404', '4XX', '5XX']) {
      expect(Object.keys(remove[status]?.content ?? {}), status).toEqual(['application/json', 'text/plain']);
    }
    expect(Object.keys(remove['400']?.content ?? {})).toEqual(['application/problem+json', 'application/json', 'text/plain']);
    const text = JSON.stringify([archive, remove, list]);
    expect(text).not.toMatch(/eventName|upstream-rejected-input|upstream-refused-gateway|upstream-rate-limited/);
    expect(list['400']?.content['application/problem+json'].examples['invalid-input'].value).toMatchObject({
      errors: [{ pointer: '/limit' }],
    });

    // What the document promises is what is served: a 200 to a POST and a 204 to a DELETE are relayed as they came.
    admin.reply({ status: 200, body: '{"archived":true}' }, { status: 204 }, { status: 403, body: '{"error":"not yours"}' });
    expect((await call('POST', '/v1/workspaces/w-1/archive')).status).toBe(200);
    expect((await call('DELETE', '/v1/workspaces/w-1')).status).toBe(204);
    expect(await call('DELETE', '/v1/workspaces/w-2')).toMatchObject({
      status: 403,
      type: expect.stringMatching(/^application\/json/),
      body: { error: 'not yours' },
    });
  });

  it("the MCP exposure's description is the server's instructions", () => {
    expect(mcp.getInstructions()).toContain('Archive before you delete; deletion cannot be undone.');
  });
});
