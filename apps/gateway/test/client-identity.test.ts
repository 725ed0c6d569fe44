import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProgrammableUpstream, startProgrammableUpstream } from './support/programmable-upstream.ts';
import { TEST_PX_KEY } from './support/secrets.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

const event = (n: number) => ({ eventName: 'Signup', identifyId: `u-${n}`, propertyKey: 'AP-TEST-1' });
type ToolResult = { content: { type: string; text: string }[]; structuredContent?: Record<string, any>; isError?: boolean };

/** A caller whose connections leave from `address` (any 127.x.y.z reaches the gateway on 127.0.0.1). */
function callerFrom(address: string) {
  const dispatcher = new Agent({ localAddress: address });
  const fetchFrom = ((url: string | URL, init?: RequestInit) =>
    undiciFetch(url, { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1])) as unknown as typeof fetch;
  return {
    fetch: fetchFrom,
    async mcp(url: string): Promise<Client> {
      const client = new Client({ name: `caller-${address}`, version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: fetchFrom }));
      return client;
    },
    close: () => dispatcher.close(),
  };
}

let upstream: ProgrammableUpstream;
let gateway: TestGateway;
const first = callerFrom('127.0.0.1');
const second = callerFrom('127.0.0.2');
beforeAll(async () => {
  // Deliveries stay queued (the upstream answers 503), so each can be read back while it waits.
  upstream = await startProgrammableUpstream(() => ({ status: 503 }));
  gateway = await startTestGateway({
    GAINSIGHT_API_KEY: TEST_PX_KEY,
    GAINSIGHT_PX_BASE_URL: `${upstream.url}/v1`,
    DELIVERY_RETRY_BASE_MS: '60000',
  });
});
afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
  await first.close();
  await second.close();
});

describe('one client identity on every door (no inbound keys: the address)', () => {
  it('an MCP caller cannot see another address’s deliveries, and sees its own MCP deliveries over REST', async () => {
    const mine = await first.mcp(gateway.mcpUrl);
    const theirs = await second.mcp(gateway.mcpUrl);
    const queued = (await mine.callTool({ name: 'gainsight-send-custom-events', arguments: { events: [event(1)] } })) as ToolResult;
    expect(queued.isError).toBeFalsy();
    const id = queued.structuredContent?.body.results[0].id as string;
    expect(id).toEqual(expect.any(String));

    const own = (await mine.callTool({ name: 'gateway-get-delivery', arguments: { id } })) as ToolResult;
    expect(own.isError).toBeFalsy();
    expect(own.structuredContent).toMatchObject({ id });
    const other = (await theirs.callTool({ name: 'gateway-get-delivery', arguments: { id } })) as ToolResult;
    expect(other.isError).toBe(true);

    const overRest = await first.fetch(`${gateway.restUrl}/v1/deliveries/${id}`);
    expect(overRest.status).toBe(200);
    expect(((await overRest.json()) as { id: string }).id).toBe(id);
    expect((await second.fetch(`${gateway.restUrl}/v1/deliveries/${id}`)).status).toBe(404);
    const listed = (await (await first.fetch(`${gateway.restUrl}/v1/deliveries`)).json()) as { items: { id: string }[] };
    expect(listed.items.map((item) => item.id)).toContain(id);
    await mine.close();
    await theirs.close();
  });

  it('an idempotency key of one address is not another’s: the same key and body from elsewhere queues anew', async () => {
    const mine = await first.mcp(gateway.mcpUrl);
    const theirs = await second.mcp(gateway.mcpUrl);
    const args = { events: [event(2)], idempotencyKey: 'shared-key-1' };
    const a = (await mine.callTool({ name: 'gainsight-send-custom-events', arguments: args })) as ToolResult;
    const b = (await theirs.callTool({ name: 'gainsight-send-custom-events', arguments: args })) as ToolResult;
    expect(a.isError).toBeFalsy();
    expect(b.isError).toBeFalsy();
    expect(b.structuredContent?.replayed).toBeUndefined();
    expect(b.structuredContent?.body.results[0].id).not.toBe(a.structuredContent?.body.results[0].id);
    await mine.close();
    await theirs.close();
  });
});
