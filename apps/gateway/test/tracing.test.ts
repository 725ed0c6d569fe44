import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type OtlpReceiver, type ReceivedSpan, SPAN_KIND, startOtlpReceiver } from './support/otlp-receiver.ts';
import { type ProgrammableUpstream, startProgrammableUpstream, type UpstreamReply } from './support/programmable-upstream.ts';
import { skipRedis, startTestRedis, type TestRedis } from './support/redis-server.ts';
import { TEST_CLIENT_KEY, TEST_PX_KEY } from './support/secrets.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

/** Values that must never reach a span: the event's body is marked so any part of it would show. */
const BODY_MARKER = 'body-marker-7d41c0';
const QUERY_MARKER = 'query-marker-5be2aa';
const event = (n: number) => ({
  eventName: `Signup-${BODY_MARKER}`,
  identifyId: `user-${BODY_MARKER}-${n}`,
  propertyKey: 'AP-TEST-1',
  attributes: { plan: BODY_MARKER },
});

/** A caller's own trace: a W3C traceparent, sampled, with a tracestate to pass along. */
function callerTrace() {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01`, tracestate: 'caller=abc' };
}

const inTrace = (spans: readonly ReceivedSpan[], traceId: string) => spans.filter((span) => span.traceId === traceId);

let receiver: OtlpReceiver;
let upstream: ProgrammableUpstream | undefined;
let gateway: TestGateway | undefined;
const printed: string[] = [];

beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterEach(async () => {
  if (gateway) printed.push(...gateway.logs);
  await gateway?.close();
  await upstream?.close();
  gateway = undefined;
  upstream = undefined;
});
afterAll(async () => {
  await receiver.close();
});

async function start(environment: Record<string, string>, decide?: (request: { body: string }, n: number) => UpstreamReply) {
  upstream = await startProgrammableUpstream(decide);
  gateway = await startTestGateway({
    GAINSIGHT_API_KEY: TEST_PX_KEY,
    GAINSIGHT_PX_BASE_URL: `${upstream.url}/v1`,
    GATEWAY_API_KEYS: TEST_CLIENT_KEY,
    OTEL_BSP_SCHEDULE_DELAY: '20',
    ...environment,
  });
  return { gateway, upstream };
}

const post = (url: string, body: unknown, headers: Record<string, string>) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': TEST_CLIENT_KEY, ...headers },
    body: JSON.stringify(body),
  });

describe('tracing with an OTLP endpoint (http/protobuf)', () => {
  it('puts a REST event sent with a traceparent in the caller trace: server span, validation, each upstream attempt with its status', async () => {
    const { gateway, upstream } = await start(
      { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'gateway-under-test', UPSTREAM_RETRY_BASE_MS: '5' },
      (_request, n) => (n === 1 ? { status: 503 } : { status: 201 }),
    );
    const caller = callerTrace();
    const response = await post(`${gateway.restUrl}/v1/custom-events`, event(1), {
      traceparent: caller.traceparent,
      tracestate: caller.tracestate,
      'idempotency-key': 'trace-idem-1',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-trace-id')).toBe(caller.traceId);
    const requestId = response.headers.get('x-request-id');

    const spans = await receiver.waitFor((all) => inTrace(all, caller.traceId).some((span) => span.kind === SPAN_KIND.server));
    const trace = inTrace(spans, caller.traceId);
    const server = trace.find((span) => span.kind === SPAN_KIND.server);
    expect(server).toMatchObject({
      name: 'POST /v1/custom-events',
      parentSpanId: caller.spanId,
      attributes: expect.objectContaining({
        'http.request.method': 'POST',
        'http.route': '/v1/custom-events',
        'http.response.status_code': 201,
        'gateway.request_id': requestId,
      }),
      resource: expect.objectContaining({ 'service.name': 'gateway-under-test' }),
    });
    const byId = new Map(trace.map((span) => [span.spanId, span]));
    const ancestors = (span: ReceivedSpan): string[] => {
      const parent = span.parentSpanId ? byId.get(span.parentSpanId) : undefined;
      return parent ? [parent.name, ...ancestors(parent)] : [];
    };
    const validate = trace.find((span) => span.name === 'gateway.validate');
    expect(validate && ancestors(validate)).toContain('POST /v1/custom-events');
    const idempotency = trace.find((span) => span.name === 'gateway.idempotency');
    expect(idempotency?.attributes['gateway.idempotency.replayed']).toBe(false);

    const clients = trace.filter((span) => span.kind === SPAN_KIND.client);
    expect(clients.map((span) => span.attributes['http.response.status_code'])).toEqual([503, 201]);
    for (const client of clients) {
      expect(client.name).toBe('POST /v1/events/custom');
      expect(client.attributes).toMatchObject({
        'http.request.method': 'POST',
        'url.template': '/v1/events/custom',
        'server.address': '127.0.0.1',
      });
      expect(ancestors(client)).toEqual(['gateway.idempotency', 'POST /v1/custom-events']);
    }
    expect(clients[0]?.attributes['http.request.resend_count']).toBeUndefined();
    expect(clients[1]?.attributes['http.request.resend_count']).toBe(1);
    expect(clients[0]).toMatchObject({ statusCode: 2, attributes: expect.objectContaining({ 'error.type': '503' }) });

    // The upstream saw each attempt's own span as its parent, in the caller's trace, with the caller's tracestate.
    expect(upstream.received.map((request) => request.headers.traceparent)).toEqual(
      clients.map((client) => `00-${caller.traceId}-${client.spanId}-01`),
    );
    expect(upstream.received[0]?.headers.tracestate).toBe(caller.tracestate);
    expect(receiver.contentTypes).toContain('application/x-protobuf');

    // Every log line of this request joins its trace.
    const lines = gateway.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.requestId === requestId);
    expect(lines.map((line) => line.msg)).toEqual(expect.arrayContaining(['upstream answered', 'retrying upstream call', 'request']));
    for (const line of lines) {
      expect(line.trace_id).toBe(caller.traceId);
      expect(trace.map((span) => span.spanId)).toContain(line.span_id);
    }
  });

  it('sends no traceparent to a plugin listed in UPSTREAM_TRACEPARENT_OFF, and still records its client span', async () => {
    const { gateway, upstream } = await start({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, UPSTREAM_TRACEPARENT_OFF: 'gainsight-px' });
    const caller = callerTrace();
    const response = await post(`${gateway.restUrl}/v1/custom-events`, event(2), { traceparent: caller.traceparent });
    expect(response.status).toBe(201);
    expect(upstream.received[0]?.headers.traceparent).toBeUndefined();
    await receiver.waitFor((all) => inTrace(all, caller.traceId).some((span) => span.kind === SPAN_KIND.client));
  });

  it('names the tool of an MCP tools/call and joins the trace the client sent in _meta.traceparent', async () => {
    const { gateway } = await start({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    const caller = callerTrace();
    const result = await callCustomEventTool(gateway.mcpUrl, { 'x-api-key': TEST_CLIENT_KEY }, event(3), caller.traceparent);
    expect(result.isError).toBeFalsy();
    const spans = await receiver.waitFor((all) => inTrace(all, caller.traceId).some((span) => span.kind === SPAN_KIND.client));
    const trace = inTrace(spans, caller.traceId);
    const tool = trace.find((span) => span.name === 'tools/call gainsight-send-custom-event');
    expect(tool).toMatchObject({
      parentSpanId: caller.spanId,
      attributes: expect.objectContaining({ 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'gainsight-send-custom-event' }),
    });
    const upstreamCall = trace.find((span) => span.kind === SPAN_KIND.client);
    expect(upstreamCall?.attributes['http.response.status_code']).toBe(201);
    // The MCP POST itself is an HTTP server span of its own trace (no traceparent header was sent).
    expect(spans.some((span) => span.kind === SPAN_KIND.server && span.attributes['http.route'] === '/mcp')).toBe(true);
  });

  it('joins the traceparent header of the MCP HTTP request, and ignores a malformed _meta.traceparent', async () => {
    const { gateway } = await start({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    const caller = callerTrace();
    const headers = { 'x-api-key': TEST_CLIENT_KEY, traceparent: caller.traceparent };
    const result = await callCustomEventTool(gateway.mcpUrl, headers, event(7), 'not-a-traceparent');
    expect(result.isError).toBeFalsy();
    const spans = await receiver.waitFor((all) => inTrace(all, caller.traceId).some((span) => span.kind === SPAN_KIND.client));
    const trace = inTrace(spans, caller.traceId);
    const tool = trace.find((span) => span.name === 'tools/call gainsight-send-custom-event');
    const http = trace.find((span) => span.spanId === tool?.parentSpanId);
    expect(http).toMatchObject({
      kind: SPAN_KIND.server,
      parentSpanId: caller.spanId,
      attributes: expect.objectContaining({ 'http.route': '/mcp' }),
    });
  });
});

const QUEUES = [
  { queue: 'SQLite', skip: false },
  { queue: 'Redis', skip: skipRedis },
] as const;

describe.each(QUEUES)('a queued delivery across a restart, $queue queue (protobuf before, http/json after)', ({ queue, skip }) => {
  let redis: TestRedis | undefined;
  beforeAll(async () => {
    if (queue === 'Redis' && !skip) redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.close();
  });

  it.skipIf(skip)(
    'ends the accepting trace at the commit; each attempt is its own trace linked to the acceptance; the record shows its trace id',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'gateway-tracing-'));
      // Redis: the second gateway has its own DATA_DIR and meets the delivery only through the shared queue.
      const store = (n: number): Record<string, string> =>
        redis
          ? { REDIS_URL: redis.url, REDIS_PREFIX: `tracing-${process.pid}:`, DATA_DIR: join(dataDir, String(n)) }
          : { DATA_DIR: dataDir };
      try {
        // First instance: the upstream refuses connections, so the attempts fail and the delivery stays queued.
        const first = await start({
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          ...store(1),
          DELIVERY_RETRY_BASE_MS: '200',
          DELIVERY_RETRY_MAX_MS: '400',
        });
        await first.upstream.suspend();
        const caller = callerTrace();
        const accepted = await post(`${first.gateway.restUrl}/v1/custom-events`, event(4), {
          traceparent: caller.traceparent,
          prefer: 'respond-async',
        });
        expect(accepted.status).toBe(202);
        expect(accepted.headers.get('x-trace-id')).toBe(caller.traceId);
        const { id } = (await accepted.json()) as { id: string };
        const spans = await receiver.waitFor((all) => all.some((span) => span.attributes['gateway.delivery.id'] === id));
        const accept = inTrace(spans, caller.traceId).find((span) => span.name === 'gateway.accept');
        expect(accept).toBeDefined();
        // Nothing of the delivery itself is in the accepting trace.
        expect(inTrace(spans, caller.traceId).filter((span) => span.kind === SPAN_KIND.client || span.kind === SPAN_KIND.consumer)).toEqual(
          [],
        );
        const record = (await (
          await fetch(`${first.gateway.restUrl}/v1/deliveries/${id}`, { headers: { 'x-api-key': TEST_CLIENT_KEY } })
        ).json()) as {
          traceId?: string;
          status: string;
        };
        expect(record.traceId).toBe(caller.traceId);
        const upstreamUrl = first.upstream.url;
        await first.gateway.close();
        printed.push(...first.gateway.logs);
        gateway = undefined;

        // Second instance on the same queue file, exporting JSON, the upstream back.
        await first.upstream.resume();
        gateway = await startTestGateway({
          GAINSIGHT_API_KEY: TEST_PX_KEY,
          GAINSIGHT_PX_BASE_URL: `${upstreamUrl}/v1`,
          GATEWAY_API_KEYS: TEST_CLIENT_KEY,
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
          OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
          OTEL_BSP_SCHEDULE_DELAY: '20',
          ...store(2),
          DELIVERY_RETRY_BASE_MS: '200',
          DELIVERY_RETRY_MAX_MS: '400',
        });
        const delivered = await receiver.waitFor((all) =>
          all.some((span) => span.attributes['gateway.delivery.id'] === id && span.attributes['gateway.delivery.outcome'] === 'delivered'),
        );
        expect(receiver.contentTypes).toContain('application/json');
        const attempts = delivered.filter((span) => span.attributes['gateway.delivery.id'] === id);
        expect(attempts.length).toBeGreaterThanOrEqual(2);
        for (const attempt of attempts) {
          expect(attempt).toMatchObject({
            kind: SPAN_KIND.consumer,
            parentSpanId: undefined,
            name: 'deliver gainsight-px.sendCustomEvent',
          });
          expect(attempt.traceId).not.toBe(caller.traceId);
          expect(attempt.links).toEqual([{ traceId: caller.traceId, spanId: accept?.spanId }]);
        }
        const success = attempts.find((span) => span.attributes['gateway.delivery.outcome'] === 'delivered') as ReceivedSpan;
        const call = delivered.find((span) => span.traceId === success.traceId && span.kind === SPAN_KIND.client);
        expect(call).toMatchObject({
          parentSpanId: success.spanId,
          attributes: expect.objectContaining({ 'http.response.status_code': 201 }),
        });
        expect(first.upstream.recorded.at(-1)?.headers.traceparent).toBe(`00-${success.traceId}-${call?.spanId}-01`);
        const after = (await (
          await fetch(`${gateway.restUrl}/v1/deliveries/${id}`, { headers: { 'x-api-key': TEST_CLIENT_KEY } })
        ).json()) as {
          traceId?: string;
          status: string;
        };
        expect(after).toMatchObject({ status: 'delivered', traceId: caller.traceId });
        // The worker's log lines of the successful attempt join that attempt's trace.
        const line = gateway.logs
          .map((text) => JSON.parse(text) as Record<string, unknown>)
          .find((l) => l.msg === 'delivered' && l.deliveryId === id);
        expect(line?.trace_id).toBe(success.traceId);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  );
});

describe('what tracing exports, and what it does not', () => {
  it('never exports the PX key, an inbound key, a query value or any part of an event body', async () => {
    // Runs after the tests above: everything they exported is scanned too.
    const { gateway } = await start({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    const caller = callerTrace();
    const refused = await post(`${gateway.restUrl}/v1/custom-events?${QUERY_MARKER}=${QUERY_MARKER}`, event(5), {
      traceparent: caller.traceparent,
    });
    expect(refused.status).toBe(400);
    await receiver.waitFor((all) => inTrace(all, caller.traceId).some((span) => span.kind === SPAN_KIND.server));
    expect(receiver.bodies.length).toBeGreaterThan(0);
    for (const body of receiver.bodies) {
      for (const text of [body.toString('utf8'), body.toString('latin1')]) {
        for (const secret of [TEST_PX_KEY, TEST_CLIENT_KEY, BODY_MARKER, QUERY_MARKER]) expect(text).not.toContain(secret);
      }
    }
  });

  it('creates no span with no endpoint set, and answers no trace id', async () => {
    const before = receiver.bodies.length;
    const started = await start({ OTEL_SERVICE_NAME: 'not-exporting', OTEL_TRACES_SAMPLER: 'always_on' });
    const caller = callerTrace();
    const response = await post(`${started.gateway.restUrl}/v1/custom-events`, event(6), { traceparent: caller.traceparent });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-trace-id')).toBeNull();
    // The caller's own header is not the gateway's to forward when it does not trace.
    expect(started.upstream.received[0]?.headers.traceparent).toBeUndefined();
    gateway = undefined;
    await started.gateway.close();
    printed.push(...started.gateway.logs);
    expect(started.gateway.logs.some((line) => line.includes('trace_id'))).toBe(false);
    expect(receiver.bodies.length).toBe(before);
  });
});

/** One MCP tools/call of the custom-event tool from a real SDK client, `_meta.traceparent` as given. */
async function callCustomEventTool(mcpUrl: string, headers: Record<string, string>, body: unknown, traceparent: string) {
  const client = new Client({ name: 'tracing-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers } }));
  try {
    return await client.callTool({ name: 'gainsight-send-custom-event', arguments: { body }, _meta: { traceparent } });
  } finally {
    await client.close();
  }
}
