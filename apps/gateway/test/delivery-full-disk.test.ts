import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RESERVE_FILE } from '../src/delivery/sqlite-delivery-store.ts';
import { type ProgrammableUpstream, startProgrammableUpstream, type UpstreamReply } from './support/programmable-upstream.ts';
import { TEST_PX_KEY } from './support/secrets.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';
import { canMountTmpfs, mountTmpfs, type Tmpfs } from './support/tmpfs.ts';

const event = (n: number) => ({
  eventName: 'Signup',
  identifyId: `u-${n}`,
  propertyKey: 'AP-TEST-1',
  attributes: { note: 'x'.repeat(1000) },
});
const json = (response: Response): Promise<any> => response.json();
const ASYNC_HEADERS = { 'content-type': 'application/json', prefer: 'respond-async' };

let gateway: TestGateway | undefined;
let upstream: ProgrammableUpstream | undefined;
let disk: Tmpfs | undefined;
afterEach(async () => {
  await gateway?.close();
  await upstream?.close();
  disk?.unmount();
  gateway = undefined;
  upstream = undefined;
  disk = undefined;
});

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const environment = (dataDir: string) => ({
  GAINSIGHT_API_KEY: TEST_PX_KEY,
  GAINSIGHT_PX_BASE_URL: `${upstream?.url}/v1`,
  DATA_DIR: dataDir,
  DELIVERY_CONCURRENCY: '2',
});
const send = (n: number) =>
  fetch(`${gateway?.restUrl}/v1/custom-events`, { method: 'POST', headers: ASYNC_HEADERS, body: JSON.stringify(event(n)) });
const metric = async (pattern: RegExp) => (await (await fetch(`${gateway?.restUrl}/metrics`)).text()).match(pattern)?.[1];
const identifyIds = () => (upstream?.recorded ?? []).map((r) => JSON.parse(r.body).identifyId as string);

describe.skipIf(!canMountTmpfs)('delivery on a DATA_DIR that fills up (a real tmpfs)', () => {
  it('outcomes the full disk refused are kept and written before anything else is sent: a restart re-sends nothing PX took', {
    timeout: 90_000,
  }, async () => {
    disk = mountTmpfs(8 * 1024 * 1024) as Tmpfs;
    const dataDir = join(disk.dir, 'data');
    mkdirSync(dataDir);
    let slow = true;
    upstream = await startProgrammableUpstream((): UpstreamReply => ({ status: 201, ...(slow ? { delayMs: 400 } : {}) }));
    gateway = await startTestGateway(environment(dataDir));
    for (let n = 0; n < 30; n += 1) expect((await send(n)).status).toBe(202);
    await waitFor(
      async () => upstream?.received.length ?? 0,
      (n) => n >= 2,
      'attempts in flight',
    );
    // The disk fills, its reserve already spent: the outcomes of the attempts in flight cannot be written.
    rmSync(join(dataDir, RESERVE_FILE));
    disk.fill();
    await waitFor(
      () => metric(/^gateway_delivery_unsettled (\d+)$/m),
      (n) => Number(n) > 0,
      'an outcome the store refused',
    );
    // Nothing new goes out while an outcome waits to be written.
    const sentWhileFull = upstream.received.length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(upstream.received.length).toBe(sentWhileFull);
    const ready = await fetch(`${gateway.restUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(await json(ready)).toMatchObject({ status: 'delivery store full', deliveryStore: 'full' });
    expect(await metric(/^gateway_delivery_store_condition\{condition="full"\} (\d)$/m)).toBe('1');
    const refused = await send(100);
    expect(refused.status).toBe(503);
    expect((await json(refused)).detail).toContain('full');

    // Space comes back: the kept outcomes are written, the rest is delivered, and the gateway is ready again.
    disk.free();
    slow = false;
    await waitFor(
      async () => upstream?.recorded.length ?? 0,
      (n) => n >= 30,
      'all 30 delivered',
    );
    await waitFor(
      async () => (await fetch(`${gateway?.restUrl}/readyz`)).status,
      (status) => status === 200,
      'ready again',
    );
    await gateway.close();
    gateway = await startTestGateway(environment(dataDir));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(identifyIds().sort()).toEqual(Array.from({ length: 30 }, (_, n) => `u-${n}`).sort());
  });

  it('starts on a full DATA_DIR: comes up, says so in /readyz and metrics, refuses new async work with 503, delivers its queue', {
    timeout: 90_000,
  }, async () => {
    disk = mountTmpfs(8 * 1024 * 1024) as Tmpfs;
    const dataDir = join(disk.dir, 'data');
    mkdirSync(dataDir);
    upstream = await startProgrammableUpstream(() => ({ status: 201 }));
    await upstream.suspend();
    gateway = await startTestGateway(environment(dataDir));
    for (let n = 0; n < 20; n += 1) expect((await send(n)).status).toBe(202);
    await gateway.close();
    disk.fill();
    gateway = await startTestGateway(environment(dataDir));
    const refused = await send(100);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    const ready = await fetch(`${gateway.restUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect((await json(ready)).deliveryStore).toBe('full');
    expect(await metric(/^gateway_delivery_store_condition\{condition="full"\} (\d)$/m)).toBe('1');
    await upstream.resume();
    await waitFor(
      async () => upstream?.recorded.length ?? 0,
      (n) => n >= 20,
      'the queue delivered',
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(identifyIds().sort()).toEqual(Array.from({ length: 20 }, (_, n) => `u-${n}`).sort());
    disk.free();
    await waitFor(
      async () => (await fetch(`${gateway?.restUrl}/readyz`)).status,
      (status) => status === 200,
      'ready once space is free',
    );
    expect((await send(101)).status).toBe(202);
  });

  it('names the real cause when DATA_DIR cannot be opened: a disk full from the first start, a read-only mount', async () => {
    disk = mountTmpfs(1024 * 1024) as Tmpfs;
    disk.fill();
    await expect(startTestGateway({ DATA_DIR: join(disk.dir, 'data') })).rejects.toThrow(/cannot be opened there: .*full/);
    disk.free();
    disk.remountReadOnly();
    await expect(startTestGateway({ DATA_DIR: join(disk.dir, 'data') })).rejects.toThrow(
      /cannot be opened there: .* is on a read-only filesystem \(EROFS\)$/,
    );
  });
});
