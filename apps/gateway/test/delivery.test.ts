import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { type ProgrammableUpstream, startProgrammableUpstream, type UpstreamReply } from './support/programmable-upstream.ts';
import { TEST_CLIENT_KEY, TEST_OTHER_CLIENT_KEY, TEST_PX_KEY } from './support/secrets.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

const event = (n: number, extra: Record<string, unknown> = {}) => ({
  eventName: 'Signup',
  identifyId: `u-${n}`,
  propertyKey: 'AP-TEST-1',
  ...extra,
});
/** A JSON answer body, typed loosely: each test asserts its shape. */
const json = (response: Response): Promise<any> => response.json();
const JSON_HEADERS = { 'content-type': 'application/json' };
const ASYNC_HEADERS = { ...JSON_HEADERS, prefer: 'respond-async' };

let gateway: TestGateway | undefined;
let upstream: ProgrammableUpstream | undefined;
afterEach(async () => {
  await gateway?.close();
  await upstream?.close();
  gateway = undefined;
  upstream = undefined;
});

async function start(environment: Record<string, string> = {}, decide?: (request: { body: string }, n: number) => UpstreamReply) {
  upstream = await startProgrammableUpstream(decide);
  gateway = await startTestGateway({
    GAINSIGHT_API_KEY: TEST_PX_KEY,
    GAINSIGHT_PX_BASE_URL: `${upstream.url}/v1`,
    DELIVERY_RETRY_BASE_MS: '50',
    DELIVERY_RETRY_MAX_MS: '200',
    ...environment,
  });
  return { gateway, upstream };
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const deliveryOf = async (id: string, headers: Record<string, string> = {}) =>
  json(await fetch(`${gateway?.restUrl}/v1/deliveries/${id}`, { headers }));

describe('queued delivery over REST', () => {
  it('answers 202 with Location and Preference-Applied for Prefer: respond-async, then delivers the shaped event with the PX key', async () => {
    const { gateway, upstream } = await start();
    const response = await fetch(`${gateway.restUrl}/v1/custom-events`, {
      method: 'POST',
      headers: ASYNC_HEADERS,
      body: JSON.stringify(event(1, { attributes: { plan: { tier: 'pro' } } })),
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('preference-applied')).toBe('respond-async');
    const body = (await json(response)) as { id: string; status: string };
    expect(body).toEqual({ id: expect.any(String), status: 'queued' });
    expect(response.headers.get('location')).toBe(`/v1/deliveries/${body.id}`);
    const delivered = await waitFor(
      () => deliveryOf(body.id),
      (d) => d.status === 'delivered',
      'delivery',
    );
    expect(delivered).toMatchObject({
      id: body.id,
      operation: 'gainsight-px.sendCustomEvent',
      attempts: 1,
      deliveredAt: expect.any(String),
    });
    expect(upstream.received).toHaveLength(1);
    const [sent] = upstream.received;
    expect(sent?.url).toBe('/v1/events/custom');
    expect(sent?.headers['x-aptrinsic-api-key']).toBe(TEST_PX_KEY);
    expect(JSON.parse(sent?.body ?? '{}')).toMatchObject({
      eventName: 'Signup',
      identifyId: 'u-1',
      userType: 'USER',
      attributes: { plan: '{"tier":"pro"}' },
    });
  });

  it('keeps the synchronous 201 without the preference, and queues by default with DELIVERY_MODE=queue (no Preference-Applied)', async () => {
    const { gateway, upstream } = await start();
    const sync = await fetch(`${gateway.restUrl}/v1/custom-events`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, prefer: 'return=minimal' },
      body: JSON.stringify(event(1)),
    });
    expect(sync.status).toBe(201);
    expect(upstream.received).toHaveLength(1);
    await gateway.close();
    const queued = await startTestGateway({
      GAINSIGHT_API_KEY: TEST_PX_KEY,
      GAINSIGHT_PX_BASE_URL: `${upstream.url}/v1`,
      DELIVERY_MODE: 'queue',
    });
    try {
      const response = await fetch(`${queued.restUrl}/v1/custom-events`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify(event(2)),
      });
      expect(response.status).toBe(202);
      expect(response.headers.get('preference-applied')).toBeNull();
      await waitFor(
        async () => upstream.received.length,
        (n) => n === 2,
        'the queued event',
      );
    } finally {
      await queued.close();
    }
  });

  it('validates before queueing: an invalid event is 400 with pointers and nothing is stored or sent', async () => {
    const { gateway, upstream } = await start();
    const response = await fetch(`${gateway.restUrl}/v1/custom-events`, {
      method: 'POST',
      headers: ASYNC_HEADERS,
      body: JSON.stringify({ eventName: 'x' }),
    });
    expect(response.status).toBe(400);
    const problem = await json(response);
    expect(problem.errors).toContainEqual({ pointer: '/identifyId', detail: expect.any(String) });
    const list = await json(await fetch(`${gateway.restUrl}/v1/deliveries`));
    expect(list.items).toEqual([]);
    expect(upstream.received).toHaveLength(0);
  });

  it('batch: valid events queued in one go, each invalid one reported by index; 400 when none is valid', async () => {
    const { gateway, upstream } = await start();
    const response = await fetch(`${gateway.restUrl}/v1/custom-events/batch`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ events: [event(1), { eventName: 'no user', propertyKey: 'AP-TEST-1' }, event(3)] }),
    });
    expect(response.status).toBe(202);
    const body = await json(response);
    expect(body).toMatchObject({ accepted: 2, rejected: 1 });
    expect(body.results[0]).toEqual({ index: 0, id: expect.any(String) });
    expect(body.results[1]).toEqual({ index: 1, errors: [{ pointer: '/identifyId', detail: expect.stringContaining('required') }] });
    await waitFor(
      async () => upstream.recorded.length,
      (n) => n === 2,
      'both valid events',
    );
    expect(upstream.recorded.map((r) => JSON.parse(r.body).identifyId).sort()).toEqual(['u-1', 'u-3']);

    const none = await fetch(`${gateway.restUrl}/v1/custom-events/batch`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ events: [{}, { eventName: 1 }] }),
    });
    expect(none.status).toBe(400);
    const problem = await json(none);
    expect(problem.type).toBe('urn:gateway:problem:invalid-input');
    expect(problem.errors.map((e: { pointer: string }) => e.pointer)).toEqual(
      expect.arrayContaining(['/events/0/eventName', '/events/1/eventName']),
    );

    for (const [body, pointer] of [
      [{ events: [] }, '/events'],
      [{ events: Array.from({ length: 1001 }, (_, i) => event(i)) }, '/events'],
      [{ event: [event(1)] }, '/events'],
      [[event(1)], '/events'],
    ] as const) {
      const bad = await fetch(`${gateway.restUrl}/v1/custom-events/batch`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify(body),
      });
      expect(bad.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect((await json(bad)).errors[0].pointer).toBe(pointer);
    }
    const text = await fetch(`${gateway.restUrl}/v1/custom-events/batch`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(text.status).toBe(415);
    expect(upstream.received).toHaveLength(2);
  });

  it('batch as NDJSON: one event per line, a line that is not JSON rejected on its own', async () => {
    const { gateway, upstream } = await start();
    const lines = [JSON.stringify(event(1)), '{not json', '', JSON.stringify(event(2))].join('\n');
    const response = await fetch(`${gateway.restUrl}/v1/custom-events/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: lines,
    });
    expect(response.status).toBe(202);
    const body = await json(response);
    expect(body).toMatchObject({ accepted: 2, rejected: 1 });
    expect(body.results[1]).toEqual({ index: 1, errors: [{ pointer: '', detail: 'this line is not valid JSON' }] });
    await waitFor(
      async () => upstream.recorded.length,
      (n) => n === 2,
      'the NDJSON events',
    );
  });

  it('Idempotency-Key on the async and batch routes returns the first answer and queues nothing twice', async () => {
    const { gateway, upstream } = await start();
    const send = (path: string, body: unknown, headers: Record<string, string>) =>
      fetch(`${gateway.restUrl}${path}`, { method: 'POST', headers: { ...headers, 'idempotency-key': 'k-1' }, body: JSON.stringify(body) });
    const first = await send('/v1/custom-events', event(1), ASYNC_HEADERS);
    const again = await send('/v1/custom-events', event(1), ASYNC_HEADERS);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await json(again)).id).toBe((await json(first)).id);
    const other = await send('/v1/custom-events', event(9), ASYNC_HEADERS);
    expect(other.status).toBe(422);

    const batch = { events: [event(2), event(3)] };
    const b1 = await json(await send('/v1/custom-events/batch', batch, JSON_HEADERS));
    const b2 = await send('/v1/custom-events/batch', batch, JSON_HEADERS);
    expect(b2.headers.get('idempotent-replayed')).toBe('true');
    expect((await json(b2)).results).toEqual(b1.results);
    await waitFor(
      async () => upstream.recorded.length,
      (n) => n >= 3,
      'three events',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(upstream.recorded.map((r) => JSON.parse(r.body).identifyId).sort()).toEqual(['u-1', 'u-2', 'u-3']);
  });

  it('a client sees and acts on its own deliveries only; others get 404', async () => {
    const { gateway } = await start({ GATEWAY_API_KEYS: `${TEST_CLIENT_KEY},${TEST_OTHER_CLIENT_KEY}` });
    const mine = { 'x-api-key': TEST_CLIENT_KEY };
    const theirs = { 'x-api-key': TEST_OTHER_CLIENT_KEY };
    const accepted = await fetch(`${gateway.restUrl}/v1/custom-events`, {
      method: 'POST',
      headers: { ...ASYNC_HEADERS, ...mine },
      body: JSON.stringify(event(1)),
    });
    const { id } = await json(accepted);
    expect((await fetch(`${gateway.restUrl}/v1/deliveries/${id}`, { headers: mine })).status).toBe(200);
    expect((await fetch(`${gateway.restUrl}/v1/deliveries/${id}`, { headers: theirs })).status).toBe(404);
    expect((await fetch(`${gateway.restUrl}/v1/deliveries/${id}`, { method: 'DELETE', headers: theirs })).status).toBe(404);
    expect((await fetch(`${gateway.restUrl}/v1/deliveries/${id}/retry`, { method: 'POST', headers: theirs })).status).toBe(404);
    expect((await json(await fetch(`${gateway.restUrl}/v1/deliveries`, { headers: theirs }))).items).toEqual([]);
    expect((await json(await fetch(`${gateway.restUrl}/v1/deliveries`, { headers: mine }))).items.map((d: { id: string }) => d.id)).toEqual(
      [id],
    );
    expect((await fetch(`${gateway.restUrl}/v1/deliveries/${id}`)).status).toBe(401);
  });

  it('a PX 400 makes the delivery dead at once with PX message; retry re-queues it, DELETE discards, list filters and pages', async () => {
    let reject = true;
    const { gateway, upstream } = await start({}, () =>
      reject
        ? { status: 400, body: JSON.stringify({ externalapierror: { status: 'BAD_REQUEST', message: 'eventName too odd' } }) }
        : { status: 201 },
    );
    const ids: string[] = [];
    for (const n of [1, 2, 3])
      ids.push(
        (
          await json(
            await fetch(`${gateway.restUrl}/v1/custom-events`, { method: 'POST', headers: ASYNC_HEADERS, body: JSON.stringify(event(n)) }),
          )
        ).id,
      );
    const dead = await waitFor(
      () => deliveryOf(ids[0] as string),
      (d) => d.status === 'dead',
      'dead',
    );
    expect(dead).toMatchObject({
      attempts: 1,
      lastError: { status: 400, type: 'upstream-rejected-input', detail: expect.stringContaining('eventName too odd') },
    });
    await waitFor(
      async () => (await json(await fetch(`${gateway.restUrl}/v1/deliveries?status=dead`))).items.length,
      (n) => n === 3,
      'three dead',
    );

    const page1 = await json(await fetch(`${gateway.restUrl}/v1/deliveries?status=dead&limit=2`));
    expect(page1.items).toHaveLength(2);
    const page2 = await json(await fetch(`${gateway.restUrl}/v1/deliveries?status=dead&limit=2&cursor=${page1.nextCursor}`));
    expect([...page1.items, ...page2.items].map((d: { id: string }) => d.id)).toEqual(ids);
    expect(page2.nextCursor).toBeUndefined();
    for (const query of ['status=lost', 'limit=0', 'limit=abc', 'cursor=nope']) {
      const bad = await fetch(`${gateway.restUrl}/v1/deliveries?${query}`);
      expect(bad.status, query).toBe(400);
      expect(bad.headers.get('content-type')).toContain('application/problem+json');
    }

    reject = false;
    const retried = await fetch(`${gateway.restUrl}/v1/deliveries/${ids[0]}/retry`, { method: 'POST' });
    expect(retried.status).toBe(202);
    expect((await json(retried)).status).toBe('queued');
    await waitFor(
      () => deliveryOf(ids[0] as string),
      (d) => d.status === 'delivered',
      'delivered after retry',
    );
    expect((await fetch(`${gateway.restUrl}/v1/deliveries/${ids[0]}/retry`, { method: 'POST' })).status).toBe(409);
    expect((await fetch(`${gateway.restUrl}/v1/deliveries/${ids[0]}`, { method: 'DELETE' })).status).toBe(409);
    expect((await fetch(`${gateway.restUrl}/v1/deliveries/${ids[1]}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${gateway.restUrl}/v1/deliveries/${ids[1]}`)).status).toBe(404);
    expect(upstream.recorded).toHaveLength(1);
  });

  it('answers 503 with Retry-After, never 202, when DELIVERY_MAX_QUEUED is reached', async () => {
    const { gateway, upstream } = await start({ DELIVERY_MAX_QUEUED: '2', DELIVERY_MAX_QUEUED_PER_CLIENT: '2' });
    await upstream.suspend();
    for (const n of [1, 2])
      expect(
        (await fetch(`${gateway.restUrl}/v1/custom-events`, { method: 'POST', headers: ASYNC_HEADERS, body: JSON.stringify(event(n)) }))
          .status,
      ).toBe(202);
    const full = await fetch(`${gateway.restUrl}/v1/custom-events`, {
      method: 'POST',
      headers: ASYNC_HEADERS,
      body: JSON.stringify(event(3)),
    });
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('5');
    expect((await json(full)).type).toBe('urn:gateway:problem:delivery-unavailable');
    const batch = await fetch(`${gateway.restUrl}/v1/custom-events/batch`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ events: [event(4)] }),
    });
    expect(batch.status).toBe(503);
    expect((await json(await fetch(`${gateway.restUrl}/v1/deliveries`))).items).toHaveLength(2);
  });

  it('one client at DELIVERY_MAX_QUEUED_PER_CLIENT gets 429 too-many-pending (REST and MCP, nothing queued); other clients go on', async () => {
    const { gateway, upstream } = await start({
      GATEWAY_API_KEYS: `${TEST_CLIENT_KEY},${TEST_OTHER_CLIENT_KEY}`,
      DELIVERY_MAX_QUEUED_PER_CLIENT: '3',
    });
    await upstream.suspend();
    const mine = { ...ASYNC_HEADERS, 'x-api-key': TEST_CLIENT_KEY };
    const send = (headers: Record<string, string>, n: number) =>
      fetch(`${gateway.restUrl}/v1/custom-events`, { method: 'POST', headers, body: JSON.stringify(event(n)) });
    for (const n of [1, 2]) expect((await send(mine, n)).status).toBe(202);
    // A batch of two would make four: refused whole, so the client can resend it as it is.
    const batch = await fetch(`${gateway.restUrl}/v1/custom-events/batch`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, 'x-api-key': TEST_CLIENT_KEY },
      body: JSON.stringify({ events: [event(3), event(4)] }),
    });
    expect(batch.status).toBe(429);
    expect(await json(batch)).toMatchObject({ type: 'urn:gateway:problem:too-many-pending', status: 429 });
    // A batch larger than the whole share could never be taken: 400, split it (not a 429 to retry forever).
    const oversized = await fetch(`${gateway.restUrl}/v1/custom-events/batch`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, 'x-api-key': TEST_OTHER_CLIENT_KEY },
      body: JSON.stringify({ events: [event(10), event(11), event(12), event(13)] }),
    });
    expect(oversized.status).toBe(400);
    expect((await json(oversized)).detail).toContain('smaller batches');
    expect((await send(mine, 5)).status).toBe(202);
    const full = await send(mine, 6);
    expect(full.status).toBe(429);
    expect(full.headers.get('retry-after')).toBe('30');
    const problem = await json(full);
    expect(problem.type).toBe('urn:gateway:problem:too-many-pending');
    expect(problem.detail).toContain('DELIVERY_MAX_QUEUED_PER_CLIENT');
    // The other client still has its whole share.
    expect((await send({ ...ASYNC_HEADERS, 'x-api-key': TEST_OTHER_CLIENT_KEY }, 7)).status).toBe(202);
    const client = new Client({ name: 'delivery-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(gateway.mcpUrl), { requestInit: { headers: { 'x-api-key': TEST_CLIENT_KEY } } }),
    );
    try {
      const refused = await client.callTool({ name: 'gainsight-send-custom-events', arguments: { events: [event(8)] } });
      expect(refused.isError).toBe(true);
      expect(JSON.stringify(refused.content)).toContain('DELIVERY_MAX_QUEUED_PER_CLIENT');
    } finally {
      await client.close();
    }
    await upstream.resume();
    await waitFor(
      async () => upstream.recorded.length,
      (n) => n >= 4,
      'the four accepted events',
    );
    // Once its deliveries are done, the client is accepted again.
    await waitFor(
      async () => (await send(mine, 9)).status,
      (status) => status === 202,
      'the client accepted again',
    );
    await waitFor(
      async () => upstream.recorded.length,
      (n) => n >= 5,
      'the fifth event',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(upstream.recorded.map((r) => JSON.parse(r.body).identifyId).sort()).toEqual(['u-1', 'u-2', 'u-5', 'u-7', 'u-9']);
  });

  it('reports the queue in /metrics', async () => {
    const { gateway, upstream } = await start();
    await upstream.suspend();
    await fetch(`${gateway.restUrl}/v1/custom-events`, { method: 'POST', headers: ASYNC_HEADERS, body: JSON.stringify(event(1)) });
    const text = await (await fetch(`${gateway.restUrl}/metrics`)).text();
    expect(text).toMatch(/^gateway_delivery_queued 1$/m);
    expect(text).toMatch(/^gateway_delivery_oldest_queued_age_seconds /m);
    await waitFor(
      async () =>
        (await (await fetch(`${gateway.restUrl}/metrics`)).text()).match(
          /gateway_delivery_attempts_total\{plugin="gainsight-px",result="retry"\} (\d+)/,
        )?.[1],
      (n) => Number(n) >= 1,
      'a retry',
    );
  });
});

describe('the shared outbound path', () => {
  it('refuses at once (429) a call whose outbound slot would leave it less than half its deadline, instead of sending it too late', async () => {
    const { gateway, upstream } = await start({ UPSTREAM_RATE_LIMIT: '1', UPSTREAM_TIMEOUT_MS: '1500' }, () => ({ status: 201 }));
    const send = () =>
      fetch(`${gateway.restUrl}/v1/custom-events`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(event(1)) });
    const [first, second] = await Promise.all([send(), send()]);
    expect([first.status, second.status].sort()).toEqual([201, 429]);
    expect(upstream.received).toHaveLength(1);
  });

  it('waits at least a second before retrying a 429 that has no Retry-After', async () => {
    const { gateway } = await start({ UPSTREAM_RETRIES: '1', UPSTREAM_RETRY_BASE_MS: '1' }, (_request, n) =>
      n === 1 ? { status: 429 } : { status: 201 },
    );
    const response = await fetch(`${gateway.restUrl}/v1/custom-events`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify(event(1)),
    });
    expect(response.status).toBe(201);
    const retry = gateway.logs.map((line) => JSON.parse(line)).find((line) => line.msg === 'retrying upstream call');
    expect(retry?.retryInMs).toBeGreaterThanOrEqual(1000);
  });
});

describe('queued delivery over MCP', () => {
  it('queues a batch with per-index results and reads a delivery back with gateway-get-delivery', async () => {
    const { gateway, upstream } = await start();
    const client = new Client({ name: 'delivery-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.mcpUrl)));
    try {
      const { tools } = await client.listTools();
      const batchTool = tools.find((t) => t.name === 'gainsight-send-custom-events');
      expect(batchTool?.annotations).toMatchObject({
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: true,
      });
      expect(tools.find((t) => t.name === 'gateway-get-delivery')?.annotations).toMatchObject({ readOnlyHint: true, idempotentHint: true });

      const result = await client.callTool({
        name: 'gainsight-send-custom-events',
        arguments: { events: [event(1), { eventName: 'x', propertyKey: 'AP-TEST-1' }] },
      });
      expect(result.isError).toBeFalsy();
      const structured = (
        result.structuredContent as {
          status: number;
          body: { accepted: number; rejected: number; results: { index: number; id?: string }[] };
        }
      ).body;
      expect(structured).toMatchObject({ accepted: 1, rejected: 1 });
      const id = structured.results[0]?.id as string;
      await waitFor(
        async () => upstream.recorded.length,
        (n) => n === 1,
        'the MCP-queued event',
      );
      const status = await waitFor(
        async () => (await client.callTool({ name: 'gateway-get-delivery', arguments: { id } })).structuredContent as { status: string },
        (d) => d.status === 'delivered',
        'delivered via MCP',
      );
      expect(status).toMatchObject({ id, operation: 'gainsight-px.sendCustomEvent' });

      const none = await client.callTool({ name: 'gainsight-send-custom-events', arguments: { events: [{ eventName: 'x' }] } });
      expect(none.isError).toBe(true);
      expect(JSON.stringify(none.content)).toContain('events[0].identifyId');
      const tooMany = await client.callTool({
        name: 'gainsight-send-custom-events',
        arguments: { events: Array.from({ length: 101 }, (_, i) => event(i)) },
      });
      expect(tooMany.isError).toBe(true);
      const unknown = await client.callTool({ name: 'gateway-get-delivery', arguments: { id: 'nope' } });
      expect(unknown.isError).toBe(true);
      expect(upstream.received).toHaveLength(1);
    } finally {
      await client.close();
    }
  });
});

describe('the delivery routes in the OpenAPI document', () => {
  it('documents every delivery route and answer as served, and real answers match their documented schemas', async () => {
    const { gateway } = await start();
    const doc = await json(await fetch(`${gateway.restUrl}/openapi.json`));
    const single = doc.paths['/v1/custom-events'].post;
    expect(single.parameters).toContainEqual({ $ref: '#/components/parameters/Prefer' });
    expect(Object.keys(single.responses)).toEqual(expect.arrayContaining(['201', '202', '503']));
    expect(Object.keys(doc.paths['/v1/custom-events/batch'].post.responses)).toEqual(
      expect.arrayContaining(['202', '400', '413', '415', '422', '429', '503']),
    );
    expect(Object.keys(doc.paths['/v1/custom-events/batch'].post.requestBody.content)).toEqual([
      'application/json',
      'application/x-ndjson',
    ]);
    expect(Object.keys(doc.paths['/v1/deliveries'])).toEqual(['get']);
    expect(Object.keys(doc.paths['/v1/deliveries/{id}']).sort()).toEqual(['delete', 'get']);
    expect(Object.keys(doc.paths['/v1/deliveries/{id}/retry'])).toEqual(['post']);

    const { Ajv2020 } = await import('ajv/dist/2020.js');
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    for (const [name, schema] of Object.entries(doc.components.schemas)) ajv.addSchema(schema as object, `#/components/schemas/${name}`);
    const check = (name: string, value: unknown) => {
      const validate = ajv.getSchema(`#/components/schemas/${name}`);
      expect(validate?.(value), `${name}: ${JSON.stringify(validate?.errors)}`).toBe(true);
    };
    const accepted = await json(
      await fetch(`${gateway.restUrl}/v1/custom-events`, { method: 'POST', headers: ASYNC_HEADERS, body: JSON.stringify(event(1)) }),
    );
    check('DeliveryAccepted', accepted);
    check(
      'BatchAccepted',
      await json(
        await fetch(`${gateway.restUrl}/v1/custom-events/batch`, {
          method: 'POST',
          headers: JSON_HEADERS,
          body: JSON.stringify({ events: [event(2), {}] }),
        }),
      ),
    );
    check(
      'Delivery',
      await waitFor(
        () => deliveryOf(accepted.id),
        (d) => d.status === 'delivered',
        'delivered',
      ),
    );
    check('DeliveryPage', await json(await fetch(`${gateway.restUrl}/v1/deliveries?limit=1`)));
  });
});

describe('delivery lifecycle', () => {
  it('a graceful stop lets attempts in flight finish and leaves the rest queued; the next start delivers it, with no duplicate', {
    timeout: 60_000,
  }, async () => {
    const dataDir = (await import('node:fs')).mkdtempSync(`${(await import('node:os')).tmpdir()}/gateway-drain-`);
    upstream = await startProgrammableUpstream(() => ({ status: 201, delayMs: 300 }));
    const environment = {
      GAINSIGHT_API_KEY: TEST_PX_KEY,
      GAINSIGHT_PX_BASE_URL: `${upstream.url}/v1`,
      DATA_DIR: dataDir,
      DELIVERY_CONCURRENCY: '4',
    };
    const first = await startTestGateway(environment);
    const events = Array.from({ length: 20 }, (_, i) => event(i));
    const accepted = await json(
      await fetch(`${first.restUrl}/v1/custom-events/batch`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ events }) }),
    );
    expect(accepted.accepted).toBe(20);
    await waitFor(
      async () => upstream?.received.length ?? 0,
      (n) => n >= 1,
      'an attempt in flight',
    );
    await first.close();
    const sentBeforeStop = upstream.received.length;
    expect(sentBeforeStop).toBeLessThan(20);
    // Every attempt that was sent got its answer: it was recorded as delivered, not cut.
    expect(upstream.recorded).toHaveLength(sentBeforeStop);

    gateway = await startTestGateway(environment);
    await waitFor(
      async () => upstream?.recorded.length ?? 0,
      (n) => n === 20,
      'the rest after the restart',
    );
    const ids = new Set(upstream.recorded.map((r) => JSON.parse(r.body).identifyId));
    expect(ids.size).toBe(20);
    (await import('node:fs')).rmSync(dataDir, { recursive: true, force: true });
  });

  it('prunes delivered records after DELIVERY_RETENTION', async () => {
    const { gateway } = await start({ DELIVERY_RETENTION: '1s' });
    const { id } = await json(
      await fetch(`${gateway.restUrl}/v1/custom-events`, { method: 'POST', headers: ASYNC_HEADERS, body: JSON.stringify(event(1)) }),
    );
    await waitFor(
      () => deliveryOf(id),
      (d) => d.status === 'delivered',
      'delivered',
    );
    await waitFor(
      async () => (await fetch(`${gateway.restUrl}/v1/deliveries/${id}`)).status,
      (status) => status === 404,
      'pruned',
      10_000,
    );
  });

  it('stops at start-up with a message naming DATA_DIR when the queue cannot be opened there', async () => {
    // A regular file where the directory should be: nothing can be created under it.
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const parent = mkdtempSync(`${(await import('node:os')).tmpdir()}/gateway-datadir-`);
    writeFileSync(`${parent}/file`, '');
    try {
      await expect(startTestGateway({ DATA_DIR: `${parent}/file/data` })).rejects.toThrow(
        /^DATA_DIR .*\/file\/data: the delivery queue cannot be opened there: .*\/file is not a directory \(ENOTDIR\)$/,
      );
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});

describe('batch error reports stay bounded', () => {
  it('a batch of 1000 invalid events answers 400 with the first 20 problems and a count of the rest', async () => {
    const { gateway, upstream } = await start();
    const events = Array.from({ length: 1000 }, () => ({ eventName: 7, identifyId: 8, propertyKey: 9 }));
    const response = await fetch(`${gateway.restUrl}/v1/custom-events/batch`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ events }),
    });
    expect(response.status).toBe(400);
    const problem = await json(response);
    expect(problem.errors).toHaveLength(20);
    expect(problem.omittedErrors).toBe(3000 - 20);
    expect(upstream.received).toHaveLength(0);
  });
});
