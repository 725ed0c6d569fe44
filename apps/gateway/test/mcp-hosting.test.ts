import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';
import { liveEnvironment, startTestGateway, TEST_CLIENT_KEY, TEST_OTHER_CLIENT_KEY, type TestGateway } from './support/test-gateway.ts';

const TOOL = 'gainsight-send-custom-event';
const EVENT = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' };
type ToolResult = { content: { text: string }[]; structuredContent?: Record<string, unknown>; isError?: boolean };

async function connect(url: string, key: string): Promise<Client> {
  const client = new Client({ name: 'mcp-hosting-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  return client;
}

describe('MCP with inbound keys: idempotency keys, metrics', () => {
  let upstream: CaptureServer;
  let gateway: TestGateway;
  let agent: Client;
  const call = async (args: Record<string, unknown>, client = agent) =>
    (await client.callTool({ name: TOOL, arguments: args })) as ToolResult;

  beforeAll(async () => {
    upstream = await startCaptureServer();
    gateway = await startTestGateway(
      liveEnvironment(upstream.url, { GATEWAY_API_KEYS: `${TEST_CLIENT_KEY},${TEST_OTHER_CLIENT_KEY}`, UPSTREAM_RETRIES: '0' }),
    );
    agent = await connect(gateway.mcpUrl, TEST_CLIENT_KEY);
  });
  afterEach(() => {
    upstream.requests.length = 0;
  });
  afterAll(async () => {
    await agent.close();
    await gateway.close();
    await upstream.close();
  });

  it('reaches upstream once for a repeated idempotencyKey and returns the first result', async () => {
    upstream.reply({ status: 201, body: '{"id":"evt-1"}' });
    const first = await call({ body: EVENT, idempotencyKey: 'mcp-key-1' });
    const second = await call({ body: EVENT, idempotencyKey: 'mcp-key-1' });
    expect(first.isError).toBeFalsy();
    expect(second.structuredContent).toMatchObject({ status: 201, body: { id: 'evt-1' } });
    expect(upstream.requests).toHaveLength(1);
    // Told apart from a new call, as REST's Idempotent-Replayed header does: replayed, with the first call's request id.
    expect(first.structuredContent).not.toHaveProperty('replayed');
    expect(second.structuredContent).toMatchObject({ replayed: true, requestId: first.structuredContent?.requestId });
    expect(upstream.requests[0]?.headers['x-request-id']).toBe(first.structuredContent?.requestId);
    expect(JSON.parse(upstream.requests[0]?.body ?? '{}')).not.toHaveProperty('idempotencyKey');
  });

  it('reports the same key with other arguments as an isError result, without calling upstream', async () => {
    await call({ body: EVENT, idempotencyKey: 'mcp-key-2' });
    const reused = await call({ body: { ...EVENT, eventName: 'Other' }, idempotencyKey: 'mcp-key-2' });
    expect(reused.isError).toBe(true);
    expect(reused.content[0]?.text).toContain('different request body');
    expect(upstream.requests).toHaveLength(1);
  });

  it('scopes idempotency keys to the client key', async () => {
    const other = await connect(gateway.mcpUrl, TEST_OTHER_CLIENT_KEY);
    try {
      await call({ body: EVENT, idempotencyKey: 'mcp-key-3' });
      await call({ body: EVENT, idempotencyKey: 'mcp-key-3' }, other);
      expect(upstream.requests).toHaveLength(2);
    } finally {
      await other.close();
    }
  });

  it('without an idempotencyKey each call is sent', async () => {
    await call({ body: EVENT });
    await call({ body: EVENT });
    expect(upstream.requests).toHaveLength(2);
  });

  it('rejects a non-string idempotencyKey as invalid input', async () => {
    const result = await call({ body: EVENT, idempotencyKey: 42 });
    expect(result.isError).toBe(true);
    expect(upstream.requests).toHaveLength(0);
  });

  it('counts tool calls by tool and outcome in /metrics', async () => {
    await call({ body: { eventName: 'x' } });
    const metrics = await (await fetch(`${gateway.restUrl}/metrics`, { headers: { 'x-api-key': TEST_CLIENT_KEY } })).text();
    expect(metrics).toMatch(/gateway_mcp_tool_calls_total\{tool="gainsight-send-custom-event",outcome="success"\} [1-9]/);
    expect(metrics).toMatch(/gateway_mcp_tool_calls_total\{tool="gainsight-send-custom-event",outcome="invalid_input"\} [1-9]/);
  });
});

describe('MCP inbound rate limit', () => {
  it('answers 429 with a JSON-RPC error, Retry-After and RateLimit headers past INBOUND_RATE_LIMIT', async () => {
    const gateway = await startTestGateway({ INBOUND_RATE_LIMIT: '2' });
    try {
      const ping = () =>
        fetch(gateway.mcpUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-protocol-version': '2025-06-18',
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
        });
      expect((await ping()).status).toBe(200);
      expect((await ping()).status).toBe(200);
      const limited = await ping();
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(limited.headers.get('ratelimit-policy')).toContain('q=2');
      const body = (await limited.json()) as { jsonrpc: string; error: { message: string } };
      expect(body.jsonrpc).toBe('2.0');
      expect(body.error.message).toContain('INBOUND_RATE_LIMIT');
    } finally {
      await gateway.close();
    }
  });
});
