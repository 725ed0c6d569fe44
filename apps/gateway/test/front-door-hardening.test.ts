import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';
import {
  liveEnvironment,
  postJson,
  startTestGateway,
  TEST_CLIENT_KEY,
  TEST_OTHER_CLIENT_KEY,
  type TestGateway,
} from './support/test-gateway.ts';

// Issue 11, defects 1, 4, 5 and 6: the front doors (labels, rate limits, Host check, MCP sessions).

const EVENT = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' };
const TOOL = 'gainsight-send-custom-event';
const ACCEPT = 'application/json, text/event-stream';
const PROTOCOL = '2025-11-25';
const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'hardening-test', version: '1.0.0' } },
};
const toolCall = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: TOOL, arguments: { body: EVENT } } });

interface Raw {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** A raw HTTP request with full control of Host (fetch does not let a caller set it). */
function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text }));
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

const mcpPost = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: ACCEPT, 'mcp-protocol-version': PROTOCOL, ...headers },
    body: JSON.stringify(body),
  });

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** Runs `count` tasks, `parallel` at a time (bounded load on a shared machine). */
async function inBatches(count: number, parallel: number, task: (index: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < count; start += parallel) {
    await Promise.all(Array.from({ length: Math.min(parallel, count - start) }, (_, offset) => task(start + offset)));
  }
}

describe('metric labels stay bounded, and requests without a valid key are rate-limited (defect 1)', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({ GATEWAY_API_KEYS: `${TEST_CLIENT_KEY},${TEST_OTHER_CLIENT_KEY}`, INBOUND_RATE_LIMIT: '100' });
  });
  afterAll(async () => {
    await gateway.close();
  });

  const metricsText = async () => {
    const response = await fetch(`${gateway.restUrl}/metrics`, { headers: { 'x-api-key': TEST_OTHER_CLIENT_KEY } });
    expect(response.status).toBe(200);
    return response.text();
  };
  const randomPath = () => `/${randomBytes(1024).toString('hex')}`;

  it('keeps /metrics the same size after 2,000 requests to random 2 KB paths without a key', async () => {
    const statuses = new Set<number>();
    const probe = (index: number) =>
      fetch(`${gateway.restUrl}${randomPath()}`, { method: index % 2 === 0 ? 'GET' : 'POST' }).then(async (response) => {
        statuses.add(response.status);
        await response.body?.cancel();
      });
    await inBatches(200, 20, probe);
    const before = await metricsText();
    await inBatches(2000, 20, probe);
    const after = await metricsText();
    // Only the counts change; a label per path would add kilobytes per request. Only the request metrics are
    // compared: Node's own process metrics gain series as the process runs (by how much depends on the Node version).
    const requestMetrics = (text: string) =>
      text
        .split('\n')
        .filter((line) => line.startsWith('gateway_http_'))
        .join('\n');
    expect(Math.abs(requestMetrics(after).length - requestMetrics(before).length)).toBeLessThan(2000);
    expect(after).not.toMatch(/route="\/[0-9a-f]{64}/);
    expect(after).toMatch(/gateway_http_requests_total\{route="unmatched",method="GET",status="401"\}/);
    expect(after).toMatch(/gateway_http_requests_total\{route="unmatched",method="GET",status="429"\}/);
    expect([...statuses].sort()).toEqual([401, 429]);
  });

  it('labels a method outside the usual set as "other", never by its name', async () => {
    const response = await fetch(`${gateway.restUrl}/v1/custom-events`, { method: 'PROPFIND', headers: { 'x-api-key': TEST_CLIENT_KEY } });
    await response.body?.cancel();
    const text = await metricsText();
    expect(text).not.toContain('method="PROPFIND"');
    expect(text).toMatch(/gateway_http_requests_total\{route="[^"]+",method="other",status="\d{3}"\}/);
  });
});

describe('failed key attempts are limited per address, before the key check, on both ports (defect 1)', () => {
  it('answers 429 after INBOUND_RATE_LIMIT wrong-key attempts, while a valid key keeps its own budget', async () => {
    const upstream = await startCaptureServer();
    const gateway = await startTestGateway(liveEnvironment(upstream.url, { GATEWAY_API_KEYS: TEST_CLIENT_KEY, INBOUND_RATE_LIMIT: '5' }));
    try {
      const wrongRest = () => postJson(`${gateway.restUrl}/v1/custom-events`, EVENT, { 'x-api-key': 'wrong-key-wrong-key-wrong' });
      const wrongMcp = () => mcpPost(gateway.mcpUrl, INITIALIZE, bearer('wrong-key-wrong-key-wrong'));
      const statuses: number[] = [];
      for (const attempt of [wrongRest, wrongRest, wrongRest, wrongMcp, wrongMcp, wrongMcp, wrongRest]) {
        const response = await attempt();
        statuses.push(response.status);
        await response.body?.cancel();
      }
      // The address's budget is shared by both ports: five 401s, then 429 on either.
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
      const limited = await wrongRest();
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await limited.json()) as { type: string }).type).toBe('urn:gateway:problem:rate-limited');
      expect((await postJson(`${gateway.restUrl}/v1/custom-events`, EVENT, { 'x-api-key': TEST_CLIENT_KEY })).status).toBe(201);
      expect(upstream.requests).toHaveLength(1);
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});

describe('the REST port checks Host and Origin like the MCP port (defect 4)', () => {
  let upstream: CaptureServer;
  let gateway: TestGateway;
  let port: string;

  beforeAll(async () => {
    upstream = await startCaptureServer();
    // Anonymous loopback gateway in live mode: the audit's set-up.
    gateway = await startTestGateway(liveEnvironment(upstream.url, { CORS_ORIGINS: 'https://app.example.com' }));
    port = new URL(gateway.restUrl).port;
  });
  afterAll(async () => {
    await gateway.close();
    await upstream.close();
  });

  const post = (headers: Record<string, string>) =>
    raw(`${gateway.restUrl}/v1/custom-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(EVENT),
    });

  it('refuses a rebinding Host with problem+json 403 and sends nothing upstream', async () => {
    const rebound = `rebind.attacker.test:${port}`;
    const answer = await post({ host: rebound, origin: `http://${rebound}` });
    expect(answer.status).toBe(403);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = JSON.parse(answer.text) as { type: string; detail: string };
    expect(problem.type).toBe('urn:gateway:problem:host-not-allowed');
    expect(problem.detail).toContain('ALLOWED_HOSTS');
    for (const path of ['/metrics', '/sandbox/v1/events/custom', '/openapi.json', '/docs/']) {
      expect((await raw(`${gateway.restUrl}${path}`, { headers: { host: rebound } })).status).toBe(403);
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it('refuses a foreign Origin with a local Host, and accepts the loopback names and CORS_ORIGINS', async () => {
    expect((await post({ host: `127.0.0.1:${port}`, origin: 'http://rebind.attacker.test' })).status).toBe(403);
    expect(upstream.requests).toHaveLength(0);
    expect((await post({ host: `localhost:${port}`, origin: `http://localhost:${port}` })).status).toBe(201);
    expect((await post({ host: `127.0.0.1:${port}`, origin: 'https://app.example.com' })).status).toBe(201);
    expect(upstream.requests).toHaveLength(2);
  });

  it('answers the probes for any Host (a load balancer checks them by instance address)', async () => {
    expect((await raw(`${gateway.restUrl}/healthz`, { headers: { host: `10.1.2.3:${port}` } })).status).toBe(200);
    expect((await raw(`${gateway.restUrl}/readyz`, { headers: { host: `10.1.2.3:${port}` } })).status).toBe(200);
  });

  it('takes ALLOWED_HOSTS (and its alias MCP_ALLOWED_HOSTS) for both ports; * turns the check off', async () => {
    for (const variable of ['ALLOWED_HOSTS', 'MCP_ALLOWED_HOSTS']) {
      const named = await startTestGateway(liveEnvironment(upstream.url, { [variable]: 'gateway.example.com' }));
      try {
        const rest = await raw(`${named.restUrl}/v1/custom-events`, {
          method: 'POST',
          headers: { host: 'gateway.example.com', 'content-type': 'application/json' },
          body: JSON.stringify(EVENT),
        });
        expect(rest.status).toBe(201);
        const mcp = await raw(named.mcpUrl, {
          method: 'POST',
          headers: { host: 'gateway.example.com', 'content-type': 'application/json', accept: ACCEPT },
          body: JSON.stringify(INITIALIZE),
        });
        expect(mcp.status).toBe(200);
        expect((await raw(`${named.restUrl}/healthz`, { headers: { host: 'other.example.com' } })).status).toBe(200);
        expect((await raw(`${named.restUrl}/metrics`, { headers: { host: 'other.example.com' } })).status).toBe(403);
      } finally {
        await named.close();
      }
    }
    const open = await startTestGateway(liveEnvironment(upstream.url, { ALLOWED_HOSTS: '*' }));
    try {
      expect((await raw(`${open.restUrl}/metrics`, { headers: { host: 'anything.example' } })).status).toBe(200);
    } finally {
      await open.close();
    }
  });
});

describe('one inbound budget per client across REST and MCP, counting each JSON-RPC message (defect 5)', () => {
  let upstream: CaptureServer;

  beforeAll(async () => {
    upstream = await startCaptureServer();
  });
  afterAll(async () => {
    await upstream.close();
  });

  const keyedGateway = () =>
    startTestGateway(
      liveEnvironment(upstream.url, { GATEWAY_API_KEYS: `${TEST_CLIENT_KEY},${TEST_OTHER_CLIENT_KEY}`, INBOUND_RATE_LIMIT: '3' }),
    );

  it('sends at most INBOUND_RATE_LIMIT tool calls upstream from JSON-RPC batches of 100', async () => {
    upstream.requests.length = 0;
    const gateway = await keyedGateway();
    try {
      const batch = Array.from({ length: 100 }, (_, index) => toolCall(index + 1));
      const statuses: number[] = [];
      for (let post = 0; post < 3; post += 1) {
        const response = await mcpPost(gateway.mcpUrl, batch, bearer(TEST_CLIENT_KEY));
        statuses.push(response.status);
        if (response.status === 429)
          expect(((await response.json()) as { error: { message: string } }).error.message).toContain('INBOUND_RATE_LIMIT');
        else await response.body?.cancel();
      }
      expect(statuses).toEqual([429, 429, 429]);
      expect(upstream.requests.length).toBeLessThanOrEqual(3);
    } finally {
      await gateway.close();
    }
  });

  it('lets a batch within the budget through, one unit per message', async () => {
    upstream.requests.length = 0;
    const gateway = await keyedGateway();
    try {
      const within = await mcpPost(gateway.mcpUrl, [toolCall(1), toolCall(2)], bearer(TEST_CLIENT_KEY));
      expect(within.status).toBe(200);
      await within.text();
      expect(upstream.requests).toHaveLength(2);
      expect((await postJson(`${gateway.restUrl}/v1/custom-events`, EVENT, { 'x-api-key': TEST_CLIENT_KEY })).status).toBe(201);
      expect((await postJson(`${gateway.restUrl}/v1/custom-events`, EVENT, { 'x-api-key': TEST_CLIENT_KEY })).status).toBe(429);
      expect(upstream.requests).toHaveLength(3);
    } finally {
      await gateway.close();
    }
  });

  it('counts REST requests and MCP tool calls with the same key against one budget', async () => {
    upstream.requests.length = 0;
    const gateway = await keyedGateway();
    try {
      const rest = () => postJson(`${gateway.restUrl}/v1/custom-events`, EVENT, { 'x-api-key': TEST_CLIENT_KEY });
      const mcp = () => mcpPost(gateway.mcpUrl, toolCall(1), bearer(TEST_CLIENT_KEY));
      expect((await rest()).status).toBe(201);
      expect((await rest()).status).toBe(201);
      const call = await mcp();
      expect(call.status).toBe(200);
      await call.text();
      expect((await rest()).status).toBe(429);
      expect((await mcp()).status).toBe(429);
      expect(upstream.requests).toHaveLength(3);
      // Another key has its own budget.
      expect((await postJson(`${gateway.restUrl}/v1/custom-events`, EVENT, { 'x-api-key': TEST_OTHER_CLIENT_KEY })).status).toBe(201);
    } finally {
      await gateway.close();
    }
  });
});

describe('MCP sessions: a cap per client and sessions bound to their client (defect 6)', () => {
  let gateway: TestGateway;
  const clients: Client[] = [];

  beforeAll(async () => {
    gateway = await startTestGateway({
      MCP_SESSIONS: 'true',
      MCP_SESSIONS_PER_CLIENT: '3',
      GATEWAY_API_KEYS: `${TEST_CLIENT_KEY},${TEST_OTHER_CLIENT_KEY}`,
    });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => {})));
    await gateway.close();
    expect(gateway.logs.join('\n')).not.toContain(TEST_CLIENT_KEY);
  });

  const connect = async (key: string) => {
    const client = new Client({ name: 'session-owner', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(gateway.mcpUrl), { requestInit: { headers: bearer(key) } });
    await client.connect(transport);
    clients.push(client);
    return { client, transport };
  };
  const sessionHeaders = (sessionId: string, key: string) => ({
    'mcp-session-id': sessionId,
    'mcp-protocol-version': PROTOCOL,
    ...bearer(key),
  });

  it('answers another key that uses a session id exactly as an unknown id (404), and never logs session ids', async () => {
    const { client, transport } = await connect(TEST_CLIENT_KEY);
    const sessionId = String(transport.sessionId);
    const list = { jsonrpc: '2.0', id: 7, method: 'tools/list' };
    const stolen = await mcpPost(gateway.mcpUrl, list, sessionHeaders(sessionId, TEST_OTHER_CLIENT_KEY));
    const unknown = await mcpPost(gateway.mcpUrl, list, sessionHeaders('00000000-0000-4000-8000-000000000000', TEST_OTHER_CLIENT_KEY));
    expect(stolen.status).toBe(404);
    expect(await stolen.text()).toBe(await unknown.text());
    const stream = await fetch(gateway.mcpUrl, {
      headers: { ...sessionHeaders(sessionId, TEST_OTHER_CLIENT_KEY), accept: 'text/event-stream' },
    });
    expect(stream.status).toBe(404);
    await stream.body?.cancel();
    const ended = await fetch(gateway.mcpUrl, { method: 'DELETE', headers: sessionHeaders(sessionId, TEST_OTHER_CLIENT_KEY) });
    expect(ended.status).toBe(404);
    // The owner's session is untouched.
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain(TOOL);
    expect(gateway.logs.join('\n')).not.toContain(sessionId);
    await transport.terminateSession();
  });

  it('refuses a client past MCP_SESSIONS_PER_CLIENT with 429 while other clients still get sessions', async () => {
    const opened: StreamableHTTPClientTransport[] = [];
    for (let index = 0; index < 3; index += 1) opened.push((await connect(TEST_CLIENT_KEY)).transport);
    const refused = await mcpPost(gateway.mcpUrl, INITIALIZE, bearer(TEST_CLIENT_KEY));
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as { error: { message: string } };
    expect(body.error.message).toContain('MCP_SESSIONS_PER_CLIENT');
    expect(refused.headers.get('mcp-session-id')).toBeNull();
    // Another key is not locked out.
    const other = await connect(TEST_OTHER_CLIENT_KEY);
    expect(other.transport.sessionId).toBeTruthy();
    // Ending one session frees a slot.
    await opened[0]?.terminateSession();
    const again = await mcpPost(gateway.mcpUrl, INITIALIZE, bearer(TEST_CLIENT_KEY));
    expect(again.status).toBe(200);
    expect(again.headers.get('mcp-session-id')).toBeTruthy();
    await again.body?.cancel();
  });
});
