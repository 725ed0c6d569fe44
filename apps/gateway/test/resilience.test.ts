import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';
import { liveEnvironment, postJson, startTestGateway, type TestGateway } from './support/test-gateway.ts';

const EVENT = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' };

describe('upstream retries', () => {
  let upstream: CaptureServer;
  let gateway: TestGateway;

  beforeAll(async () => {
    upstream = await startCaptureServer();
    gateway = await startTestGateway(liveEnvironment(upstream.url, { UPSTREAM_RETRY_BASE_MS: '5', UPSTREAM_TIMEOUT_MS: '3000' }));
  });
  afterEach(() => {
    upstream.requests.length = 0;
  });
  afterAll(async () => {
    await gateway.close();
    await upstream.close();
  });

  const send = () => postJson(`${gateway.restUrl}/v1/custom-events`, EVENT);

  it('turns 503, 503, 201 into one 201 after three attempts, each attempt logged', async () => {
    upstream.reply({ status: 503 }, { status: 503 });
    const response = await send();
    expect(response.status).toBe(201);
    expect(upstream.requests).toHaveLength(3);
    expect(new Set(upstream.requests.map((r) => r.body)).size).toBe(1);
    const requestId = response.headers.get('x-request-id');
    const attempts = gateway.logs.filter(
      (line) => line.includes(`"requestId":"${requestId}"`) && line.includes('"msg":"upstream answered"'),
    );
    expect(attempts.map((line) => (JSON.parse(line) as { upstreamStatus: number }).upstreamStatus)).toEqual([503, 503, 201]);
  });

  it('stops after UPSTREAM_RETRIES extra attempts and reports the last failure', async () => {
    upstream.reply({ status: 500 }, { status: 502 }, { status: 503 });
    const response = await send();
    expect(response.status).toBe(502);
    expect(upstream.requests).toHaveLength(3);
  });

  it.each([408, 429, 500, 502, 503, 504])('retries %i', async (status) => {
    upstream.reply({ status });
    expect((await send()).status).toBe(201);
    expect(upstream.requests).toHaveLength(2);
  });

  it.each([400, 401, 403, 404, 409, 422, 501, 505])('never retries %i', async (status) => {
    upstream.reply({ status });
    expect((await send()).status).not.toBe(201);
    expect(upstream.requests).toHaveLength(1);
  });

  it('retries a dropped connection', async () => {
    upstream.reply({ drop: true });
    expect((await send()).status).toBe(201);
    expect(upstream.requests).toHaveLength(2);
  });

  it('honours Retry-After, and gives up when it lies past the deadline', async () => {
    upstream.reply({ status: 429, headers: { 'retry-after': '0' } });
    expect((await send()).status).toBe(201);
    expect(upstream.requests).toHaveLength(2);
    upstream.requests.length = 0;
    upstream.reply({ status: 429, headers: { 'retry-after': '3600' } });
    const response = await send();
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('3600');
    expect(upstream.requests).toHaveLength(1);
  });
});

describe('the outbound limiter', () => {
  it('queues a burst above UPSTREAM_RATE_LIMIT instead of failing it', async () => {
    const upstream = await startCaptureServer();
    const gateway = await startTestGateway(liveEnvironment(upstream.url, { UPSTREAM_RATE_LIMIT: '20' }));
    try {
      const statuses = await Promise.all(
        Array.from({ length: 8 }, () => postJson(`${gateway.restUrl}/v1/custom-events`, EVENT).then((r) => r.status)),
      );
      expect(statuses).toEqual(Array(8).fill(201));
      expect(upstream.requests).toHaveLength(8);
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });

  it('answers 429 without calling upstream when the queue would pass the request deadline', async () => {
    const upstream = await startCaptureServer();
    const gateway = await startTestGateway(liveEnvironment(upstream.url, { UPSTREAM_RATE_LIMIT: '1', UPSTREAM_TIMEOUT_MS: '200' }));
    try {
      const responses = await Promise.all(Array.from({ length: 3 }, () => postJson(`${gateway.restUrl}/v1/custom-events`, EVENT)));
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 429, 429]);
      const limited = responses.find((r) => r.status === 429) as Response;
      expect(limited.headers.get('retry-after')).toBe('1');
      expect(((await limited.json()) as { detail: string }).detail).toContain('UPSTREAM_RATE_LIMIT');
      expect(upstream.requests).toHaveLength(1);
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});
