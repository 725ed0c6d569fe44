import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordedEvents, sendBatches } from './support/delivery-load.ts';
import { type GatewayProcess, startGatewayProcess } from './support/gateway-process.ts';
import { type ProgrammableUpstream, startProgrammableUpstream } from './support/programmable-upstream.ts';
import { skipRedis, startTestRedis, type TestRedis } from './support/redis-server.ts';
import { TEST_CLIENT_KEY, TEST_PX_KEY } from './support/secrets.ts';
import { startTestGateway } from './support/test-gateway.ts';

/** Two real gateway processes sharing one real redis-server, in front of one upstream. */
const event = (n: number) => ({ eventName: 'Scale Out', identifyId: `u-${n}`, propertyKey: 'AP-TEST-1' });
const json = (response: Response): Promise<any> => response.json();

describe.skipIf(skipRedis)('several instances on one Redis (REDIS_URL)', () => {
  let redis: TestRedis;
  let upstream: ProgrammableUpstream;
  const processes: GatewayProcess[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.close();
  });
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.kill()));
    await upstream?.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    await redis.start().catch(() => undefined);
  });

  /** Instances A and B with their own DATA_DIR, one Redis (a fresh prefix per test), one upstream. */
  async function twoInstances(environment: Record<string, string> = {}, onlyB: Record<string, string> = {}) {
    upstream ??= await startProgrammableUpstream();
    const prefix = `test-${Math.random().toString(36).slice(2)}:`;
    const start = (own: Record<string, string> = {}) => {
      const dataDir = mkdtempSync(join(tmpdir(), 'gateway-redis-'));
      dirs.push(dataDir);
      return startGatewayProcess({
        GAINSIGHT_API_KEY: TEST_PX_KEY,
        GAINSIGHT_PX_BASE_URL: `${upstream.url}/v1`,
        GATEWAY_API_KEYS: TEST_CLIENT_KEY,
        REDIS_URL: redis.url,
        REDIS_PREFIX: prefix,
        DATA_DIR: dataDir,
        ...environment,
        ...own,
      });
    };
    const [a, b] = await Promise.all([start(), start(onlyB)]);
    processes.push(a, b);
    return { a, b };
  }

  const post = (gateway: GatewayProcess, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${gateway.restUrl}/v1/custom-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': TEST_CLIENT_KEY, ...headers },
      body: JSON.stringify(body),
    });

  it('an Idempotency-Key sent to A, then retried on B: one upstream call, B replays A’s answer', async () => {
    upstream = await startProgrammableUpstream();
    const { a, b } = await twoInstances();
    const first = await post(a, event(1), { 'idempotency-key': 'retry-me' });
    expect(first.status).toBe(201);
    const second = await post(b, event(1), { 'idempotency-key': 'retry-me' });
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    const other = await post(b, event(2), { 'idempotency-key': 'retry-me' });
    expect(other.status).toBe(422);
    expect(upstream.received).toHaveLength(1);
  });

  it('REDIS_PREFIX `gw` and `gw:` name the same keys everywhere: A and B share idempotency records and deliveries', async () => {
    upstream = await startProgrammableUpstream();
    const base = `pfx-${Math.random().toString(36).slice(2)}`;
    const { a, b } = await twoInstances({ REDIS_PREFIX: base }, { REDIS_PREFIX: `${base}:` });
    expect((await post(a, event(1), { 'idempotency-key': 'one-fleet' })).status).toBe(201);
    const replay = await post(b, event(1), { 'idempotency-key': 'one-fleet' });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(upstream.received).toHaveLength(1);
    const accepted = await post(a, event(2), { prefer: 'respond-async' });
    expect(accepted.status).toBe(202);
    const { id } = await json(accepted);
    const seenByB = await fetch(`${b.restUrl}/v1/deliveries/${id}`, { headers: { 'x-api-key': TEST_CLIENT_KEY } });
    expect(seenByB.status).toBe(200);
    const scan = spawnSync('redis-cli', ['-p', String(redis.port), '--scan', '--pattern', `${base}*`], { encoding: 'utf8' });
    const keys = scan.stdout.split('\n').filter(Boolean);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((key) => !key.startsWith(`${base}:`))).toEqual([]);
  });

  it('INBOUND_RATE_LIMIT is one budget per client across instances: the (limit+1)-th request is 429', async () => {
    upstream = await startProgrammableUpstream();
    const { a, b } = await twoInstances({ INBOUND_RATE_LIMIT: '5' });
    const statuses: number[] = [];
    for (const gateway of [a, b, a, b, a]) statuses.push((await post(gateway, event(1))).status);
    expect(statuses).toEqual([201, 201, 201, 201, 201]);
    const over = await post(b, event(1));
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBeTruthy();
  });

  it('UPSTREAM_RATE_LIMIT is one budget for the fleet: A and B both driven at 2× the limit for 10 s, the upstream sees no more than the limit', {
    timeout: 60_000,
  }, async () => {
    upstream = await startProgrammableUpstream();
    const limit = 20;
    // A generous upstream timeout: on a loaded machine a call the upstream answered must not time out at the gateway
    // (it would be sent but not counted as a 201). Slots later than half the timeout are still refused with 429.
    const { a, b } = await twoInstances({ UPSTREAM_RATE_LIMIT: String(limit), UPSTREAM_TIMEOUT_MS: '10000', INBOUND_RATE_LIMIT: '0' });
    const started = Date.now();
    const answers: Promise<number>[] = [];
    // Each instance gets 2 × limit requests a second, in ticks of 100 ms.
    for (let tick = 0; tick < 100; tick += 1) {
      for (const gateway of [a, b])
        for (let i = 0; i < (2 * limit) / 10; i += 1) answers.push(post(gateway, event(tick)).then((r) => r.status));
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + (tick + 1) * 100 - Date.now())));
    }
    const statuses = await Promise.all(answers);
    const seconds = (Date.now() - started) / 1000;
    const sent = upstream.received.length;
    expect(statuses.filter((s) => s === 201)).toHaveLength(sent);
    expect(statuses.every((s) => s === 201 || s === 429)).toBe(true);
    // Fixed one-second windows: at most `limit` per window, over the run's windows (+5%).
    expect(sent).toBeLessThanOrEqual(Math.ceil(limit * Math.ceil(seconds) * 1.05));
    expect(sent).toBeGreaterThanOrEqual(limit * 8);
  });

  it('Redis lost at runtime: /readyz 503, idempotent requests 503 with Retry-After, plain calls keep working; all recovers when it is back', {
    timeout: 60_000,
  }, async () => {
    upstream = await startProgrammableUpstream();
    const { a } = await twoInstances();
    expect((await fetch(`${a.restUrl}/readyz`)).status).toBe(200);
    await redis.stop();
    await waitFor(async () => (await fetch(`${a.restUrl}/readyz`)).status === 503, 'readiness 503');
    const idempotent = await post(a, event(1), { 'idempotency-key': 'during-outage' });
    expect(idempotent.status).toBe(503);
    expect(idempotent.headers.get('retry-after')).toBeTruthy();
    expect((await json(idempotent)).type).toBe('urn:gateway:problem:store-unavailable');
    expect(upstream.received).toHaveLength(0);
    const plain = await post(a, event(2));
    expect(plain.status).toBe(201);
    expect(upstream.received).toHaveLength(1);

    await redis.start();
    await waitFor(async () => (await fetch(`${a.restUrl}/readyz`)).status === 200, 'readiness back');
    expect((await post(a, event(3), { 'idempotency-key': 'after-outage' })).status).toBe(201);
    expect(a.output()).toContain('Redis connection lost');
    expect(a.output()).toContain('Redis connection back');
  });

  it('2,000 events accepted by A, A killed with SIGKILL mid-delivery: B delivers every one, none lost', { timeout: 120_000 }, async () => {
    upstream = await startProgrammableUpstream(() => ({ status: 201, delayMs: 50 }));
    const { a, b } = await twoInstances({ INBOUND_RATE_LIMIT: '0', DELIVERY_LOCK_MS: '2000' });
    const ids = await sendBatches(a.restUrl, 2000, 500, 0, { 'x-api-key': TEST_CLIENT_KEY });
    expect(ids).toHaveLength(2000);
    await waitFor(async () => upstream.received.length >= 50, 'deliveries under way');
    await a.kill();
    await waitFor(async () => recordedEvents(upstream).distinct.size === 2000, 'all 2,000 delivered by B', 90_000);
    // B reads A's deliveries from the shared queue: the same client sees every one as delivered.
    const sample = ids.filter((_, i) => i % 100 === 0);
    for (const id of sample) {
      const delivery = await json(await fetch(`${b.restUrl}/v1/deliveries/${id}`, { headers: { 'x-api-key': TEST_CLIENT_KEY } }));
      expect(delivery.status).toBe('delivered');
    }
  });

  it('redis-server killed with deliveries in flight, down past their locks, back from its AOF: each event sent once', {
    timeout: 120_000,
  }, async () => {
    let slow = false;
    // The attempts under way when Redis dies answer only after it is back: their locks lapsed meanwhile.
    upstream = await startProgrammableUpstream(() => ({ status: 201, delayMs: slow ? 6000 : 20 }));
    const dataDir = mkdtempSync(join(tmpdir(), 'gateway-redis-'));
    dirs.push(dataDir);
    const gateway = await startGatewayProcess({
      GAINSIGHT_API_KEY: TEST_PX_KEY,
      GAINSIGHT_PX_BASE_URL: `${upstream.url}/v1`,
      GATEWAY_API_KEYS: TEST_CLIENT_KEY,
      REDIS_URL: redis.url,
      REDIS_PREFIX: `restart-${Math.random().toString(36).slice(2)}:`,
      DATA_DIR: dataDir,
      INBOUND_RATE_LIMIT: '0',
      DELIVERY_LOCK_MS: '1500',
    });
    processes.push(gateway);
    const total = 300;
    await sendBatches(gateway.restUrl, total, 100, 0, { 'x-api-key': TEST_CLIENT_KEY });
    await waitFor(async () => upstream.received.length >= 100, 'deliveries under way');
    slow = true;
    await waitFor(async () => upstream.received.length >= 108, 'slow attempts in flight');
    await redis.stop();
    slow = false;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await redis.start();
    await waitFor(async () => recordedEvents(upstream).distinct.size === total, 'every event delivered', 90_000);
    const settled = async () => {
      for (const status of ['queued', 'delivering']) {
        const response = await fetch(`${gateway.restUrl}/v1/deliveries?status=${status}&limit=1`, {
          headers: { 'x-api-key': TEST_CLIENT_KEY },
        });
        if (response.status !== 200 || (await json(response)).items.length > 0) return false;
      }
      return true;
    };
    await waitFor(settled, 'no delivery pending');
    expect(recordedEvents(upstream).duplicates).toBe(0);
    expect(upstream.received).toHaveLength(total);
  });

  it('async accept answers 503 (never 202) while Redis is away, and 202 again once it is back', { timeout: 60_000 }, async () => {
    upstream = await startProgrammableUpstream();
    // A delivery claimed as Redis goes away is sent once its claim lapses: a short lock keeps that wait short here.
    const { a, b } = await twoInstances({ DELIVERY_LOCK_MS: '3000' });
    const send = () => post(a, event(1), { prefer: 'respond-async' });
    expect((await send()).status).toBe(202);
    await redis.stop();
    await waitFor(async () => (await fetch(`${a.restUrl}/readyz`)).status === 503, 'readiness 503');
    const refused = await send();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    expect((await json(refused)).type).toBe('urn:gateway:problem:delivery-unavailable');
    await redis.start();
    await waitFor(async () => (await fetch(`${a.restUrl}/readyz`)).status === 200, 'readiness back');
    await waitFor(async () => (await send()).status === 202, 'accepting again');
    await waitFor(async () => upstream.received.length >= 2, 'the queued events delivered').catch((error) => {
      process.stdout.write(
        `\nA:\n${a
          .output()
          .split('\n')
          .filter((l) => /delivery|Redis|error/i.test(l))
          .slice(-30)
          .join('\n')}\nB:\n${b
          .output()
          .split('\n')
          .filter((l) => /delivery|Redis|error/i.test(l))
          .slice(-30)
          .join('\n')}\n`,
      );
      throw error;
    });
  });

  it('Redis unreachable at start: a start-up error naming REDIS_URL, and no password in it', async () => {
    const error = await startTestGateway({ REDIS_URL: 'redis://:hunter2-secret-password@127.0.0.1:1/0' }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^REDIS_URL: cannot reach Redis at 127\.0\.0\.1:1\/0 \(ECONNREFUSED\)/);
    expect((error as Error).message).not.toContain('hunter2');
  });
});

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
