import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';
import {
  liveEnvironment,
  postJson,
  startTestGateway,
  TEST_CLIENT_KEY,
  TEST_OTHER_CLIENT_KEY,
  type TestGateway,
} from './support/test-gateway.ts';

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
    // The header is named as a header, not as a pointer into the body (the body has no /idempotencyKey).
    const problem = (await bad.json()) as { detail: string; errors: Record<string, string>[] };
    expect(problem).toMatchObject({ errors: [{ header: 'Idempotency-Key', detail: expect.stringContaining('printable ASCII') }] });
    expect(problem.errors[0]).not.toHaveProperty('pointer');
    expect(problem.detail).toMatch(/^Idempotency-Key header /);
    expect(upstream.requests).toHaveLength(1);
  });

  it('without a key, repeats are sent each time', async () => {
    await send(EVENT);
    await send(EVENT);
    expect(upstream.requests).toHaveLength(2);
  });
});

describe('idempotency records per client', () => {
  const THIRD_CLIENT_KEY = 'third-client-key-00c0ffee00c0ffee';
  let upstream: CaptureServer;
  let gateway: TestGateway;
  const send = (clientKey: string, idempotencyKey: string) =>
    postJson(
      `${gateway.restUrl}/v1/custom-events`,
      { ...EVENT, identifyId: idempotencyKey },
      { 'x-api-key': clientKey, 'idempotency-key': idempotencyKey },
    );
  /** Sends the same request again: true when the gateway replayed the first result instead of calling upstream. */
  const replayed = async (clientKey: string, idempotencyKey: string) => {
    const sent = upstream.requests.length;
    const response = await send(clientKey, idempotencyKey);
    expect(response.status).toBe(201);
    const fromRecord = response.headers.get('idempotent-replayed') === 'true';
    expect(upstream.requests.length).toBe(fromRecord ? sent : sent + 1);
    return fromRecord;
  };

  beforeEach(async () => {
    upstream = await startCaptureServer();
    gateway = await startTestGateway(
      liveEnvironment(upstream.url, {
        UPSTREAM_RETRIES: '0',
        GATEWAY_API_KEYS: [TEST_CLIENT_KEY, TEST_OTHER_CLIENT_KEY, THIRD_CLIENT_KEY].join(','),
        IDEMPOTENCY_MAX_RECORDS_PER_CLIENT: '2',
        IDEMPOTENCY_MAX_RECORDS: '4',
      }),
    );
  });
  afterEach(async () => {
    await gateway.close();
    await upstream.close();
  });

  it("a client past its cap loses its own oldest records, never another client's", async () => {
    expect((await send(TEST_OTHER_CLIENT_KEY, 'b-1')).status).toBe(201);
    for (const k of ['a-1', 'a-2', 'a-3', 'a-4', 'a-5']) expect((await send(TEST_CLIENT_KEY, k)).status).toBe(201);
    expect(await replayed(TEST_OTHER_CLIENT_KEY, 'b-1')).toBe(true);
    expect(await replayed(TEST_CLIENT_KEY, 'a-5')).toBe(true);
    expect(await replayed(TEST_CLIENT_KEY, 'a-4')).toBe(true);
    expect(await replayed(TEST_CLIENT_KEY, 'a-3')).toBe(false);
  });

  it('all clients together stay under the overall cap, the oldest record going first', async () => {
    for (const [client, k] of [
      [TEST_CLIENT_KEY, 'a-1'],
      [TEST_CLIENT_KEY, 'a-2'],
      [TEST_OTHER_CLIENT_KEY, 'b-1'],
      [TEST_OTHER_CLIENT_KEY, 'b-2'],
      [THIRD_CLIENT_KEY, 'c-1'],
    ] as const) {
      expect((await send(client, k)).status).toBe(201);
    }
    for (const [client, k] of [
      [TEST_CLIENT_KEY, 'a-2'],
      [TEST_OTHER_CLIENT_KEY, 'b-1'],
      [TEST_OTHER_CLIENT_KEY, 'b-2'],
      [THIRD_CLIENT_KEY, 'c-1'],
    ] as const) {
      expect(await replayed(client, k)).toBe(true);
    }
    expect(await replayed(TEST_CLIENT_KEY, 'a-1')).toBe(false);
  });
});
