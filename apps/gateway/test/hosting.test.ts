import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../src/config.ts';
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';
import {
  liveEnvironment,
  postJson,
  startTestGateway,
  TEST_CLIENT_KEY,
  TEST_OTHER_CLIENT_KEY,
  TEST_PX_KEY,
  type TestGateway,
} from './support/test-gateway.ts';

const EVENT = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' };
const CLIENT_KEY = TEST_CLIENT_KEY;
const OTHER_KEY = TEST_OTHER_CLIENT_KEY;

describe('inbound auth, limits, health, metrics', () => {
  let upstream: CaptureServer;
  let gateway: TestGateway;
  const seen: string[] = [];

  beforeAll(async () => {
    upstream = await startCaptureServer();
    gateway = await startTestGateway(
      liveEnvironment(upstream.url, { GATEWAY_API_KEYS: `${CLIENT_KEY},${OTHER_KEY}`, INBOUND_RATE_LIMIT: '5' }),
    );
  });
  afterAll(async () => {
    await gateway.close();
    await upstream.close();
    const printed = [...gateway.logs, ...seen].join('\n');
    for (const secret of [TEST_PX_KEY, CLIENT_KEY, OTHER_KEY]) expect(printed).not.toContain(secret);
  });

  const record = async (response: Response) => {
    seen.push(await response.clone().text(), JSON.stringify([...response.headers]));
    return response;
  };
  const send = (headers: Record<string, string>) => postJson(`${gateway.restUrl}/v1/custom-events`, EVENT, headers).then(record);

  it('answers 401 problem+json with WWW-Authenticate without a key or with a wrong one, and calls nothing upstream', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { 'x-api-key': 'wrong-key-wrong-key-wrong' },
      { authorization: 'Bearer nope' },
      { authorization: `Basic ${CLIENT_KEY}` },
    ];
    for (const headers of attempts) {
      const response = await send(headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="gateway"/);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it('accepts X-API-Key and Authorization: Bearer', async () => {
    expect((await send({ 'x-api-key': CLIENT_KEY })).status).toBe(201);
    expect((await send({ authorization: `Bearer ${OTHER_KEY}` })).status).toBe(201);
    expect(upstream.requests).toHaveLength(2);
    expect(upstream.requests.every((r) => r.headers.authorization === undefined && r.headers['x-api-key'] === undefined)).toBe(true);
  });

  it('keeps health and readiness public, and /metrics behind a key', async () => {
    expect((await fetch(`${gateway.restUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${gateway.restUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', plugins: [{ id: 'gainsight-px', mode: 'live' }] });
    expect((await fetch(`${gateway.restUrl}/metrics`)).status).toBe(401);
    const metrics = await fetch(`${gateway.restUrl}/metrics`, { headers: { 'x-api-key': CLIENT_KEY } });
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/gateway_http_requests_total\{route="\/v1\/custom-events",method="POST",status="201"\} 2/);
    expect(text).toMatch(/gateway_upstream_requests_total\{plugin="gainsight-px",operation="sendCustomEvent",status="201"\} 2/);
    expect(text).toContain('gateway_upstream_request_duration_seconds_bucket');
    expect(text).toContain('gateway_upstream_retries_total');
  });

  it('logs one JSON line per request with id, route, status, duration, upstream status and attempts', async () => {
    const response = await send({ 'x-api-key': CLIENT_KEY, 'x-request-id': 'log-line-check' });
    expect(response.status).toBe(201);
    const line = gateway.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'request' && l.requestId === 'log-line-check');
    expect(line).toMatchObject({ route: '/v1/custom-events', status: 201, upstreamStatus: 201, attempts: 1, method: 'POST' });
    expect(typeof line?.durationMs).toBe('number');
    expect(String(line?.clientId)).toMatch(/^key:[0-9a-f]{12}$/);
  });

  it('limits each client key to INBOUND_RATE_LIMIT per minute with 429, Retry-After and RateLimit headers', async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 6; i += 1) {
      const response = await send({ 'x-api-key': OTHER_KEY });
      statuses.push(response.status);
      if (response.status === 429) limited = response;
    }
    // OTHER_KEY already spent one request above; the limit is 5 per minute.
    expect(statuses).toEqual([201, 201, 201, 201, 429, 429]);
    expect(limited?.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(limited?.headers.get('ratelimit')).toContain('r=0');
    expect(limited?.headers.get('ratelimit-policy')).toContain('q=5');
    const problem = (await limited?.json()) as { type: string };
    expect(problem.type).toBe('urn:gateway:problem:rate-limited');
  });
});

describe('hosting configuration', () => {
  it('refuses a non-loopback HOST without keys, naming GATEWAY_API_KEYS, unless anonymous is allowed', () => {
    expect(() => readConfig({ HOST: '0.0.0.0' })).toThrow(/GATEWAY_API_KEYS/);
    expect(readConfig({ HOST: '0.0.0.0', GATEWAY_ALLOW_ANONYMOUS: 'true' }).inboundKeys).toEqual([]);
    expect(readConfig({ HOST: '0.0.0.0', GATEWAY_API_KEYS: CLIENT_KEY }).inboundKeys).toEqual([CLIENT_KEY]);
    expect(() => readConfig({ GATEWAY_API_KEYS: 'short' })).toThrow(/at least 16 characters/);
  });

  it('serves /metrics without a key when METRICS_PUBLIC=true', async () => {
    const gateway = await startTestGateway({ GATEWAY_API_KEYS: CLIENT_KEY, METRICS_PUBLIC: 'true' });
    try {
      expect((await fetch(`${gateway.restUrl}/metrics`)).status).toBe(200);
      expect((await postJson(`${gateway.restUrl}/v1/custom-events`, EVENT)).status).toBe(401);
    } finally {
      await gateway.close();
    }
  });

  it('sends CORS headers only for CORS_ORIGINS', async () => {
    const gateway = await startTestGateway({ CORS_ORIGINS: 'https://app.example.com' });
    try {
      const allowed = await fetch(`${gateway.restUrl}/healthz`, { headers: { origin: 'https://app.example.com' } });
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      const other = await fetch(`${gateway.restUrl}/healthz`, { headers: { origin: 'https://evil.example' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await gateway.close();
    }
    const plain = await startTestGateway({});
    try {
      const response = await fetch(`${plain.restUrl}/healthz`, { headers: { origin: 'https://app.example.com' } });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await plain.close();
    }
  });
});

describe('graceful drain', () => {
  it('finishes an in-flight request when stopped, while /readyz turns 503 and new connections are refused', async () => {
    const upstream = await startCaptureServer();
    upstream.reply({ status: 201, delayMs: 600 });
    const gateway = await startTestGateway(liveEnvironment(upstream.url));
    try {
      const inFlight = postJson(`${gateway.restUrl}/v1/custom-events`, EVENT);
      while (upstream.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      const closing = gateway.close();
      const response = await inFlight;
      expect(response.status).toBe(201);
      await closing;
      await expect(fetch(`${gateway.restUrl}/healthz`)).rejects.toThrow();
      expect(upstream.requests).toHaveLength(1);
    } finally {
      await upstream.close();
    }
  });

  it('finishes a tool call in flight in an MCP session, then ends the session and its notification stream', async () => {
    const upstream = await startCaptureServer();
    upstream.reply({ status: 201, delayMs: 600 });
    // A stop held by the open notification stream would outlast the test's own timeout.
    const gateway = await startTestGateway(liveEnvironment(upstream.url, { MCP_SESSIONS: 'true', SHUTDOWN_TIMEOUT_MS: '120000' }));
    const client = new Client({ name: 'drain-test', version: '1.0.0' });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(gateway.mcpUrl)));
      const inFlight = client.callTool({ name: 'gainsight-send-custom-event', arguments: { body: EVENT } });
      while (upstream.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      const closing = gateway.close();
      const result = await inFlight;
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ status: 201 });
      await closing;
      expect(upstream.requests).toHaveLength(1);
    } finally {
      await client.close().catch(() => {});
      await upstream.close();
    }
  });
});
