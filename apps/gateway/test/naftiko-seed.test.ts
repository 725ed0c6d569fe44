import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CapabilityGateway, connectMcp, json, seedFile, startCapabilityGateway } from './fixtures/capability-gateway.ts';
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';
import { TEST_PX_KEY } from './support/secrets.ts';

const EVENT = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1', attributes: { plan: 'pro', nested: { a: 1 } } };

/** The seed, verbatim, with its baseUri pointed at a loopback capture server. */
describe('the seed capability (px-custom-events.yaml) served by the gateway', () => {
  let upstream: CaptureServer;
  let gateway: CapabilityGateway;
  let mcp: Client;
  const printed: string[] = [];

  beforeAll(async () => {
    upstream = await startCaptureServer({ status: 201, body: '{"id":"evt-1","status":"accepted"}' });
    gateway = await startCapabilityGateway([seedFile()], {
      GAINSIGHT_API_KEY: TEST_PX_KEY,
      CAPABILITY_BASE_URI_PX_CUSTOM_EVENTS: `${upstream.url}/v1`,
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
    expect([...(gateway?.logs ?? []), ...printed].join('\n')).not.toContain(TEST_PX_KEY);
  });

  const post = async (body: unknown) => {
    const response = await fetch(`${gateway.restUrl}/v1/custom-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    printed.push(text);
    return { response, body: json(text) };
  };

  it('serves only the capability: the built-in PX plugin (same tool name and route) is not loaded', () => {
    expect(gateway.plugins.map((p) => p.descriptor.id)).toEqual(['px-custom-events']);
    expect(gateway.plugins[0]?.mode).toBe('live');
  });

  it('REST POST /v1/custom-events sends POST /v1/custom_events upstream with the key header and the JSON body as sent', async () => {
    const { response, body } = await post(EVENT);
    expect(response.status).toBe(201);
    expect(body).toEqual({ id: 'evt-1', status: 'accepted' });
    expect(upstream.requests).toHaveLength(1);
    const [received] = upstream.requests;
    expect(received?.method).toBe('POST');
    expect(received?.url).toBe('/v1/custom_events');
    expect(received?.headers['x-aptrinsic-api-key']).toBe(TEST_PX_KEY);
    expect(received?.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(received?.body ?? '')).toEqual(EVENT);
  });

  it('passes the upstream status and JSON body through on REST', async () => {
    upstream.reply({ status: 422, body: '{"externalapierror":{"status":"UNPROCESSABLE_ENTITY","message":"eventName is missing"}}' });
    const { response, body } = await post({ identifyId: 'u-1' });
    expect(response.status).toBe(422);
    expect(body).toEqual({ externalapierror: { status: 'UNPROCESSABLE_ENTITY', message: 'eventName is missing' } });
    upstream.reply({ status: 204 });
    const empty = await post(EVENT);
    expect(empty.response.status).toBe(204);
    expect(empty.body).toBeUndefined();
  });

  it('rejects a body that is not an object with 400 and calls nothing upstream', async () => {
    const { response, body } = await post(['not', 'an', 'object']);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(JSON.stringify(body)).toMatch(/body/);
    expect(upstream.requests).toHaveLength(0);
  });

  it('lists the MCP tool with its hints as annotations and a required body object argument', async () => {
    const { tools } = await mcp.listTools();
    expect(tools.map((t) => t.name)).toEqual(['gainsight-send-custom-event']);
    const [tool] = tools;
    expect(tool?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true });
    expect(tool?.inputSchema).toMatchObject({ type: 'object', properties: { body: { type: 'object' } }, required: ['body'] });
  });

  it('the MCP tool makes the same upstream call and returns the upstream status and body', async () => {
    const result = await mcp.callTool({ name: 'gainsight-send-custom-event', arguments: { body: EVENT } });
    printed.push(JSON.stringify(result));
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status: 201, body: { id: 'evt-1', status: 'accepted' } });
    expect(upstream.requests).toHaveLength(1);
    const [received] = upstream.requests;
    expect(`${received?.method} ${received?.url}`).toBe('POST /v1/custom_events');
    expect(received?.headers['x-aptrinsic-api-key']).toBe(TEST_PX_KEY);
    expect(JSON.parse(received?.body ?? '')).toEqual(EVENT);
  });

  it('an MCP result is an error when the upstream status is 400 or more', async () => {
    upstream.reply({ status: 400, body: '{"message":"propertyKey is unknown"}' });
    const result = await mcp.callTool({ name: 'gainsight-send-custom-event', arguments: { body: EVENT } });
    const text = JSON.stringify(result);
    printed.push(text);
    expect(result.isError).toBe(true);
    expect(text).toMatch(/400/);
    expect(text).toMatch(/propertyKey is unknown/);
    expect(upstream.requests).toHaveLength(1);
  });
});
