import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';
import { liveEnvironment, postJson, startTestGateway, type TestGateway } from './support/test-gateway.ts';

const EVENT = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' };

describe('Idempotency-Key on REST', () => {
  let upstream: CaptureServer;
  let gateway: TestGateway;
  let n = 0;
  const key = () => `key-${++n}`;
  const send = (body: unknown, idempotencyKey?: string) =>
    postJson(`${gateway.restUrl}/v1/custom-events`, body, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});

  beforeAll(async () => {
    upstream = await startCaptureServer();
    gateway = await startTestGateway(liveEnvironment(upstream.url, { UPSTREAM_RETRIES: '0' }));
  });
  afterEach(() => {
    upstream.requests.length = 0;
  });
  afterAll(async () => {
    await gateway.close();
    await upstream.close();
  });

  it('reaches upstream once for a repeated key and body, replaying the first result', async () => {
    const k = key();
    upstream.reply({ status: 201, body: '{"id":"evt-9"}' });
    const first = await send(EVENT, k);
    const second = await send({ identifyId: 'u-1', propertyKey: 'AP-TEST-1', eventName: 'Signup' }, k);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(await second.json()).toEqual({ id: 'evt-9' });
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(upstream.requests).toHaveLength(1);
  });

  it('answers 422 for the same key with a different body', async () => {
    const k = key();
    await send(EVENT, k);
    const response = await send({ ...EVENT, eventName: 'Other' }, k);
    expect(response.status).toBe(422);
    expect(((await response.json()) as { type: string }).type).toBe('urn:gateway:problem:idempotency-key-reused');
    expect(upstream.requests).toHaveLength(1);
  });

  it('answers 409 while the first request with that key is in flight', async () => {
    const k = key();
    upstream.reply({ status: 201, delayMs: 300 });
    const first = send(EVENT, k);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await send(EVENT, k);
    expect(second.status).toBe(409);
    expect(second.headers.get('retry-after')).toBe('1');
    expect((await first).status).toBe(201);
    expect(upstream.requests).toHaveLength(1);
  });

  it('frees the key after a transient failure so a retry with it is sent', async () => {
    const k = key();
    upstream.reply({ status: 503 });
    expect((await send(EVENT, k)).status).toBe(502);
    expect((await send(EVENT, k)).status).toBe(201);
    expect(upstream.requests).toHaveLength(2);
  });

  it('keeps a definitive upstream rejection for the key', async () => {
    const k = key();
    upstream.reply({ status: 400, body: '{"message":"nope"}' });
    expect((await send(EVENT, k)).status).toBe(400);
    const again = await send(EVENT, k);
    expect(again.status).toBe(400);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(upstream.requests).toHaveLength(1);
  });

  it('does not record invalid input, and rejects a malformed key', async () => {
    const k = key();
    expect((await send({ eventName: 'x' }, k)).status).toBe(400);
    expect((await send(EVENT, k)).status).toBe(201);
    const bad = await send(EVENT, 'has spaces in it');
    expect(bad.status).toBe(400);
    expect(upstream.requests).toHaveLength(1);
  });

  it('without a key, repeats are sent each time', async () => {
    await send(EVENT);
    await send(EVENT);
    expect(upstream.requests).toHaveLength(2);
  });
});
