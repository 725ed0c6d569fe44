import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateAgainstSchema } from '../../../packages/naftiko/src/schema.ts';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runMigrate } from '../src/capabilities/migrate-command.ts';
import { runValidate } from '../src/capabilities/validate-command.ts';
import { type CapabilityGateway, connectMcp, fixture, json, seedFile, startCapabilityGateway } from './fixtures/capability-gateway.ts';
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';
import { TEST_PX_KEY } from './support/secrets.ts';

const EVENT = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1', attributes: { plan: 'pro' } };
const DIRECTORY_TOKEN = 'ikanos-directory-token-0c3f-never-shown';

/** Each answer carries its own request id; everything else must match. */
function withoutRequestIds(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<request-id>'));
}

function command(run: typeof runMigrate, args: string[]) {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: (text: string) => {
      stdout += text;
    },
    stderr: (text: string) => {
      stderr += text;
    },
    environment: {},
    cwd: process.cwd(),
  };
  const code = run(args, io);
  return { code, stdout, stderr };
}

/** The seed, and the seed migrated by `gateway migrate`, each served by its own gateway against one capture upstream. */
describe('gateway migrate: the seed as Ikanos 1.0.0-beta3 is served exactly like the alpha2 seed', () => {
  const directory = mkdtempSync(join(tmpdir(), 'ikanos-migrate-'));
  const migrated = join(directory, 'px-custom-events.beta3.yaml');
  let upstream: CaptureServer;
  let original: CapabilityGateway;
  let beta3: CapabilityGateway;
  let originalMcp: Client;
  let beta3Mcp: Client;
  const printed: string[] = [];

  beforeAll(async () => {
    const result = command(runMigrate, [seedFile(), '-o', migrated]);
    printed.push(result.stdout, result.stderr);
    expect(result.code, result.stderr).toBe(0);
    upstream = await startCaptureServer({ status: 201, body: '{"id":"evt-1","status":"accepted"}' });
    const environment = {
      GAINSIGHT_API_KEY: TEST_PX_KEY,
      CAPABILITY_BASE_URI_PX_CUSTOM_EVENTS: `${upstream.url}/v1`,
      UPSTREAM_RETRIES: '0',
    };
    [original, beta3] = await Promise.all([
      startCapabilityGateway([seedFile()], environment),
      startCapabilityGateway([migrated], environment),
    ]);
    [originalMcp, beta3Mcp] = await Promise.all([connectMcp(original.mcpUrl), connectMcp(beta3.mcpUrl)]);
  });
  afterEach(() => {
    upstream.requests.length = 0;
  });
  afterAll(async () => {
    await Promise.all([originalMcp?.close(), beta3Mcp?.close()]);
    await Promise.all([original?.close(), beta3?.close()]);
    await upstream?.close();
    rmSync(directory, { recursive: true, force: true });
    expect([...(original?.logs ?? []), ...(beta3?.logs ?? []), ...printed].join('\n')).not.toContain(TEST_PX_KEY);
  });

  it('writes an ikanos: 1.0.0-beta3 file that passes the published beta3 schema with no problem', () => {
    const document = parse(readFileSync(migrated, 'utf8'));
    expect(document.ikanos).toBe('1.0.0-beta3');
    expect(document.capability.consumes[0].resources['custom-events'].operations.sendcustomevent.inputParameters).toEqual({
      body: { in: 'body' },
    });
    expect(validateAgainstSchema(document, { family: 'ikanos', version: '1.0.0-beta3' })).toEqual([]);
    const validated = command(runValidate, [migrated]);
    expect(validated.stdout).toMatch(/ok, can be served \(1 warning\) — read as ikanos 1\.0\.0-beta3/);
  });

  const post = async (gateway: CapabilityGateway, body: unknown) => {
    const response = await fetch(`${gateway.restUrl}/v1/custom-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    printed.push(text);
    return { status: response.status, body: json(text) };
  };
  const received = () =>
    upstream.requests
      .splice(0)
      .map((r) => ({ method: r.method, url: r.url, key: r.headers['x-aptrinsic-api-key'], type: r.headers['content-type'], body: r.body }));

  it('REST: the same upstream request and the same answer, for a success, an upstream 422 and a 400 of our own', async () => {
    for (const [reply, body] of [
      [{ status: 201, body: '{"id":"evt-1"}' }, EVENT],
      [{ status: 422, body: '{"message":"eventName is missing"}' }, { identifyId: 'u-1' }],
      [undefined, ['not', 'an', 'object']],
    ] as const) {
      if (reply) upstream.reply(reply);
      const before = await post(original, body);
      const sentBefore = received();
      if (reply) upstream.reply(reply);
      const after = await post(beta3, body);
      expect(withoutRequestIds(after)).toEqual(withoutRequestIds(before));
      expect(received()).toEqual(sentBefore);
    }
  });

  it('MCP: the same tool list (names, titles, input and output schemas, annotations) and the same call', async () => {
    const [before, after] = await Promise.all([originalMcp.listTools(), beta3Mcp.listTools()]);
    expect(after.tools).toEqual(before.tools);
    expect(after.tools.find((t) => t.name === 'gainsight-send-custom-event')?.inputSchema).toMatchObject({
      properties: { body: { type: 'object' } },
      required: ['body'],
    });
    const resultBefore = await originalMcp.callTool({ name: 'gainsight-send-custom-event', arguments: { body: EVENT } });
    const sentBefore = received();
    const resultAfter = await beta3Mcp.callTool({ name: 'gainsight-send-custom-event', arguments: { body: EVENT } });
    printed.push(JSON.stringify([resultBefore, resultAfter]));
    expect(withoutRequestIds(resultAfter)).toEqual(withoutRequestIds(resultBefore));
    expect(received()).toEqual(sentBefore);
    expect(sentBefore).toHaveLength(1);
  });

  it('the same OpenAPI document apart from the version it names', async () => {
    const [before, after] = await Promise.all(
      [original, beta3].map(async (g) => (await fetch(`${g.restUrl}/openapi.json`)).json() as Promise<{ paths: unknown }>),
    );
    expect(JSON.stringify(after?.paths)).toBe(JSON.stringify(before?.paths));
  });
});

/** A capability written to the beta3 schema: imports (shared consumes and binds files), bearer auth from binds, path params, outputs, tags. */
describe('an Ikanos 1.0.0-beta3 capability with imports, served over REST and MCP', () => {
  let upstream: CaptureServer;
  let gateway: CapabilityGateway;
  let mcp: Client;
  const printed: string[] = [];

  beforeAll(async () => {
    upstream = await startCaptureServer();
    gateway = await startCapabilityGateway([fixture('ikanos/user-directory.yaml')], {
      TEST_DIRECTORY_TOKEN: DIRECTORY_TOKEN,
      CAPABILITY_BASE_URI_DIRECTORY: `${upstream.url}/api`,
      UPSTREAM_RETRIES: '0',
    });
    mcp = await connectMcp(gateway.mcpUrl);
  });
  afterEach(() => {
    upstream.requests.length = 0;
  });
  afterAll(async () => {
    await mcp?.close();
    await gateway?.close();
    await upstream?.close();
    expect([...(gateway?.logs ?? []), ...printed].join('\n')).not.toContain(DIRECTORY_TOKEN);
  });

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${gateway.restUrl}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    printed.push(text);
    return { status: response.status, body: json(text) as any };
  };

  it('GET with a {{userId}} path parameter: the imported adapter (renamed with "as"), bearer token from the imported binds, nested output', async () => {
    upstream.reply({ status: 200, body: JSON.stringify({ data: { id: 'u 1', profile: { displayName: 'Ada' }, secret: 'x' } }) });
    const { status, body } = await call('GET', '/v1/users/u%201');
    expect(status).toBe(200);
    expect(body).toEqual({ id: 'u 1', name: 'Ada' });
    const [sent] = upstream.requests;
    expect(`${sent?.method} ${sent?.url}`).toBe('GET /api/users/u%201');
    expect(sent?.headers.authorization).toBe(`Bearer ${DIRECTORY_TOKEN}`);
  });

  it('GET with query and header parameters renamed by "with", array items mapped', async () => {
    upstream.reply({ status: 200, body: JSON.stringify({ meta: { total: 1 }, data: [{ id: 'u1', profile: { displayName: 'Ada' } }] }) });
    const { status, body } = await call('GET', '/v1/users?search=ad&limit=5', undefined, { 'X-Tenant': 'acme' });
    expect(status).toBe(200);
    expect(body).toEqual({ total: 1, users: [{ id: 'u1', name: 'Ada' }] });
    const [sent] = upstream.requests;
    expect(sent?.url).toBe('/api/users?limit=5&q=ad');
    expect(sent?.headers['x-tenant']).toBe('acme');
  });

  it('POST: body fields fill the JSON body template; named outputs (a mapping and a static value) form the answer', async () => {
    upstream.reply({ status: 201, body: JSON.stringify({ data: { id: 'u9' } }) });
    const { status, body } = await call('POST', '/v1/users', { name: 'Grace', email: 'grace@example.com' });
    expect(status).toBe(201);
    expect(body).toEqual({ id: 'u9', created: true });
    const [sent] = upstream.requests;
    expect(JSON.parse(sent?.body ?? '')).toEqual({ displayName: 'Grace', contact: { emails: ['grace@example.com'] }, source: 'gateway' });
  });

  it('DELETE: a 204 stays empty', async () => {
    upstream.reply({ status: 204 });
    const { status, body } = await call('DELETE', '/v1/users/u1');
    expect(status).toBe(204);
    expect(body).toBeUndefined();
    expect(upstream.requests[0]?.method).toBe('DELETE');
  });

  it('MCP: display as the title, declared inputs, hints as annotations; the call reaches the same upstream path', async () => {
    const { tools } = await mcp.listTools();
    const tool = tools.find((t) => t.name === 'directory-get-user');
    expect(tool?.title ?? tool?.annotations?.title).toBe('Get a directory user');
    expect(tool?.inputSchema).toMatchObject({
      properties: { userId: { type: 'string', description: "The user's id." } },
      required: ['userId'],
    });
    expect(tool?.annotations).toMatchObject({ readOnlyHint: true, openWorldHint: false });
    upstream.reply({ status: 200, body: JSON.stringify({ data: { id: 'u1', profile: { displayName: 'Ada' } } }) });
    const result = await mcp.callTool({ name: 'directory-get-user', arguments: { userId: 'u1' } });
    printed.push(JSON.stringify(result));
    expect(result.structuredContent).toMatchObject({ status: 200, body: { id: 'u1', name: 'Ada' } });
    expect(upstream.requests[0]?.url).toBe('/api/users/u1');
  });

  it('tags become OpenAPI tags beside the capability tag; display becomes the summary', async () => {
    const document = (await (await fetch(`${gateway.restUrl}/openapi.json`)).json()) as any;
    const list = document.paths['/v1/users'].get;
    expect(list.summary).toBe('List users');
    expect(list.tags).toEqual([expect.any(String), 'Users', 'Search']);
    expect(document.paths['/v1/users/{userId}'].get.tags).toEqual([expect.any(String), 'Users']);
  });
});

describe('gateway validate on Ikanos files', () => {
  it('names the fix for each alpha2 leftover in a beta3 file: label, location import, underscore key, name:, a list for a map', () => {
    const { code, stdout } = command(runValidate, [fixture('ikanos/bad/alpha2-leftovers.yaml')]);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /alpha2-leftovers\.yaml:4:3: error: info\.label: renamed since Ikanos 1\.0\.0-alpha3: write "display: Leftovers" instead of "label"/,
    );
    expect(stdout).toMatch(
      /:8:7: error: capability\.consumes\[0\]\.location: imports are \{from, import, as\} .*rename "location" to "from"/,
    );
    expect(stdout).toMatch(
      /:14:9: error: capability\.consumes\[1\]\.resources\.custom_events: "custom_events" has an underscore: .*write "custom-events"/,
    );
    expect(stdout).toMatch(
      /:18:15: error: .*operations\.send-event\.name: an alpha2 leftover: .*the map key is the name; remove "name: send-event"/,
    );
    expect(stdout).toMatch(
      /:24:7: error: capability\.exposes\[0\]\.tools: an alpha2 list: .*"tools" is a map keyed by name; turn each "- name: x" item into a key "x:" \("send-event:"\)/,
    );
    expect(stdout).toMatch(/cannot be served \(5 errors\) — read as ikanos 1\.0\.0-beta3/);
  });

  it('a missing import and an import cycle are errors naming both files', () => {
    const missing = command(runValidate, [fixture('ikanos/bad/missing-import.yaml')]).stdout;
    expect(missing).toMatch(
      /missing-import\.yaml:5:7: error: capability\.consumes\[0\]\.from: cannot import "\.\/no-such-file\.yaml" into .*missing-import\.yaml: .*no-such-file\.yaml: no such file/,
    );
    const cycle = command(runValidate, [fixture('ikanos/bad/import-cycle.yaml')]).stdout;
    expect(cycle).toMatch(
      /import-cycle-b\.yaml:3:5: error: consumes\[0\]\.from: import cycle: .*import-cycle-b\.yaml imports .*import-cycle-a\.yaml/,
    );
    expect(cycle).toMatch(
      /import-cycle\.yaml:5:7: error: capability\.consumes\[0\]\.from: cannot import "loop" from .*import-cycle-a\.yaml/,
    );
  });
});
