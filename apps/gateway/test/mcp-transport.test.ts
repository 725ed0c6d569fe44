import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, TEST_CLIENT_KEY, TEST_PX_KEY, type TestGateway } from './support/test-gateway.ts';
import { ACCOUNT_TOOLS, USER_TOOLS } from '@gateway/plugin-gainsight-px';

/** The PX users and accounts tools, in the plugin's order. */
const PX_RECORD_TOOLS = [...Object.values(USER_TOOLS), ...Object.values(ACCOUNT_TOOLS)];

const ACCEPT = 'application/json, text/event-stream';
const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw-http-test', version: '1.0.0' } },
};

interface Raw {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** A raw HTTP request with full control of Host and the other headers (fetch does not let a caller set Host). */
function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: options.method ?? 'POST', headers: options.headers ?? {} }, (response) => {
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

const postRaw = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  raw(url, {
    headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** A clean JSON-RPC error: JSON, no HTML page, no stack trace. */
function expectJsonRpcError(answer: Raw, status: number, code: number, says: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(answer.text) as { jsonrpc: string; id: unknown; error: { code: number; message: string } };
  expect(body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code } });
  expect(body.error.message).toContain(says);
  expect(answer.text).not.toMatch(/<html|<pre|\bat \S+ \(|node_modules/i);
}

describe('MCP HTTP layer, stateless (default)', () => {
  let gateway: TestGateway;
  let url: string;
  let port: string;
  const answers: Raw[] = [];
  const keep = (answer: Raw) => {
    answers.push(answer);
    return answer;
  };

  beforeAll(async () => {
    gateway = await startTestGateway();
    url = gateway.mcpUrl;
    port = new URL(url).port;
  });
  afterAll(async () => {
    await gateway.close();
    expect(answers.map((a) => a.text).join('\n')).not.toContain(TEST_PX_KEY);
  });

  it('serves /mcp on its own port, not on the REST port', async () => {
    expect(new URL(url).pathname).toBe('/mcp');
    expect(port).not.toBe(new URL(gateway.restUrl).port);
    const rest = await postRaw(`${gateway.restUrl}/mcp`, INITIALIZE);
    expect(rest.status).toBe(404);
  });

  it('answers initialize with plain JSON and no session id', async () => {
    const answer = keep(await postRaw(url, INITIALIZE));
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(answer.headers['mcp-session-id']).toBeUndefined();
    expect(JSON.parse(answer.text)).toMatchObject({ id: 1, result: { serverInfo: { name: 'integration-gateway' } } });
  });

  it('answers GET and DELETE with 405 and Allow: POST', async () => {
    for (const method of ['GET', 'DELETE']) {
      const answer = keep(await raw(url, { method, headers: { accept: 'text/event-stream' } }));
      expectJsonRpcError(answer, 405, -32000, 'stateless');
      expect(answer.headers.allow).toBe('POST');
    }
  });

  it('rejects a foreign Host (DNS rebinding) with 403 before reading the request', async () => {
    const answer = keep(await postRaw(url, INITIALIZE, { host: `evil.example.com:${port}` }));
    expectJsonRpcError(answer, 403, -32000, 'evil.example.com');
  });

  it('gives a Host the same verdict every time it comes back (each value is parsed once)', async () => {
    for (let round = 0; round < 3; round++) {
      expectJsonRpcError(keep(await postRaw(url, INITIALIZE, { host: `evil.example.com:${port}` })), 403, -32000, 'evil.example.com');
      expectJsonRpcError(keep(await postRaw(url, INITIALIZE, { host: 'user@localhost' })), 403, -32000, 'user@localhost');
      expect(keep(await postRaw(url, INITIALIZE, { host: `localhost:${port}` })).status).toBe(200);
    }
  });

  it('rejects a foreign Origin with 403 even when Host is local', async () => {
    const answer = keep(await postRaw(url, INITIALIZE, { host: `127.0.0.1:${port}`, origin: 'http://evil.example.com' }));
    expectJsonRpcError(answer, 403, -32000, 'Origin');
  });

  it('accepts the loopback names in Host and Origin', async () => {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, 'localhost']) {
      const answer = keep(await postRaw(url, INITIALIZE, { host, origin: `http://${host}` }));
      expect(answer.status).toBe(200);
    }
  });

  it('answers malformed JSON with a JSON-RPC parse error', async () => {
    expectJsonRpcError(keep(await postRaw(url, '{"jsonrpc": "2.0", "method":')), 400, -32700, 'not valid JSON');
    expectJsonRpcError(keep(await postRaw(url, '42')), 400, -32700, 'not valid JSON');
  });

  it('answers a wrong content type with 415 and an empty body with 400', async () => {
    const form = keep(await raw(url, { headers: { 'content-type': 'text/plain', accept: ACCEPT }, body: JSON.stringify(INITIALIZE) }));
    expectJsonRpcError(form, 415, -32000, 'application/json');
    const none = keep(await raw(url, { headers: { accept: ACCEPT }, body: JSON.stringify(INITIALIZE) }));
    expectJsonRpcError(none, 415, -32000, 'no content type');
    const empty = keep(await raw(url, { headers: { 'content-type': 'application/json', accept: ACCEPT } }));
    expectJsonRpcError(empty, 400, -32600, 'empty');
  });

  it('answers a body that is JSON but not JSON-RPC with a JSON-RPC error', async () => {
    const answer = keep(await postRaw(url, { hello: 'world' }));
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toMatchObject({ jsonrpc: '2.0', error: { code: expect.any(Number) } });
  });

  it('answers unknown paths and methods with JSON, never an HTML page', async () => {
    expectJsonRpcError(keep(await raw(`${url.replace(/\/mcp$/, '')}/nope`, { method: 'GET' })), 404, -32000, '/mcp');
    expectJsonRpcError(keep(await postRaw(url.replace(/\/mcp$/, '/'), INITIALIZE)), 404, -32000, '/mcp');
    const put = keep(await raw(url, { method: 'PUT' }));
    expectJsonRpcError(put, 405, -32000, 'PUT');
    expect(put.headers.allow).toBe('POST');
  });
});

describe('MCP HTTP layer, sessions (MCP_SESSIONS=true)', () => {
  let gateway: TestGateway;
  let url: string;

  beforeAll(async () => {
    gateway = await startTestGateway({ MCP_SESSIONS: 'true' });
    url = gateway.mcpUrl;
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('gives a session id on initialize, requires it after, and DELETE ends the session (then 404)', async () => {
    const init = await postRaw(url, INITIALIZE);
    expect(init.status).toBe(200);
    const sessionId = init.headers['mcp-session-id'];
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const headers = { 'mcp-session-id': String(sessionId), 'mcp-protocol-version': '2025-11-25' };
    await postRaw(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers);

    const list = await postRaw(url, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, headers);
    expect(list.status).toBe(200);
    expect(list.text).toContain('gainsight-send-custom-event');

    const withoutSession = await postRaw(url, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, { 'mcp-protocol-version': '2025-11-25' });
    expectJsonRpcError(withoutSession, 400, -32000, 'Mcp-Session-Id');

    const stream = await fetch(url, { headers: { ...headers, accept: 'text/event-stream' } });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await stream.body?.cancel();

    const ended = await raw(url, { method: 'DELETE', headers });
    expect(ended.status).toBe(200);
    const after = await postRaw(url, { jsonrpc: '2.0', id: 4, method: 'tools/list' }, headers);
    expectJsonRpcError(after, 404, -32001, 'Session not found');
  });

  it('answers an unknown session id with 404 on POST, GET and DELETE', async () => {
    const headers = { 'mcp-session-id': 'no-such-session', 'mcp-protocol-version': '2025-11-25' };
    expectJsonRpcError(await postRaw(url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, headers), 404, -32001, 'Session not found');
    expectJsonRpcError(
      await raw(url, { method: 'GET', headers: { ...headers, accept: 'text/event-stream' } }),
      404,
      -32001,
      'Session not found',
    );
    expectJsonRpcError(await raw(url, { method: 'DELETE', headers }), 404, -32001, 'Session not found');
  });

  it('answers GET without a session with 400', async () => {
    expectJsonRpcError(await raw(url, { method: 'GET', headers: { accept: 'text/event-stream' } }), 400, -32000, 'Mcp-Session-Id');
  });

  it('lets an SDK client hold the notification stream, and terminate its session', async () => {
    const client = new Client({ name: 'sessions-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(url));
    await client.connect(transport);
    const sessionId = transport.sessionId;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual([
      'gainsight-send-custom-event',
      'gainsight-send-custom-events',
      ...PX_RECORD_TOOLS,
      'gateway-get-delivery',
    ]);
    // The client opened the session's GET stream after initialize; a session has at most one.
    const second = await raw(url, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'mcp-session-id': String(sessionId), 'mcp-protocol-version': '2025-11-25' },
    });
    expect(second.status).toBe(409);
    await transport.terminateSession();
    expect(transport.sessionId).toBeUndefined();
    await client.close();
    const after = await postRaw(
      url,
      { jsonrpc: '2.0', id: 9, method: 'tools/list' },
      { 'mcp-session-id': String(sessionId), 'mcp-protocol-version': '2025-11-25' },
    );
    expect(after.status).toBe(404);
  });

  it('rejects a foreign Host in sessions mode too', async () => {
    const answer = await postRaw(url, INITIALIZE, { host: 'evil.example.com' });
    expectJsonRpcError(answer, 403, -32000, 'evil.example.com');
    expect(answer.headers['mcp-session-id']).toBeUndefined();
  });

  it('closes with a notification stream still open', async () => {
    const other = await startTestGateway({ MCP_SESSIONS: 'true' });
    const client = new Client({ name: 'open-stream', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(other.mcpUrl));
    await client.connect(transport);
    const busy = await raw(other.mcpUrl, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'mcp-session-id': String(transport.sessionId), 'mcp-protocol-version': '2025-11-25' },
    });
    expect(busy.status).toBe(409);
    await other.close();
    await expect(postRaw(other.mcpUrl, INITIALIZE)).rejects.toThrow(/ECONNREFUSED/);
    await client.close().catch(() => {});
  });
});

describe('MCP HTTP layer, configuration', () => {
  it('serves a host name listed in MCP_ALLOWED_HOSTS, and still no other', async () => {
    const gateway = await startTestGateway({ MCP_ALLOWED_HOSTS: 'mcp.example.com, Other.Example.org:443' });
    try {
      expect((await postRaw(gateway.mcpUrl, INITIALIZE, { host: 'mcp.example.com' })).status).toBe(200);
      expect(
        (await postRaw(gateway.mcpUrl, INITIALIZE, { host: 'other.example.org:9090', origin: 'https://mcp.example.com' })).status,
      ).toBe(200);
      expect((await postRaw(gateway.mcpUrl, INITIALIZE, { host: 'localhost' })).status).toBe(200);
      expectJsonRpcError(await postRaw(gateway.mcpUrl, INITIALIZE, { host: 'evil.example.com' }), 403, -32000, 'ALLOWED_HOSTS');
    } finally {
      await gateway.close();
    }
  });

  it('answers a body over BODY_LIMIT with 413', async () => {
    const gateway = await startTestGateway({ BODY_LIMIT: '200' });
    try {
      const big = { ...INITIALIZE, params: { ...INITIALIZE.params, padding: 'x'.repeat(500) } };
      expectJsonRpcError(await postRaw(gateway.mcpUrl, big), 413, -32600, 'BODY_LIMIT');
    } finally {
      await gateway.close();
    }
  });

  it('requires an inbound key when GATEWAY_API_KEYS is set, and lets an SDK client in with it', async () => {
    const gateway = await startTestGateway({ GATEWAY_API_KEYS: TEST_CLIENT_KEY });
    try {
      const anonymous = await postRaw(gateway.mcpUrl, INITIALIZE);
      expectJsonRpcError(anonymous, 401, -32000, 'API key');
      expect(anonymous.headers['www-authenticate']).toContain('Bearer');
      expectJsonRpcError(
        await postRaw(gateway.mcpUrl, INITIALIZE, { authorization: 'Bearer wrong-key-0123456789' }),
        401,
        -32000,
        'not valid',
      );
      const client = new Client({ name: 'keyed', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(gateway.mcpUrl), {
          requestInit: { headers: { authorization: `Bearer ${TEST_CLIENT_KEY}` } },
        }),
      );
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual([
        'gainsight-send-custom-event',
        'gainsight-send-custom-events',
        ...PX_RECORD_TOOLS,
        'gateway-get-delivery',
      ]);
      await client.close();
    } finally {
      await gateway.close();
    }
    expect(gateway.logs.join('\n')).not.toContain(TEST_CLIENT_KEY);
  });

  it('fails to start, naming the address, when MCP_PORT is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      await expect(startTestGateway({ MCP_PORT: String(port) })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('rejects MCP_SESSIONS values other than true or false', async () => {
    await expect(startTestGateway({ MCP_SESSIONS: 'yes' })).rejects.toThrow(/MCP_SESSIONS must be true or false/);
  });
});

describe('MCP HTTP layer, a client that leaves mid-call (stateless)', () => {
  it("ends a read-only tool's upstream call when the client closes its connection before the answer", async () => {
    // An upstream that holds GET /users/... open: it records whether the gateway hung up on it first.
    let arrived: () => void = () => {};
    const requestArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let hungUp: () => void = () => {};
    const gatewayHungUp = new Promise<void>((resolve) => {
      hungUp = resolve;
    });
    const upstream = createServer((request, response) => {
      arrived();
      const answer = setTimeout(() => response.end(JSON.stringify({ identifyId: 'u-1' })), 30_000);
      response.on('close', () => {
        clearTimeout(answer);
        if (!response.writableEnded) hungUp();
      });
      request.resume();
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const gateway = await startTestGateway({ GAINSIGHT_API_KEY: TEST_PX_KEY, GAINSIGHT_PX_BASE_URL: `${upstreamUrl}/v1` });
    try {
      const call = httpRequest(gateway.mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: ACCEPT } });
      call.on('error', () => {});
      call.end(
        JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: USER_TOOLS.get, arguments: { identifyId: 'u-1' } } }),
      );
      await requestArrived;
      call.destroy();
      await gatewayHungUp;
    } finally {
      await gateway.close();
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
    }
  });
});
