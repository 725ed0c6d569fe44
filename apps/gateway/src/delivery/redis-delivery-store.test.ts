import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { skipRedis, startTestRedis, type TestRedis } from '../../test/support/redis-server.ts';
import { deliveryStoreContract } from './delivery-store.contract.ts';
import { type DeliveryCaps, type DeliveryStore, DeliveryStoreUnavailableError, type NewDelivery } from './delivery-store.ts';
import { openRedisDeliveryStore, type RedisDeliveryStore, type RedisDeliveryStoreOptions } from './redis-delivery-store.ts';

let redis: TestRedis | undefined;
beforeAll(async () => {
  if (!skipRedis) redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.close();
});

/** Short locks so that a dead instance's claims come back within a test; production keeps the 30 s default. */
const fastLocks = { lockDurationMs: 1000, stalledIntervalMs: 300 } as const;
const OPEN: DeliveryCaps = { maxPending: 1_000_000, maxPendingPerClient: 1_000_000, maxBytesPerClient: 1e12 };
let prefixes = 0;
const open = (prefix: string, options: Partial<RedisDeliveryStoreOptions> = {}, url = redis?.url ?? ''): Promise<RedisDeliveryStore> =>
  openRedisDeliveryStore({ connection: url, prefix, pluginIds: ['plugin-1'], ...fastLocks, ...options });

const delivery = (n: number | string): NewDelivery => {
  const payload = JSON.stringify({ method: 'POST', path: '/events', body: { n } });
  return {
    id: `stall-${n}`,
    clientId: 'client-a',
    pluginId: 'plugin-1',
    operationId: 'send',
    requestId: `r-${n}`,
    payload,
    summary: { bytes: Buffer.byteLength(payload), eventName: `e-${n}` },
  };
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every key in this Redis (SCAN through a plain client). */
async function keys(url: string, pattern = '*'): Promise<string[]> {
  const raw = new Redis(url);
  try {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await raw.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
    return found;
  } finally {
    raw.disconnect();
  }
}

/** Waits until `store` answers again after Redis came back (ioredis reconnects by itself). */
async function reconnected(store: DeliveryStore): Promise<void> {
  const until = Date.now() + 15_000;
  for (;;) {
    try {
      await store.usage('probe');
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await sleep(50);
    }
  }
}

describe.skipIf(skipRedis)('RedisDeliveryStore (a real redis-server)', () => {
  deliveryStoreContract('Redis (ledger in Redis, BullMQ queue per plugin)', async () => {
    prefixes += 1;
    const prefix = `contract${prefixes}:`;
    let current: DeliveryStore = await open(prefix);
    return {
      store: current,
      // Another instance on the same Redis takes over; the dead one's claim comes back when its lock lapses.
      takeOver: async (stopped) => {
        await stopped.close();
        current = await open(prefix);
        expect(await current.recoverInterrupted(Date.now())).toBe(0);
        return current;
      },
      heldPayloads: async () => (await keys(redis?.url ?? '', `${prefix}deliveries:p:*`)).length,
      // A stopped server refuses every write; the AOF (fsync always) brings back what it had.
      refuseWrites: async () => {
        await redis?.stop();
        return async () => {
          await redis?.start();
          await reconnected(current);
        };
      },
    };
  });

  const stores: RedisDeliveryStore[] = [];
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  it('a killed instance keeps its claims while alive; once it is gone, another instance delivers them, none lost', async () => {
    const prefix = 'stalled:';
    const survivor = await open(prefix, { lockDurationMs: 2000 });
    stores.push(survivor);
    const items = [1, 2, 3, 4, 5].map(delivery);
    await survivor.enqueue(items, Date.now(), OPEN);

    // Instance A: another process claims three and never finishes them.
    const moduleUrl = new URL('./redis-delivery-store.ts', import.meta.url).href;
    const script = `
      const { openRedisDeliveryStore } = await import(${JSON.stringify(moduleUrl)});
      const store = await openRedisDeliveryStore(${JSON.stringify({ connection: redis?.url, prefix, pluginIds: ['plugin-1'], lockDurationMs: 2000, stalledIntervalMs: 300 })});
      const claimed = await store.claim({ now: Date.now(), limit: 3 });
      process.stdout.write(JSON.stringify(claimed.map((d) => d.id)) + '\\n');
      setInterval(() => {}, 1000);
    `;
    const instanceA = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../../../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(instanceA);
    const [line] = (await once(createInterface({ input: instanceA.stdout as NodeJS.ReadableStream }), 'line')) as [string];
    const claimedByA = JSON.parse(line) as string[];
    expect(claimedByA).toEqual(['stall-1', 'stall-2', 'stall-3']);
    for (const id of claimedByA) expect(await survivor.get(id, 'client-a')).toMatchObject({ status: 'delivering', attempts: 1 });

    // While A lives it renews its locks: past two lock durations, the survivor still gets only the other two.
    await sleep(4500);
    const others = await survivor.claim({ now: Date.now(), limit: 10 });
    expect(others.map((d) => d.id).sort()).toEqual(['stall-4', 'stall-5']);
    for (const d of others) await survivor.settle(d.id, { outcome: 'delivered' }, Date.now());
    for (const id of claimedByA) expect(await survivor.get(id, 'client-a')).toMatchObject({ status: 'delivering' });

    // A dies (kill -9): its locks lapse and the survivor's stalled-job check puts the three back in the queue.
    instanceA.kill('SIGKILL');
    await once(instanceA, 'exit');
    const recovered: string[] = [];
    const until = Date.now() + 20_000;
    while (recovered.length < 3 && Date.now() < until) {
      for (const d of await survivor.claim({ now: Date.now(), limit: 10 })) {
        expect(d.attempts).toBe(2);
        recovered.push(d.id);
        await survivor.settle(d.id, { outcome: 'delivered' }, Date.now());
      }
      await sleep(100);
    }
    expect(recovered.sort()).toEqual(claimedByA);
    for (const item of items) expect(await survivor.get(item.id, 'client-a')).toMatchObject({ status: 'delivered' });
    expect((await survivor.stats()).pending).toBe(0);
  });

  it('keeps every key under its prefix; `gw` and `gw:` are one namespace, other prefixes do not see each other', async () => {
    const first = await open('gateway-one');
    const same = await open('gateway-one:');
    const second = await open('gateway-two:');
    stores.push(first, same, second);
    await first.enqueue([delivery(20), delivery(21)], Date.now(), OPEN);
    await second.enqueue([delivery(20)], Date.now(), OPEN);
    const [claimed] = await same.claim({ now: Date.now(), limit: 1 });
    expect(claimed?.id).toBe(delivery(20).id);
    await same.settle(claimed?.id ?? '', { outcome: 'delivered' }, Date.now());
    expect(await first.get(delivery(20).id, 'client-a')).toMatchObject({ status: 'delivered' });
    expect((await first.stats()).pending).toBe(1);
    expect((await second.stats()).pending).toBe(1);
    expect(await second.get(delivery(20).id, 'client-a')).toMatchObject({ status: 'queued' });
    expect((await second.list('client-a', { limit: 10 })).items).toHaveLength(1);

    const all = await keys(redis?.url ?? '');
    expect(all.filter((key) => key.startsWith('gateway-one:')).length).toBeGreaterThan(0);
    // Every key of this file's stores: the contract's, the takeover test's and these.
    expect(all.filter((key) => !/^(contract\d+|stalled|gateway-one|gateway-two|outage|reconcile|legacy):/.test(key))).toEqual([]);
  });

  it('does not open on a Redis that cannot be reached: start-up can name REDIS_URL', async () => {
    await redis?.stop();
    try {
      await expect(openRedisDeliveryStore({ connection: redis?.url ?? '', pluginIds: ['plugin-1'] })).rejects.toBeInstanceOf(
        DeliveryStoreUnavailableError,
      );
    } finally {
      await redis?.start();
    }
  });

  it('refuses to accept while Redis is down (503, not 202), and accepts again once it is back', async () => {
    const store = await open('outage:');
    stores.push(store);
    await store.enqueue([delivery(10)], Date.now(), OPEN);
    await redis?.stop();
    try {
      await expect(store.enqueue([delivery(11)], Date.now(), OPEN)).rejects.toBeInstanceOf(DeliveryStoreUnavailableError);
      await expect(store.get(delivery(10).id, 'client-a')).rejects.toBeInstanceOf(DeliveryStoreUnavailableError);
      await expect(store.list('client-a', { limit: 10 })).rejects.toBeInstanceOf(DeliveryStoreUnavailableError);
    } finally {
      await redis?.start();
    }
    await reconnected(store);
    await store.enqueue([delivery(12)], Date.now(), OPEN);
    // The server's append-only file (fsync always) kept what it acknowledged, and nothing it refused.
    expect(await store.get(delivery(10).id, 'client-a')).toMatchObject({ status: 'queued' });
    expect(await store.get(delivery(12).id, 'client-a')).toMatchObject({ status: 'queued' });
    expect(await store.get(delivery(11).id, 'client-a')).toBeUndefined();
  });

  it('an accepted delivery whose BullMQ job was lost is added again from the ledger, and delivered', async () => {
    const store = await open('reconcile:', { reconcileEveryMs: 100 });
    stores.push(store);
    await store.enqueue([delivery(30)], Date.now(), OPEN);
    // What a crash between the ledger write and the job add leaves: the record and its marker, no job.
    const queue = new Queue('deliveries-plugin-1', { connection: { host: '127.0.0.1', port: redis?.port ?? 0 }, prefix: 'reconcile' });
    const raw = new Redis(redis?.url ?? '');
    try {
      expect(await queue.remove(delivery(30).id)).toBe(1);
      await raw.zadd('reconcile:deliveries:unqueued', 0, delivery(30).id);
      const until = Date.now() + 15_000;
      let claimed: string[] = [];
      while (claimed.length === 0 && Date.now() < until) {
        claimed = (await store.claim({ now: Date.now(), limit: 5 })).map((d) => d.id);
        await sleep(100);
      }
      expect(claimed).toEqual([delivery(30).id]);
      expect(await raw.zcard('reconcile:deliveries:unqueued')).toBe(0);
    } finally {
      raw.disconnect();
      await queue.close();
    }
  });

  it('a job of the previous layout (the delivery in its data) is imported into the ledger when claimed, not dropped', async () => {
    const store = await open('legacy:');
    stores.push(store);
    const queue = new Queue('deliveries-plugin-1', { connection: { host: '127.0.0.1', port: redis?.port ?? 0 }, prefix: 'legacy' });
    try {
      const createdAt = Date.now() - 60_000;
      const request = { method: 'POST', path: '/events', body: { n: 40 } };
      const data = { seq: 1, clientId: 'client-a', pluginId: 'plugin-1', operationId: 'send', requestId: 'r-40', request, createdAt };
      await queue.add(
        'send',
        { ...data, updatedAt: createdAt, windowStartedAt: createdAt, nextAttemptAt: createdAt, released: 0 },
        { jobId: 'legacy-40' },
      );
      const [claimed] = await store.claim({ now: Date.now(), limit: 5 });
      expect(claimed).toMatchObject({ id: 'legacy-40', status: 'delivering', attempts: 1, createdAt, payload: JSON.stringify(request) });
      await store.settle('legacy-40', { outcome: 'delivered' }, Date.now());
      expect(await store.get('legacy-40', 'client-a')).toMatchObject({ status: 'delivered', requestId: 'r-40' });
      expect((await store.stats()).pending).toBe(0);
    } finally {
      await queue.close();
    }
  });
});

/**
 * redis-server killed (SIGKILL) while deliveries are in flight, down past the claims' lock, restarted from its
 * append-only file: every accepted delivery is delivered, and none that was delivered is sent again.
 */
describe.skipIf(skipRedis).each(['always', 'everysec'] as const)('a redis-server restart (appendfsync %s)', (appendfsync) => {
  let server: TestRedis;
  beforeAll(async () => {
    server = await startTestRedis({ appendfsync });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('re-sends nothing that was delivered, loses nothing accepted', async () => {
    const store = await open('restart:', { lockDurationMs: 1000, stalledIntervalMs: 300 }, server.url);
    const total = 300;
    const items = Array.from({ length: total }, (_, i) => delivery(`r${i}`));
    for (let i = 0; i < total; i += 50) await store.enqueue(items.slice(i, i + 50), Date.now(), OPEN);
    const sent = new Map<string, number>();
    let killed = false;
    const settleUntilWritten = async (id: string) => {
      // What the worker does with an outcome it could not write: keeps it and writes it once Redis takes writes.
      for (;;) {
        try {
          return await store.settle(id, { outcome: 'delivered' }, Date.now());
        } catch (error) {
          expect(error).toBeInstanceOf(DeliveryStoreUnavailableError);
          await sleep(100);
        }
      }
    };
    const until = Date.now() + 60_000;
    const inFlight = new Set<Promise<void>>();
    try {
      while (Date.now() < until) {
        let claimed: Awaited<ReturnType<RedisDeliveryStore['claim']>> = [];
        try {
          claimed = await store.claim({ now: Date.now(), limit: 16 - inFlight.size });
        } catch (error) {
          expect(error).toBeInstanceOf(DeliveryStoreUnavailableError);
        }
        // The attempts sent just before redis-server dies are slow: they are still in flight when it is back, their
        // locks lapsed meanwhile, and BullMQ's stalled check hands their jobs out again.
        const slow = !killed && sent.size + claimed.length >= total / 3;
        for (const d of claimed) {
          sent.set(d.id, (sent.get(d.id) ?? 0) + 1);
          // The upstream answers 2xx a moment later.
          const attempt = sleep(slow ? 4000 : 30).then(() => settleUntilWritten(d.id));
          inFlight.add(attempt);
          void attempt.finally(() => inFlight.delete(attempt));
        }
        if (slow) {
          killed = true;
          await server.stop();
          // Longer than the lock: every claim in flight has lapsed when Redis is back.
          await sleep(2500);
          await server.start();
        }
        if (killed && inFlight.size === 0 && sent.size === total) {
          const stats = await store.stats().catch(() => undefined);
          if (stats?.pending === 0) break;
        }
        await sleep(claimed.length === 0 ? 50 : 0);
      }
      const stats = await store.stats();
      const resent = [...sent.values()].filter((n) => n > 1).length;
      process.stdout.write(`redis restart (appendfsync ${appendfsync}): ${total} accepted, ${sent.size} sent, ${resent} re-sent\n`);
      expect(stats).toMatchObject({ pending: 0, byStatus: { delivered: total } });
      expect(sent.size).toBe(total);
      expect(resent).toBe(0);
    } finally {
      await Promise.allSettled(inFlight);
      await store.close();
    }
  });
});
