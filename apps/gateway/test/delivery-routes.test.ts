import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProgrammableUpstream, startProgrammableUpstream } from './support/programmable-upstream.ts';
import { TEST_PX_KEY } from './support/secrets.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

const event = (n: number) => ({ eventName: 'Signup', identifyId: `u-${n}`, propertyKey: 'AP-TEST-1' });
const json = (response: Response | Awaited<ReturnType<typeof undiciFetch>>): Promise<any> => response.json();
type ToolResult = { content: { type: string; text: string }[]; structuredContent?: Record<string, any>; isError?: boolean };

let upstream: ProgrammableUpstream;
let gateway: TestGateway;
/** The upstream rejects every event (400, dead at once) until it is told to accept. */
let accept = false;
const elsewhere = new Agent({ localAddress: '127.0.0.2' });
beforeAll(async () => {
  upstream = await startProgrammableUpstream(() => (accept ? { status: 201 } : { status: 400, body: '{"message":"bad"}' }));
  gateway = await startTestGateway({ GAINSIGHT_API_KEY: TEST_PX_KEY, GAINSIGHT_PX_BASE_URL: `${upstream.url}/v1` });
});
afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
  await elsewhere.close();
});

const post = (path: string, body: unknown) =>
  fetch(`${gateway.restUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const until = Date.now() + 20_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the declared delivery routes', () => {
  it('summary, the plugin filter, retry and discard by filter, each scoped to the caller; documented as served; tools for agents', async () => {
    const accepted = await json(await post('/v1/custom-events/batch', { events: [event(1), event(2), event(3)] }));
    const ids = accepted.results.map((result: { id: string }) => result.id) as string[];
    const summary = await waitFor(
      async () => json(await fetch(`${gateway.restUrl}/v1/deliveries/summary`)),
      (s) => s.byStatus?.dead === 3,
      'three dead deliveries',
    );
    expect(summary).toEqual({
      byStatus: { queued: 0, delivering: 0, delivered: 0, dead: 3 },
      byPlugin: { 'gainsight-px': { queued: 0, delivering: 0, delivered: 0, dead: 3 } },
      oldestQueuedAgeMs: null,
      deliveredLastMinute: 0,
      pausedPlugins: [],
    });
    const theirs = await json(await undiciFetch(`${gateway.restUrl}/v1/deliveries/summary`, { dispatcher: elsewhere }));
    expect(theirs.byStatus).toEqual({ queued: 0, delivering: 0, delivered: 0, dead: 0 });

    expect((await json(await fetch(`${gateway.restUrl}/v1/deliveries?plugin=gainsight-px&status=dead`))).items).toHaveLength(3);
    expect((await json(await fetch(`${gateway.restUrl}/v1/deliveries?plugin=another`))).items).toEqual([]);

    const empty = await post('/v1/deliveries/retry', {});
    expect(empty.status).toBe(400);
    expect(empty.headers.get('content-type')).toContain('application/problem+json');
    expect((await post('/v1/deliveries/discard', { ids: [] })).status).toBe(400);
    expect((await post('/v1/deliveries/retry', { before: 'yesterday' })).status).toBe(400);
    // Another address matches none of them.
    const foreign = await undiciFetch(`${gateway.restUrl}/v1/deliveries/retry`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'dead' }),
      dispatcher: elsewhere,
    });
    expect(await json(foreign)).toEqual({ matched: 0, retried: 0 });

    accept = true;
    expect(await json(await post('/v1/deliveries/retry', { ids: [ids[0]] }))).toEqual({ matched: 1, retried: 1 });
    await waitFor(
      async () => (await json(await fetch(`${gateway.restUrl}/v1/deliveries/${ids[0]}`))).status,
      (status) => status === 'delivered',
      'the retried delivery',
    );
    expect(upstream.recorded.map((request) => JSON.parse(request.body).identifyId)).toEqual(['u-1']);

    const client = new Client({ name: 'delivery-routes-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.mcpUrl)));
    try {
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      expect(names).toEqual(
        expect.arrayContaining([
          'gateway-deliveries-summary',
          'gateway-list-deliveries',
          'gateway-retry-deliveries',
          'gateway-discard-deliveries',
        ]),
      );
      const counted = (await client.callTool({ name: 'gateway-deliveries-summary', arguments: {} })) as ToolResult;
      expect(counted.structuredContent?.byStatus).toEqual({ queued: 0, delivering: 0, delivered: 1, dead: 2 });
      const refused = (await client.callTool({ name: 'gateway-discard-deliveries', arguments: { status: 'lost' } })) as ToolResult;
      expect(refused.isError).toBe(true);
      const discarded = (await client.callTool({ name: 'gateway-discard-deliveries', arguments: { status: 'dead' } })) as ToolResult;
      expect(discarded.structuredContent).toEqual({ matched: 2, discarded: 2 });
    } finally {
      await client.close();
    }
    expect((await json(await fetch(`${gateway.restUrl}/v1/deliveries?status=dead`))).items).toEqual([]);

    const doc = await json(await fetch(`${gateway.restUrl}/openapi.json`));
    expect(Object.keys(doc.paths['/v1/deliveries/summary'])).toEqual(['get']);
    expect(Object.keys(doc.paths['/v1/deliveries/retry'])).toEqual(['post']);
    expect(Object.keys(doc.paths['/v1/deliveries/discard'])).toEqual(['post']);
    expect(doc.paths['/v1/deliveries'].get.parameters.map((p: { name?: string }) => p.name)).toContain('plugin');
    const { Ajv2020 } = await import('ajv/dist/2020.js');
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    for (const [name, schema] of Object.entries(doc.components.schemas)) ajv.addSchema(schema as object, `#/components/schemas/${name}`);
    const summarySchema = ajv.getSchema('#/components/schemas/DeliveriesSummary');
    expect(summarySchema?.(await json(await fetch(`${gateway.restUrl}/v1/deliveries/summary`)))).toBe(true);
    const retryBody = doc.paths['/v1/deliveries/retry'].post.requestBody.content['application/json'].schema;
    expect(retryBody.properties.ids.maxItems).toBe(1000);
  });
});
