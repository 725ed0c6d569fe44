import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProgrammableUpstream, startProgrammableUpstream } from './support/programmable-upstream.ts';
import { TEST_PX_KEY } from './support/secrets.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

/** Below the 64 KB item cap, so the body limit is the item limit too: each number below comes from this one setting. */
const BODY_LIMIT = 40_000;
const event = (n: number, extra: Record<string, unknown> = {}) => ({
  eventName: 'Signup',
  identifyId: `u-${n}`,
  propertyKey: 'AP-TEST-1',
  ...extra,
});
const bodyOf = (response: Response): Promise<any> => response.json();
type ToolResult = { content: { type: string; text: string }[]; structuredContent?: Record<string, any>; isError?: boolean };

let upstream: ProgrammableUpstream;
let gateway: TestGateway;
let client: Client;
beforeAll(async () => {
  upstream = await startProgrammableUpstream();
  gateway = await startTestGateway({
    GAINSIGHT_API_KEY: TEST_PX_KEY,
    GAINSIGHT_PX_BASE_URL: `${upstream.url}/v1`,
    BODY_LIMIT: String(BODY_LIMIT),
  });
  client = new Client({ name: 'batch-declared-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gateway.mcpUrl)));
});
afterAll(async () => {
  await client?.close();
  await gateway?.close();
  await upstream?.close();
});

const postBatch = (body: string, contentType = 'application/json', headers: Record<string, string> = {}) =>
  fetch(`${gateway.restUrl}/v1/custom-events/batch`, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });

describe('the batch is one declaration: its REST route, OpenAPI entry and MCP tool agree', () => {
  it('shows the same envelope and item schema on both surfaces, each door with the item limit the descriptor gives it', async () => {
    const doc = await bodyOf(await fetch(`${gateway.restUrl}/openapi.json`));
    const entry = doc.paths['/v1/custom-events/batch'].post;
    const { tools } = await client.listTools();
    const batchTool = tools.find((tool) => tool.name === 'gainsight-send-custom-events');
    const singleTool = tools.find((tool) => tool.name === 'gainsight-send-custom-event');

    const restBody = entry.requestBody.content['application/json'].schema;
    const { idempotencyKey, ...toolArguments } = (batchTool?.inputSchema.properties ?? {}) as Record<string, any>;
    expect(idempotencyKey).toBeDefined();
    expect(entry.parameters).toContainEqual({ $ref: '#/components/parameters/IdempotencyKey' });
    // One envelope: `events`, required, nothing beside it; REST takes the descriptor's 1000, MCP its `mcp.maxItems` 100.
    expect(Object.keys(toolArguments)).toEqual(Object.keys(restBody.properties));
    expect(batchTool?.inputSchema.required).toEqual(restBody.required);
    expect(batchTool?.inputSchema.additionalProperties).toBe(restBody.additionalProperties);
    expect({ ...restBody.properties.events, items: undefined }).toEqual({ ...toolArguments.events, maxItems: 1000, items: undefined });
    expect(toolArguments.events.maxItems).toBe(100);
    // Each item is the single operation's body: the document's component is the single tool's `body` less its examples.
    const item = doc.components.schemas[restBody.properties.events.items.$ref.split('/').pop()];
    const withoutExamples = JSON.parse(JSON.stringify(item, (key, value) => (key === 'examples' ? undefined : value)));
    expect(singleTool?.inputSchema.properties?.body).toEqual(withoutExamples);
    expect(toolArguments.events.items.description).toContain('gainsight-send-custom-event');
    expect(entry.description).toContain('Also an MCP tool: `gainsight-send-custom-events`.');
    expect(Object.keys(entry.requestBody.content)).toEqual(['application/json', 'application/x-ndjson']);
    expect(entry.tags).toEqual(['Gainsight PX', 'Deliveries']);
    expect(entry.responses['202'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/BatchAccepted' });

    // The refusals the document states are the ones each door gives.
    const many = await postBatch(JSON.stringify({ events: Array.from({ length: 101 }, (_, n) => event(n)) }), 'application/json');
    expect(many.status).toBe(202);
    const tooManyForMcp = (await client.callTool({
      name: 'gainsight-send-custom-events',
      arguments: { events: Array.from({ length: 101 }, (_, n) => event(n)) },
    })) as ToolResult;
    expect(tooManyForMcp.isError).toBe(true);
    expect(tooManyForMcp.content[0]?.text).toContain('events: must hold 1 to 100 items (got 101)');
  });

  it('quotes in OpenAPI the limits the REST reader enforces, all from BODY_LIMIT and the descriptor', async () => {
    const doc = await bodyOf(await fetch(`${gateway.restUrl}/openapi.json`));
    const entry = doc.paths['/v1/custom-events/batch'].post;
    expect(entry.responses['400'].description).toContain('with 1 to 1000 items');
    expect(entry.responses['413'].description).toContain(`one item is larger than ${BODY_LIMIT} bytes`);
    expect(entry.description).toContain(`1000 items, ${BODY_LIMIT} bytes per item`);

    const lines = '{}\n'.repeat(1001);
    const tooMany = await postBatch(lines, 'application/x-ndjson');
    expect(tooMany.status).toBe(400);
    expect((await bodyOf(tooMany)).detail).toContain('at most 1000 are accepted');

    const big = JSON.stringify(event(1, { properties: { note: 'x'.repeat(BODY_LIMIT) } }));
    const tooBig = await postBatch(`${JSON.stringify(event(0))}\n${big}\n`, 'application/x-ndjson');
    expect(tooBig.status).toBe(413);
    expect((await bodyOf(tooBig)).detail).toContain(String(BODY_LIMIT));

    const text = await postBatch('hello', 'text/plain');
    expect(text.status).toBe(415);
    expect((await bodyOf(text)).detail).toContain('application/x-ndjson');
  });

  it('validates each item on its own on both doors, pointing where the item is in what was sent', async () => {
    const bad = { eventName: 'Signup', propertyKey: 'AP-TEST-1' };
    const json = await bodyOf(await postBatch(JSON.stringify({ events: [bad] })));
    expect(json.errors).toEqual([{ pointer: '/events/0/identifyId', detail: expect.any(String) }]);
    const ndjson = await bodyOf(await postBatch(`${JSON.stringify(event(1))}\n${JSON.stringify(bad)}\n`, 'application/x-ndjson'));
    expect(ndjson).toMatchObject({ accepted: 1, rejected: 1, results: [{ index: 0 }, { index: 1, errors: [{ pointer: '/identifyId' }] }] });
    const onlyBad = await bodyOf(await postBatch(`${JSON.stringify(bad)}\n`, 'application/x-ndjson'));
    expect(onlyBad.errors).toEqual([{ pointer: '/0/identifyId', detail: expect.any(String) }]);
    const tool = (await client.callTool({ name: 'gainsight-send-custom-events', arguments: { events: [bad] } })) as ToolResult;
    expect(tool.isError).toBe(true);
    expect(tool.content[0]?.text).toContain('events[0].identifyId');
    const extra = await postBatch(JSON.stringify({ events: [event(1)], more: 1 }));
    expect(extra.status).toBe(400);
  });

  it('takes an idempotency key on both doors: a repeat answers the first result and queues nothing twice', async () => {
    const key = `batch-declared-${Date.now()}`;
    const body = JSON.stringify({ events: [event(7)] });
    const first = await postBatch(body, 'application/json', { 'idempotency-key': key });
    const again = await postBatch(body, 'application/json', { 'idempotency-key': key });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await bodyOf(again)).toEqual(await bodyOf(first));

    const args = { events: [event(8)], idempotencyKey: `${key}-mcp` };
    const tool = (await client.callTool({ name: 'gainsight-send-custom-events', arguments: args })) as ToolResult;
    const repeat = (await client.callTool({ name: 'gainsight-send-custom-events', arguments: args })) as ToolResult;
    expect(tool.structuredContent).toMatchObject({ status: 202, body: { accepted: 1 } });
    expect(repeat.structuredContent).toEqual({ ...tool.structuredContent, replayed: true });
  });
});

describe('gateway-get-delivery is the getDelivery declaration as a tool', () => {
  it('answers what GET /v1/deliveries/{id} answers, and refuses what it refuses', async () => {
    const accepted = await bodyOf(await postBatch(JSON.stringify({ events: [event(20)] })));
    const id = accepted.results[0].id as string;
    const rest = await bodyOf(await fetch(`${gateway.restUrl}/v1/deliveries/${id}`));
    const tool = (await client.callTool({ name: 'gateway-get-delivery', arguments: { id } })) as ToolResult;
    const fixed = ({ id, operation, plugin, createdAt, summary }: Record<string, unknown>) => ({
      id,
      operation,
      plugin,
      createdAt,
      summary,
    });
    expect(fixed(tool.structuredContent ?? {})).toEqual(fixed(rest));
    expect(Object.keys(tool.structuredContent ?? {})).toEqual(expect.arrayContaining(Object.keys(rest)));
    const missing = (await client.callTool({ name: 'gateway-get-delivery', arguments: { id: 'nope' } })) as ToolResult;
    expect(missing.isError).toBe(true);
    expect(missing.content[0]?.text).toContain('No delivery "nope" for this client');
    const invalid = (await client.callTool({ name: 'gateway-get-delivery', arguments: {} })) as ToolResult;
    expect(invalid.isError).toBe(true);
    expect(invalid.content[0]?.text).toContain('id: is required');
    const doc = await bodyOf(await fetch(`${gateway.restUrl}/openapi.json`));
    expect(doc.paths['/v1/deliveries/{id}'].get.description).toContain('Also an MCP tool: `gateway-get-delivery`.');
  });
});
