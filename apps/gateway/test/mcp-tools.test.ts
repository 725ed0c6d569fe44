import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import gatewayPackage from '../package.json' with { type: 'json' };
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';
import { liveEnvironment, startTestGateway, TEST_PX_KEY, type TestGateway } from './support/test-gateway.ts';
import { ACCOUNT_TOOLS, USER_TOOLS } from '@gateway/plugin-gainsight-px';

/** The PX users and accounts tools, in the plugin's order. */
const PX_RECORD_TOOLS = [...Object.values(USER_TOOLS), ...Object.values(ACCOUNT_TOOLS)];

const TOOL = 'gainsight-send-custom-event';
const EVENT = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' };

const MODES = [
  { mode: 'stateless', environment: {} },
  { mode: 'sessions', environment: { MCP_SESSIONS: 'true' } },
] as const;

interface Connected {
  readonly client: Client;
  readonly transport: StreamableHTTPClientTransport;
}

async function connect(url: string): Promise<Connected> {
  const client = new Client({ name: 'mcp-tools-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  return { client, transport };
}

type TextResult = { content: { type: string; text: string }[]; structuredContent?: Record<string, unknown>; isError?: boolean };

describe.each(MODES)('MCP tools in $mode mode, live against a loopback upstream', ({ mode, environment }) => {
  let upstream: CaptureServer;
  let gateway: TestGateway;
  let agent: Connected;
  /** Everything the agent received, scanned for the PX key at the end. */
  const received: string[] = [];

  const call = async (args: unknown): Promise<TextResult> => {
    const result = (await agent.client.callTool({ name: TOOL, arguments: args as Record<string, unknown> })) as TextResult;
    received.push(JSON.stringify(result));
    return result;
  };
  const text = (result: TextResult) => result.content.map((c) => c.text).join('\n');

  beforeAll(async () => {
    upstream = await startCaptureServer();
    gateway = await startTestGateway(liveEnvironment(upstream.url, { UPSTREAM_TIMEOUT_MS: '300', UPSTREAM_RETRIES: '0', ...environment }));
    agent = await connect(gateway.mcpUrl);
  });
  afterEach(() => {
    upstream.requests.length = 0;
  });
  afterAll(async () => {
    await agent.client.close();
    await gateway.close();
    await upstream.close();
    expect(received.length).toBeGreaterThan(0);
    expect(received.join('\n')).not.toContain(TEST_PX_KEY);
    expect(gateway.logs.join('\n')).not.toContain(TEST_PX_KEY);
  });

  it(`${mode}: ${mode === 'sessions' ? 'gets' : 'gets no'} session id, and the server names the gateway`, () => {
    if (mode === 'sessions') expect(agent.transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    else expect(agent.transport.sessionId).toBeUndefined();
    expect(agent.client.getServerVersion()).toMatchObject({ name: 'integration-gateway', version: gatewayPackage.version });
    expect(agent.client.getServerCapabilities()?.tools).toBeDefined();
    const instructions = agent.client.getInstructions() ?? '';
    expect(instructions).toContain(gateway.plugins[0]?.descriptor.description);
    expect(instructions).toContain(TOOL);
    expect(instructions).not.toContain('SANDBOX');
  });

  it('does not repeat the server instructions in the tool description', async () => {
    const instructions = (agent.client.getInstructions() ?? '').split('\n');
    const { tools } = await agent.client.listTools();
    const description = tools.find((t) => t.name === TOOL)?.description ?? '';
    for (const paragraph of description.split('\n\n')) expect(instructions, paragraph).not.toContain(paragraph);
  });

  it('lists the tool with the REST input schema, an output schema, annotations and guidance', async () => {
    const { tools } = await agent.client.listTools();
    received.push(JSON.stringify(tools));
    expect(tools.map((t) => t.name)).toEqual([
      TOOL,
      'gainsight-send-custom-events',
      ...PX_RECORD_TOOLS,
      'gateway-get-delivery',
      'gateway-deliveries-summary',
      'gateway-list-deliveries',
      'gateway-retry-deliveries',
      'gateway-discard-deliveries',
    ]);
    const [tool] = tools;
    const operation = gateway.plugins[0]?.descriptor.operations.find((o) => o.mcp && o.mcp.tool === TOOL);
    expect(operation).toBeDefined();
    // The very schema object REST validates with, as JSON.
    const { idempotencyKey, ...restInput } = (tool?.inputSchema.properties ?? {}) as Record<string, unknown>;
    expect({ ...tool?.inputSchema, properties: restInput }).toEqual(JSON.parse(JSON.stringify(operation?.input)));
    expect(idempotencyKey).toMatchObject({ type: 'string', maxLength: 255 });
    expect(tool?.inputSchema.required).toEqual(['body']);
    expect(tool?.title).toBe('Send a Gainsight PX custom event');
    expect(tool?.description).toContain('eventName (required)');
    expect(tool?.description).toContain('isError');
    expect(tool?.annotations).toEqual({
      title: 'Send a Gainsight PX custom event',
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: false,
      openWorldHint: true,
    });
    expect(tool?.outputSchema).toMatchObject({
      type: 'object',
      required: ['status', 'requestId'],
      properties: { status: { type: 'integer' }, requestId: { type: 'string' } },
    });
    expect(Object.keys(tool?.outputSchema?.properties ?? {}).sort()).toEqual(['body', 'replayed', 'requestId', 'status']);
  });

  it('sends one event upstream with the key and the shaped body, and answers structured content plus a JSON copy', async () => {
    const result = await call({ body: { ...EVENT, date: '2026-11-26T10:00:00Z', attributes: { plan: 'pro', nested: { a: 1 } } } });
    expect(result.isError).toBeFalsy();
    expect(upstream.requests).toHaveLength(1);
    const [request] = upstream.requests;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/v1/events/custom');
    expect(request?.headers['x-aptrinsic-api-key']).toBe(TEST_PX_KEY);
    expect(JSON.parse(request?.body ?? '')).toEqual({
      ...EVENT,
      userType: 'USER',
      date: Date.parse('2026-11-26T10:00:00Z'),
      attributes: { plan: 'pro', nested: '{"a":1}' },
    });
    expect(result.structuredContent).toEqual({ status: 201, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(request?.headers['x-request-id']).toBe(result.structuredContent?.requestId);
    expect(result.content).toHaveLength(1);
    expect(JSON.parse(result.content[0]?.text ?? '')).toEqual(result.structuredContent);
  });

  it('carries the upstream body when there is one', async () => {
    upstream.reply({ status: 201, body: '{"id":"evt-1"}' });
    const result = await call({ body: EVENT });
    expect(result.structuredContent).toMatchObject({ status: 201, body: { id: 'evt-1' } });
  });

  it('answers invalid arguments with isError naming each field and problem, without calling upstream', async () => {
    const result = await call({ body: { eventName: '', identifyId: 7, userType: 'ROBOT', extra: true } });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toBeUndefined();
    const message = text(result);
    expect(message).toContain('body.eventName: must NOT have fewer than 1 characters');
    expect(message).toContain('body.identifyId: must be string');
    expect(message).toContain('body.userType: must be one of "USER", "LEAD", "VISITOR", "EMPTY_USER_TYPE"');
    expect(message).toContain('body.extra: is not a known field');
    expect(message).toContain('body.propertyKey: is required');
    expect(message).not.toContain('/body/');
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers missing arguments with isError naming body', async () => {
    const result = await call(undefined);
    expect(result.isError).toBe(true);
    expect(text(result)).toContain('body: is required');
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers an upstream 400 with isError carrying the upstream status and message', async () => {
    upstream.reply({
      status: 400,
      body: JSON.stringify({
        externalapierror: {
          status: 'BAD_REQUEST',
          message: 'Validation error',
          debugMessage: null,
          subErrors: [{ field: 'propertyKey', message: 'unknown product' }],
        },
      }),
    });
    const result = await call({ body: EVENT });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain('answered 400: Validation error: propertyKey unknown product');
    expect(text(result)).toContain('upstream status 400');
    expect(upstream.requests).toHaveLength(1);
  });

  it('answers an upstream 500 with isError carrying the upstream status and message', async () => {
    upstream.reply({ status: 500, body: '{"message":"database on fire"}' });
    const result = await call({ body: EVENT });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain('answered 500: database on fire');
    expect(text(result)).toContain('upstream status 500');
    expect(upstream.requests).toHaveLength(1);
  });

  it('answers an upstream that never answers with isError about the timeout', async () => {
    upstream.reply({ hang: true });
    const result = await call({ body: EVENT });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain('did not answer within 300 ms');
    expect(upstream.requests).toHaveLength(1);
  });

  it('never shows the key, even when the upstream echoes it', async () => {
    upstream.reply({ status: 403, body: `<html><title>Forbidden ${TEST_PX_KEY}</title></html>`, headers: { 'content-type': 'text/html' } });
    const result = await call({ body: EVENT });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain('GAINSIGHT_API_KEY');
    expect(text(result)).toContain('upstream status 403');
    expect(JSON.stringify(result)).not.toContain(TEST_PX_KEY);
  });

  it('answers an unknown tool with a JSON-RPC invalid-params error and calls nothing', async () => {
    const failure = await agent.client.callTool({ name: 'no-such-tool', arguments: {} }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(McpError);
    expect((failure as McpError).code).toBe(ErrorCode.InvalidParams);
    expect((failure as McpError).message).toContain(`Unknown tool "no-such-tool"`);
    // The SDK client prefixes "MCP error -32602: " once; the server's message must not carry it already.
    expect((failure as McpError).message.match(/MCP error/g)).toHaveLength(1);
    expect((failure as McpError).message).toContain(TOOL);
    expect(upstream.requests).toHaveLength(0);
  });
});

describe.each(MODES)('MCP tools in $mode mode, sandbox (no GAINSIGHT_API_KEY)', ({ environment }) => {
  let gateway: TestGateway;
  let agent: Connected;

  beforeAll(async () => {
    gateway = await startTestGateway(environment);
    agent = await connect(gateway.mcpUrl);
  });
  afterAll(async () => {
    await agent.client.close();
    await gateway.close();
  });

  it('says so in the instructions, and the event reaches the sandbox', async () => {
    expect(agent.client.getInstructions()).toContain('SANDBOX');
    const event = { ...EVENT, eventName: 'Sandbox Signup', userType: 'LEAD' };
    const result = (await agent.client.callTool({ name: TOOL, arguments: { body: event } })) as TextResult;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status: 201 });
    const response = await fetch(`${gateway.restUrl}/sandbox/v1/events/custom`);
    expect(response.status).toBe(200);
    const stored = (await response.json()) as { customEvents: Record<string, unknown>[] };
    expect(stored.customEvents).toHaveLength(1);
    expect(stored.customEvents[0]).toMatchObject(event);
  });
});
