import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';
import { liveEnvironment, postJson, startTestGateway, TEST_PX_KEY, type TestGateway } from './support/test-gateway.ts';

const EVENT = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' };

describe('REST in live mode, against a loopback upstream', () => {
  let upstream: CaptureServer;
  let gateway: TestGateway;
  const bodies: string[] = [];

  beforeAll(async () => {
    upstream = await startCaptureServer();
    gateway = await startTestGateway(liveEnvironment(upstream.url, { UPSTREAM_TIMEOUT_MS: '300', UPSTREAM_RETRIES: '0' }));
  });
  afterEach(() => {
    upstream.requests.length = 0;
  });
  afterAll(async () => {
    await gateway.close();
    await upstream.close();
    const printed = [...gateway.logs, ...bodies].join('\n');
    expect(printed).not.toContain(TEST_PX_KEY);
  });

  const send = async (body: unknown, headers?: Record<string, string>) => {
    const response = await postJson(`${gateway.restUrl}/v1/custom-events`, body, headers);
    const text = await response.text();
    bodies.push(text, JSON.stringify([...response.headers]));
    return { response, text, json: text ? (JSON.parse(text) as Record<string, any>) : undefined };
  };

  it('forwards a valid event once, with the key header and the shaped body, and answers 201', async () => {
    const { response, text } = await send(
      {
        ...EVENT,
        date: '2026-11-26T10:00:00Z',
        attributes: { plan: 'pro', seats: 5, nested: { a: 1 }, list: [1, 2], gone: null },
      },
      { 'x-request-id': 'req-abc.1' },
    );
    expect(response.status).toBe(201);
    expect(text).toBe('');
    expect(response.headers.get('x-request-id')).toBe('req-abc.1');
    expect(upstream.requests).toHaveLength(1);
    const [received] = upstream.requests;
    expect(received?.method).toBe('POST');
    expect(received?.url).toBe('/v1/events/custom');
    expect(received?.headers['x-aptrinsic-api-key']).toBe(TEST_PX_KEY);
    expect(received?.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(received?.body ?? '')).toEqual({
      ...EVENT,
      userType: 'USER',
      date: Date.parse('2026-11-26T10:00:00Z'),
      attributes: { plan: 'pro', seats: 5, nested: '{"a":1}', list: '[1,2]' },
    });
  });

  it('relays the upstream JSON body when there is one', async () => {
    upstream.reply({ status: 201, body: '{"id":"evt-1"}' });
    const { response, json } = await send(EVENT);
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(json).toEqual({ id: 'evt-1' });
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('rejects an invalid body with 400, one problem per JSON pointer, and no upstream call', async () => {
    const { response, json } = await send({ eventName: '', identifyId: 7, userType: 'ROBOT', extra: true, date: 'yesterday' });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(json?.type).toBe('urn:gateway:problem:invalid-input');
    const pointers = ((json?.errors ?? []) as { pointer: string }[]).map((e) => e.pointer).sort();
    expect(pointers).toEqual(['/date', '/eventName', '/extra', '/identifyId', '/propertyKey', '/userType']);
    expect(upstream.requests).toHaveLength(0);
  });

  it('rejects more than 50 attributes', async () => {
    const attributes = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`a${i}`, i]));
    const { response, json } = await send({ ...EVENT, attributes });
    expect(response.status).toBe(400);
    expect(json?.errors).toEqual([{ pointer: '/attributes', detail: 'must NOT have more than 50 properties' }]);
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 400 for malformed JSON and 415 for a non-JSON content type, without calling upstream', async () => {
    const malformed = await send('{"eventName":', {});
    expect(malformed.response.status).toBe(400);
    expect(malformed.json?.type).toBe('urn:gateway:problem:malformed-json');
    const form = await fetch(`${gateway.restUrl}/v1/custom-events`, {
      method: 'POST',
      body: 'eventName=x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(form.status).toBe(415);
    expect(form.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await form.json()) as { detail: string }).detail).toContain('application/json');
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 404 for an unknown path and 405 with Allow for a wrong method', async () => {
    const missing = await fetch(`${gateway.restUrl}/v1/nope`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const wrong = await fetch(`${gateway.restUrl}/v1/custom-events`, { method: 'PUT' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect(((await wrong.json()) as { status: number }).status).toBe(405);
    expect(upstream.requests).toHaveLength(0);
  });

  it('maps upstream 400 to 400 carrying the upstream message', async () => {
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
    const { response, json } = await send(EVENT);
    expect(response.status).toBe(400);
    expect(json?.type).toBe('urn:gateway:problem:upstream-rejected-input');
    expect(json?.upstreamStatus).toBe(400);
    expect(json?.detail).toContain('Validation error: propertyKey unknown product');
    expect(upstream.requests).toHaveLength(1);
  });

  it.each([401, 403, 404])('maps upstream %i to 502 about the gateway configuration, never echoing the key', async (status) => {
    upstream.reply({
      status,
      body: status === 403 ? `<html><title>Forbidden ${TEST_PX_KEY}</title></html>` : '',
      headers: { 'content-type': 'text/html' },
    });
    const { response, json, text } = await send(EVENT);
    expect(response.status).toBe(502);
    expect(json?.type).toBe('urn:gateway:problem:upstream-refused-gateway');
    expect(json?.detail).toContain('GAINSIGHT_API_KEY');
    expect(text).not.toContain(TEST_PX_KEY);
    expect(upstream.requests).toHaveLength(1);
  });

  it('maps upstream 429 to 429 with Retry-After', async () => {
    upstream.reply({ status: 429, headers: { 'retry-after': '7' } });
    const { response, json } = await send(EVENT);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(json?.type).toBe('urn:gateway:problem:upstream-rate-limited');
  });

  it.each([500, 503])('maps upstream %i to 502, reading an HTML body leniently', async (status) => {
    upstream.reply({
      status,
      body: '<html><head><title>Service Unavailable</title></head><body>down</body></html>',
      headers: { 'content-type': 'text/html' },
    });
    const { response, json } = await send(EVENT);
    expect(response.status).toBe(502);
    expect(json?.type).toBe('urn:gateway:problem:upstream-failed');
    expect(json?.detail).toContain(`answered ${status}: Service Unavailable`);
  });

  it('maps an upstream JSON error without externalapierror', async () => {
    upstream.reply({ status: 500, body: '{"message":"database on fire"}' });
    const { json } = await send(EVENT);
    expect(json?.detail).toContain('database on fire');
  });

  it('answers 504 when the upstream does not answer within UPSTREAM_TIMEOUT_MS', async () => {
    upstream.reply({ hang: true });
    const { response, json } = await send(EVENT);
    expect(response.status).toBe(504);
    expect(json?.type).toBe('urn:gateway:problem:upstream-timeout');
    expect(json?.detail).toContain('300 ms');
    expect(upstream.requests).toHaveLength(1);
  });

  it('answers 502 when the upstream resets the connection', async () => {
    upstream.reply({ drop: true });
    const { response, json } = await send(EVENT);
    expect(response.status).toBe(502);
    expect(json?.type).toBe('urn:gateway:problem:upstream-unreachable');
    expect(upstream.requests).toHaveLength(1);
  });

  it('requires propertyKey when no default product key is configured', async () => {
    const { propertyKey: _, ...withoutKey } = EVENT;
    const { response, json } = await send(withoutKey);
    expect(response.status).toBe(400);
    expect(json?.errors).toEqual([{ pointer: '/propertyKey', detail: 'is required' }]);
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('REST in live mode, other upstream situations', () => {
  it('answers 502 when the upstream refuses connections', async () => {
    const closed = await startCaptureServer();
    await closed.close();
    const gateway = await startTestGateway(liveEnvironment(closed.url));
    try {
      const response = await postJson(`${gateway.restUrl}/v1/custom-events`, EVENT);
      expect(response.status).toBe(502);
      const problem = (await response.json()) as { type: string; detail: string };
      expect(problem.type).toBe('urn:gateway:problem:upstream-unreachable');
      expect(problem.detail).toContain('refused');
    } finally {
      await gateway.close();
    }
  });

  it('fills propertyKey from GAINSIGHT_PX_PRODUCT_KEY and keeps a caller-given one', async () => {
    const upstream = await startCaptureServer();
    const gateway = await startTestGateway(liveEnvironment(upstream.url, { GAINSIGHT_PX_PRODUCT_KEY: 'AP-DEFAULT-2' }));
    try {
      const { propertyKey: _, ...withoutKey } = EVENT;
      expect((await postJson(`${gateway.restUrl}/v1/custom-events`, withoutKey)).status).toBe(201);
      expect((await postJson(`${gateway.restUrl}/v1/custom-events`, EVENT)).status).toBe(201);
      const sent = upstream.requests.map((r) => (JSON.parse(r.body) as { propertyKey: string }).propertyKey);
      expect(sent).toEqual(['AP-DEFAULT-2', 'AP-TEST-1']);
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });

  it('answers 413 for a body over BODY_LIMIT without calling upstream', async () => {
    const upstream = await startCaptureServer();
    const gateway = await startTestGateway(liveEnvironment(upstream.url, { BODY_LIMIT: '200' }));
    try {
      const response = await postJson(`${gateway.restUrl}/v1/custom-events`, { ...EVENT, url: 'x'.repeat(500) });
      expect(response.status).toBe(413);
      expect(((await response.json()) as { type: string }).type).toBe('urn:gateway:problem:payload-too-large');
      expect(upstream.requests).toHaveLength(0);
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});
