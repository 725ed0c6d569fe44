import { Client, ProtocolError, ProtocolErrorCode, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';
import { liveEnvironment, startTestGateway, TEST_CLIENT_KEY, TEST_PX_KEY, type TestGateway } from './support/test-gateway.ts';

const TOOL = 'gainsight-send-custom-event';
const EVENT = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' };
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

type Negotiation = { mode: 'legacy' | 'auto' | { pin: '2026-07-28' } };
type TextResult = { content: { type: string; text: string }[]; structuredContent?: Record<string, unknown>; isError?: boolean };

/** Each protocol generation against each MCP mode, with the SDK v2 client (the same package agents embed). */
const CASES = [
  {
    name: '2026-07-28 (pinned), stateless',
    environment: {},
    negotiation: { mode: { pin: '2026-07-28' } },
    era: 'modern',
    version: '2026-07-28',
  },
  { name: '2026-07-28 (auto), stateless', environment: {}, negotiation: { mode: 'auto' }, era: 'modern', version: '2026-07-28' },
  { name: '2025-11-25, stateless', environment: {}, negotiation: { mode: 'legacy' }, era: 'legacy', version: '2025-11-25' },
  {
    name: '2026-07-28 (pinned), MCP_SESSIONS=true',
    environment: { MCP_SESSIONS: 'true' },
    negotiation: { mode: { pin: '2026-07-28' } },
    era: 'modern',
    version: '2026-07-28',
  },
  {
    name: '2025-11-25, MCP_SESSIONS=true',
    environment: { MCP_SESSIONS: 'true' },
    negotiation: { mode: 'legacy' },
    era: 'legacy',
    version: '2025-11-25',
  },
] as const satisfies readonly {
  name: string;
  environment: Record<string, string>;
  negotiation: Negotiation;
  era: string;
  version: string;
}[];

describe.each(CASES)('MCP $name', ({ environment, negotiation, era, version }) => {
  let upstream: CaptureServer;
  let gateway: TestGateway;
  let client: Client;
  let transport: StreamableHTTPClientTransport;

  beforeAll(async () => {
    upstream = await startCaptureServer();
    gateway = await startTestGateway(liveEnvironment(upstream.url, { UPSTREAM_RETRIES: '0', ...environment }));
    client = new Client({ name: 'mcp-eras-test', version: '1.0.0' }, { versionNegotiation: negotiation });
    transport = new StreamableHTTPClientTransport(new URL(gateway.mcpUrl));
    await client.connect(transport);
  });
  afterEach(() => {
    upstream.requests.length = 0;
  });
  afterAll(async () => {
    await client.close();
    await gateway.close();
    await upstream.close();
    expect(gateway.logs.join('\n')).not.toContain(TEST_PX_KEY);
  });

  it(`connects on ${version}`, () => {
    expect(client.getProtocolEra()).toBe(era);
    expect(client.getNegotiatedProtocolVersion()).toBe(version);
    expect(client.getServerVersion()?.name).toBe('integration-gateway');
    if (era === 'legacy' && 'MCP_SESSIONS' in environment) expect(transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    else expect(transport.sessionId).toBeUndefined();
  });

  it('lists the tools', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain(TOOL);
    expect(tools.find((t) => t.name === TOOL)?.inputSchema.required).toEqual(['body']);
  });

  it('calls the custom-event tool, and the upstream records the event', async () => {
    const result = (await client.callTool({ name: TOOL, arguments: { body: EVENT } })) as TextResult;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status: 201 });
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]?.url).toBe('/v1/events/custom');
    expect(JSON.parse(upstream.requests[0]?.body ?? '{}')).toMatchObject(EVENT);
  });

  it('answers an invalid call with isError naming the field, and sends nothing', async () => {
    const result = (await client.callTool({ name: TOOL, arguments: { body: { ...EVENT, eventName: '' } } })) as TextResult;
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toContain('body.eventName: must NOT have fewer than 1 characters');
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers an unknown tool with a protocol error (invalid params)', async () => {
    const failure = await client.callTool({ name: 'no-such-tool', arguments: {} }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ProtocolError);
    expect((failure as ProtocolError).code).toBe(ProtocolErrorCode.InvalidParams);
    expect((failure as ProtocolError).message).toContain('Unknown tool "no-such-tool"');
    expect(upstream.requests).toHaveLength(0);
  });

  it('reads a W3C traceparent from _meta and hands it to the tool call', async () => {
    await client.callTool({ name: TOOL, arguments: { body: EVENT }, _meta: { traceparent: TRACEPARENT } });
    const line = gateway.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.traceparent === TRACEPARENT);
    expect(line).toMatchObject({ msg: 'mcp tool call', tool: TOOL, ok: true });
  });
});

/** The raw 2026-07-28 wire: what a client that is not the SDK sees. */
describe('MCP 2026-07-28 on the wire', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(async () => {
    await gateway.close();
  });

  const modern = (method: string, params: Record<string, unknown> = {}, name?: string) =>
    fetch(gateway.mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': method,
        ...(name ? { 'mcp-name': name } : {}),
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method,
        params: {
          ...params,
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1.0.0' },
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        },
      }),
    });

  it('answers server/discover naming both generations', async () => {
    const answer = await modern('server/discover');
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { result: { supportedVersions?: string[]; capabilities?: unknown } };
    expect(JSON.stringify(body.result)).toContain('2026-07-28');
    expect(body.result.capabilities).toMatchObject({ tools: {} });
  });

  it('marks tools/list cacheable: public, with a TTL', async () => {
    const answer = await modern('tools/list');
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { result: { ttlMs: number; cacheScope: string; resultType: string; tools: unknown[] } };
    expect(body.result).toMatchObject({ resultType: 'complete', cacheScope: 'public' });
    expect(body.result.ttlMs).toBeGreaterThan(0);
  });
});

/** What stands in front of the 2025 door stands in front of the 2026-07-28 one: inbound keys, the rate limit. */
describe('MCP 2026-07-28 behind inbound keys and the rate limit', () => {
  let upstream: CaptureServer;
  let gateway: TestGateway;
  beforeAll(async () => {
    upstream = await startCaptureServer();
    gateway = await startTestGateway(liveEnvironment(upstream.url, { GATEWAY_API_KEYS: TEST_CLIENT_KEY, INBOUND_RATE_LIMIT: '4' }));
  });
  afterAll(async () => {
    await gateway.close();
    await upstream.close();
    expect(gateway.logs.join('\n')).not.toContain(TEST_CLIENT_KEY);
  });

  const pinned = () => new Client({ name: 'mcp-eras-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });

  it('refuses a client without a key (401 before any JSON-RPC), and serves one with it until the budget is spent', async () => {
    const anonymous = pinned();
    await expect(anonymous.connect(new StreamableHTTPClientTransport(new URL(gateway.mcpUrl)))).rejects.toThrow(/401|Unauthorized/);

    const keyed = pinned();
    await keyed.connect(
      new StreamableHTTPClientTransport(new URL(gateway.mcpUrl), {
        requestInit: { headers: { authorization: `Bearer ${TEST_CLIENT_KEY}` } },
      }),
    );
    expect(keyed.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    const result = (await keyed.callTool({ name: TOOL, arguments: { body: EVENT } })) as TextResult;
    expect(result.structuredContent).toMatchObject({ status: 201 });
    expect(upstream.requests).toHaveLength(1);
    // The budget (4 messages a minute for this key) is spent by discover, list, call and these: a 429 follows.
    const outcomes: unknown[] = [];
    for (let i = 0; i < 3; i++) outcomes.push(await keyed.listTools(undefined, { cacheMode: 'bypass' }).catch((error: unknown) => error));
    expect(outcomes.some((outcome) => outcome instanceof Error && /429|Too many requests/i.test(outcome.message))).toBe(true);
    await keyed.close();
  });
});
