import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../src/delivery/sqlite-delivery-store.ts';
import { type ProgrammableUpstream, startProgrammableUpstream, type UpstreamReply } from './support/programmable-upstream.ts';
import { TEST_CLIENT_KEY, TEST_OTHER_CLIENT_KEY, TEST_PX_KEY } from './support/secrets.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

const event = (n: number, extra: Record<string, unknown> = {}) => ({
  eventName: 'Signup',
  identifyId: `u-${n}`,
  propertyKey: 'AP-TEST-1',
  ...extra,
});
const json = (response: Response): Promise<any> => response.json();
const ASYNC_HEADERS = { 'content-type': 'application/json', prefer: 'respond-async' };

let gateway: TestGateway | undefined;
let upstream: ProgrammableUpstream | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await gateway?.close();
  await upstream?.close();
  gateway = undefined;
  upstream = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(environment: Record<string, string> = {}, decide?: (request: { body: string }, n: number) => UpstreamReply) {
  upstream ??= await startProgrammableUpstream(decide);
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

const send = (n: number, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
  fetch(`${gateway?.restUrl}/v1/custom-events`, {
    method: 'POST',
    headers: { ...ASYNC_HEADERS, ...headers },
    body: JSON.stringify(event(n, extra)),
  });
const list = async (query = '', headers: Record<string, string> = {}) =>
  json(await fetch(`${gateway?.restUrl}/v1/deliveries${query}`, { headers }));
const statusOf = async (id: string) => (await json(await fetch(`${gateway?.restUrl}/v1/deliveries/${id}`))).status as string;

describe('delivery ledger: caps, summaries, retention', () => {
  it('a client with a 4-delivery share cannot re-queue 10 dead ones: each retry passes the caps of a new acceptance', async () => {
    // PX rejects every event (400): each becomes dead at once, freeing the share for the next four.
    await start({ DELIVERY_MAX_QUEUED_PER_CLIENT: '4' }, () => ({ status: 400, body: '{"error":"bad"}' }));
    const ids: string[] = [];
    for (let n = 0; n < 10; n += 1) {
      const response = await waitFor(
        () => send(n),
        (r) => r.status === 202,
        `event ${n} accepted`,
      );
      ids.push((await json(response)).id);
    }
    for (const id of ids)
      await waitFor(
        () => statusOf(id),
        (s) => s === 'dead',
        'dead',
      );
    upstream?.received.splice(0);
    await upstream?.suspend();
    const answers: number[] = [];
    for (const id of ids) answers.push((await fetch(`${gateway?.restUrl}/v1/deliveries/${id}/retry`, { method: 'POST' })).status);
    expect(answers).toEqual([202, 202, 202, 202, 429, 429, 429, 429, 429, 429]);
    const refused = await json(await fetch(`${gateway?.restUrl}/v1/deliveries/${ids[9]}/retry`, { method: 'POST' }));
    expect(refused).toMatchObject({ type: 'urn:gateway:problem:too-many-pending' });
    expect(refused.detail).toContain('DELIVERY_MAX_QUEUED_PER_CLIENT');
    expect(refused.detail).toContain('not retried');
    expect(await statusOf(ids[9] as string)).toBe('dead');
    expect((await list('?status=dead')).items).toHaveLength(6);
  });

  it('counts payload bytes per client (DELIVERY_MAX_BYTES_PER_CLIENT) beside the row cap: 429 naming it, other clients go on', async () => {
    await start({ GATEWAY_API_KEYS: `${TEST_CLIENT_KEY},${TEST_OTHER_CLIENT_KEY}`, DELIVERY_MAX_BYTES_PER_CLIENT: '4kb' });
    await upstream?.suspend();
    const mine = { 'x-api-key': TEST_CLIENT_KEY };
    const padding = { attributes: { note: 'x'.repeat(1500) } };
    expect((await send(1, mine, padding)).status).toBe(202);
    expect((await send(2, mine, padding)).status).toBe(202);
    const refused = await send(3, mine, padding);
    expect(refused.status).toBe(429);
    const problem = await json(refused);
    expect(problem.type).toBe('urn:gateway:problem:too-many-pending');
    expect(problem.detail).toContain('DELIVERY_MAX_BYTES_PER_CLIENT');
    expect(problem.detail).toContain('was not queued');
    expect((await send(4, { 'x-api-key': TEST_OTHER_CLIENT_KEY }, padding)).status).toBe(202);
  });

  it('lists a summary a person recognises, never the stored request; the request is dropped once delivered', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gateway-ledger-'));
    dirs.push(dataDir);
    await start({ DATA_DIR: dataDir });
    const accepted = await json(await send(1, {}, { accountId: 'acct-9', attributes: { plan: 'pro' } }));
    await waitFor(
      () => statusOf(accepted.id),
      (s) => s === 'delivered',
      'delivered',
    );
    const [item] = (await list()).items;
    expect(item).toMatchObject({
      id: accepted.id,
      plugin: 'gainsight-px',
      operation: 'gainsight-px.sendCustomEvent',
      summary: { eventName: 'Signup', identifyId: 'u-1', accountId: 'acct-9', bytes: expect.any(Number) },
    });
    expect(JSON.stringify(item)).not.toContain('plan');
    expect(JSON.stringify(item)).not.toContain(TEST_PX_KEY);
    await gateway?.close();
    gateway = undefined;
    const file = new Database(join(dataDir, DATABASE_FILE), { readonly: true });
    try {
      expect(file.prepare('SELECT COUNT(*) FROM delivery_payloads').pluck().get()).toBe(0);
      expect(file.prepare('SELECT COUNT(*) FROM deliveries').pluck().get()).toBe(1);
    } finally {
      file.close();
    }
  });

  it('a stored request that was altered is never sent: the delivery is dead (tampered); listing does not read it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gateway-ledger-'));
    dirs.push(dataDir);
    await start({ DATA_DIR: dataDir });
    await upstream?.suspend();
    const accepted = await json(await send(1));
    await gateway?.close();
    const file = new Database(join(dataDir, DATABASE_FILE));
    file.prepare(`UPDATE delivery_payloads SET payload = '{"method":"POST","path":'`).run();
    file.close();
    await upstream?.resume();
    await start({ DATA_DIR: dataDir });
    const dead = await waitFor(
      async () => json(await fetch(`${gateway?.restUrl}/v1/deliveries/${accepted.id}`)),
      (d) => d.status === 'dead',
      'dead',
    );
    expect(dead.lastError).toMatchObject({ type: 'tampered' });
    expect((await list()).items).toHaveLength(1);
    expect(upstream?.received).toHaveLength(0);
  });

  it('with DELIVERY_SEAL_KEY, stored requests are unreadable in the file; one altered or moved there is dead (tampered), never sent', {
    timeout: 60_000,
  }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gateway-ledger-'));
    dirs.push(dataDir);
    const sealed = { DATA_DIR: dataDir, DELIVERY_SEAL_KEY: randomBytes(32).toString('hex') };
    await start(sealed);
    await upstream?.suspend();
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push((await json(await send(n, {}, { accountId: `acct-${n}` }))).id);
    await gateway?.close();
    const file = new Database(join(dataDir, DATABASE_FILE));
    const payloads = file.prepare('SELECT d.id, p.payload FROM delivery_payloads p JOIN deliveries d USING (seq) ORDER BY seq').all() as {
      id: string;
      payload: string;
    }[];
    expect(payloads.map((p) => p.payload).join()).not.toContain('acct-');
    // One byte of the first changed; the third's payload replaced by the second's (a valid seal, for another delivery).
    const [first, second] = payloads as [{ id: string; payload: string }, { id: string; payload: string }];
    const flipped = Buffer.from(first.payload.slice(3), 'base64');
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1;
    const update = file.prepare('UPDATE delivery_payloads SET payload = ? WHERE seq = (SELECT seq FROM deliveries WHERE id = ?)');
    update.run(`s1.${flipped.toString('base64')}`, first.id);
    update.run(second.payload, ids[2]);
    file.close();
    await upstream?.resume();
    await start(sealed);
    for (const id of [ids[0], ids[2]] as string[]) {
      const dead = await waitFor(
        async () => json(await fetch(`${gateway?.restUrl}/v1/deliveries/${id}`)),
        (d) => d.status === 'dead',
        'dead',
      );
      expect(dead.lastError).toMatchObject({ type: 'tampered' });
    }
    await waitFor(
      () => statusOf(ids[1] as string),
      (s) => s === 'delivered',
      'the untouched one delivered',
    );
    expect(upstream?.received.map((r) => JSON.parse(r.body).accountId)).toEqual(['acct-2']);
  });

  it('prunes dead deliveries after DELIVERY_DEAD_RETENTION, and reports what is held by status in /metrics', async () => {
    await start({ DELIVERY_DEAD_RETENTION: '2s' }, (request) =>
      request.body.includes('"u-1"') ? { status: 400, body: '{"error":"bad"}' } : { status: 201 },
    );
    const dead = await json(await send(1));
    const delivered = await json(await send(2));
    await waitFor(
      () => statusOf(dead.id),
      (s) => s === 'dead',
      'dead',
    );
    await waitFor(
      () => statusOf(delivered.id),
      (s) => s === 'delivered',
      'delivered',
    );
    const metrics = await (await fetch(`${gateway?.restUrl}/metrics`)).text();
    expect(metrics).toMatch(/^gateway_deliveries\{status="dead"\} 1$/m);
    expect(metrics).toMatch(/^gateway_deliveries\{status="delivered"\} 1$/m);
    expect(metrics).toMatch(/^gateway_deliveries\{status="queued"\} 0$/m);
    expect(metrics).toMatch(/^gateway_delivery_store_condition\{condition="ok"\} 1$/m);
    await waitFor(
      async () => (await fetch(`${gateway?.restUrl}/v1/deliveries/${dead.id}`)).status,
      (status) => status === 404,
      'the dead delivery pruned',
    );
    expect(await statusOf(delivered.id)).toBe('delivered');
    expect(await (await fetch(`${gateway?.restUrl}/metrics`)).text()).toMatch(/^gateway_deliveries\{status="dead"\} 0$/m);
  });

  it("list cursors are opaque and bound to their client: another client's cursor is refused", async () => {
    await start({ GATEWAY_API_KEYS: `${TEST_CLIENT_KEY},${TEST_OTHER_CLIENT_KEY}` });
    await upstream?.suspend();
    const mine = { 'x-api-key': TEST_CLIENT_KEY };
    const theirs = { 'x-api-key': TEST_OTHER_CLIENT_KEY };
    for (const n of [1, 2, 3]) expect((await send(n, mine)).status).toBe(202);
    for (const n of [4, 5]) expect((await send(n, theirs)).status).toBe(202);
    const page = await list('?limit=1', mine);
    expect(page.nextCursor).toEqual(expect.any(String));
    // The same position handed out twice reads differently: nothing in it counts rows.
    expect((await list('?limit=1', mine)).nextCursor).not.toBe(page.nextCursor);
    expect(
      (await list(`?limit=5&cursor=${page.nextCursor}`, mine)).items.map((d: { summary: { identifyId: string } }) => d.summary.identifyId),
    ).toEqual(['u-2', 'u-3']);
    const refused = await fetch(`${gateway?.restUrl}/v1/deliveries?limit=5&cursor=${page.nextCursor}`, { headers: theirs });
    expect(refused.status).toBe(400);
  });
});
