import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProgrammableUpstream, startProgrammableUpstream } from './support/programmable-upstream.ts';
import { TEST_PX_KEY } from './support/secrets.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

type ToolResult = { content: { type: string; text: string }[]; structuredContent?: Record<string, any>; isError?: boolean };

let upstream: ProgrammableUpstream;
let gateway: TestGateway;
beforeAll(async () => {
  upstream = await startProgrammableUpstream();
  gateway = await startTestGateway({ GAINSIGHT_API_KEY: TEST_PX_KEY, GAINSIGHT_PX_BASE_URL: `${upstream.url}/v1`, DELIVERY_MODE: 'queue' });
});
afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

describe('one dispatch for every door', () => {
  it('DELIVERY_MODE=queue: the MCP single-event tool queues (202 and a delivery id) as REST does, and the event is delivered', async () => {
    const client = new Client({ name: 'dispatch-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.mcpUrl)));
    const result = (await client.callTool({
      name: 'gainsight-send-custom-event',
      arguments: { body: { eventName: 'Queued', identifyId: 'u-mcp', propertyKey: 'AP-TEST-1' } },
    })) as ToolResult;
    await client.close();
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status: 202, body: { id: expect.any(String), status: 'queued' } });
    const id = result.structuredContent?.body.id as string;

    const rest = await fetch(`${gateway.restUrl}/v1/custom-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ eventName: 'Queued', identifyId: 'u-rest', propertyKey: 'AP-TEST-1' }),
    });
    expect(rest.status).toBe(202);

    const until = Date.now() + 20_000;
    let delivery: { status?: string } = {};
    while (delivery.status !== 'delivered' && Date.now() < until) {
      delivery = (await (await fetch(`${gateway.restUrl}/v1/deliveries/${id}`)).json()) as { status?: string };
      if (delivery.status !== 'delivered') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(delivery.status).toBe('delivered');
    const sent = upstream.recorded.map((request) => JSON.parse(request.body) as { identifyId: string; date?: number });
    // Queued shaping: an undated event is dated at acceptance.
    expect(sent.find((event) => event.identifyId === 'u-mcp')?.date).toEqual(expect.any(Number));
  });
});
