import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, skipRedis, type TestRedis } from '../../test/support/redis-server.ts';
import { deliveryStoreContract } from './delivery-store.contract.ts';
import { DeliveryStoreUnavailableError, type NewDelivery } from './delivery-store.ts';
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
let prefixes = 0;
const open = (prefix: string, options: Partial<RedisDeliveryStoreOptions> = {}): Promise<RedisDeliveryStore> =>
  openRedisDeliveryStore({ connection: redis?.url ?? '', prefix, pluginIds: ['plugin-1'], ...fastLocks, ...options });

const delivery = (n: number): NewDelivery => ({
  id: `stall-${n}`,
  clientId: 'client-a',
  pluginId: 'plugin-1',
  operationId: 'send',
  requestId: `r-${n}`,
  request: { method: 'POST', path: '/events', body: { n } },
});

describe.skipIf(skipRedis)('RedisDeliveryStore (a real redis-server)', () => {
  deliveryStoreContract('Redis (BullMQ, one queue per plugin)', async () => {
    prefixes += 1;
    const prefix = `contract${prefixes}:`;
    return {
      store: await open(prefix),
      // Another instance on the same Redis takes over; the dead one's claim comes back when its lock lapses.
      takeOver: async (stopped) => {
        await stopped.close();
        const other = await open(prefix);
        expect(await other.recoverInterrupted(Date.now())).toBe(0);
        return other;
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
    await survivor.enqueue(items, Date.now());

    // Instance A: another process claims three and never finishes them.
    const moduleUrl = new URL('./redis-delivery-store.ts', import.meta.url).href;
    const script = `
      const { openRedisDeliveryStore } = await import(${JSON.stringify(moduleUrl)});
      const store = await openRedisDeliveryStore(${JSON.stringify({ connection: redis?.url, prefix, pluginIds: ['plugin-1'], lockDurationMs: 2000, stalledIntervalMs: 300 })});
      const claimed = await store.claimDue({ now: Date.now(), limit: 3 });
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
    await new Promise((resolve) => setTimeout(resolve, 4500));
    const others = await survivor.claimDue({ now: Date.now(), limit: 10 });
    expect(others.map((d) => d.id).sort()).toEqual(['stall-4', 'stall-5']);
    for (const d of others) await survivor.markDelivered(d.id, Date.now());
    for (const id of claimedByA) expect(await survivor.get(id, 'client-a')).toMatchObject({ status: 'delivering' });

    // A dies (kill -9): its locks lapse and the survivor's stalled-job check puts the three back in the queue.
    instanceA.kill('SIGKILL');
    await once(instanceA, 'exit');
    const recovered: string[] = [];
    const until = Date.now() + 20_000;
    while (recovered.length < 3 && Date.now() < until) {
      for (const d of await survivor.claimDue({ now: Date.now(), limit: 10 })) {
        expect(d.attempts).toBe(2);
        recovered.push(d.id);
        await survivor.markDelivered(d.id, Date.now());
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(recovered.sort()).toEqual(claimedByA);
    for (const item of items) expect(await survivor.get(item.id, 'client-a')).toMatchObject({ status: 'delivered' });
    expect(await survivor.countPending()).toBe(0);
  });

  it('keeps every key under its prefix, so two gateways share one Redis without seeing each other', async () => {
    const first = await open('gateway-one:');
    const second = await open('gateway-two:');
    stores.push(first, second);
    await first.enqueue([delivery(20), delivery(21)], Date.now());
    await second.enqueue([delivery(20)], Date.now());
    const [claimed] = await first.claimDue({ now: Date.now(), limit: 1 });
    await first.markDelivered(claimed?.id ?? '', Date.now());
    expect(await first.countPending()).toBe(1);
    expect(await second.countPending()).toBe(1);
    expect(await second.get(delivery(20).id, 'client-a')).toMatchObject({ status: 'queued' });
    expect((await second.list('client-a', { limit: 10 })).items).toHaveLength(1);

    const scan = spawnSync('redis-cli', ['-p', String(redis?.port), '--scan'], { encoding: 'utf8' });
    const keys = scan.stdout.split('\n').filter(Boolean);
    expect(keys.filter((key) => key.includes('gateway-one')).length).toBeGreaterThan(0);
    // Every key of this file's stores: the contract's, the takeover test's and these two.
    expect(keys.filter((key) => !/^(contract\d+|stalled|gateway-one|gateway-two):/.test(key))).toEqual([]);
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
    await store.enqueue([delivery(10)], Date.now());
    await redis?.stop();
    try {
      await expect(store.enqueue([delivery(11)], Date.now())).rejects.toBeInstanceOf(DeliveryStoreUnavailableError);
    } finally {
      await redis?.start();
    }
    const until = Date.now() + 15_000;
    for (;;) {
      try {
        await store.enqueue([delivery(12)], Date.now());
        break;
      } catch (error) {
        expect(error).toBeInstanceOf(DeliveryStoreUnavailableError);
        if (Date.now() > until) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    // The test server keeps nothing across a restart; what matters is that the reconnected store takes writes.
    expect(await store.get(delivery(12).id, 'client-a')).toMatchObject({ status: 'queued' });
    expect(await store.get(delivery(11).id, 'client-a')).toBeUndefined();
  });

  it("the prune pass drops pending-set members whose job is gone or finished, so a client's count cannot stay too high", async () => {
    const store = await open('reconcile:', { reconcileEveryMs: 0 });
    stores.push(store);
    await store.enqueue([delivery(21), delivery(22)], Date.now());
    const [claimed] = await store.claimDue({ now: Date.now(), limit: 1 });
    await store.markDead(claimed?.id ?? '', { status: 400, type: 'upstream-rejected-input', detail: 'bad' }, Date.now());
    expect(await store.countPending('client-a')).toBe(1);
    // What a failure between two steps leaves behind: a member for a job that is gone, and one for a dead job.
    const raw = new Redis(redis?.url ?? '');
    try {
      await raw.sadd(
        'reconcile:deliveries:pending:client-a',
        JSON.stringify(['plugin-1', 'gone']),
        JSON.stringify(['plugin-1', claimed?.id]),
      );
      expect(await store.countPending('client-a')).toBe(3);
      await store.pruneDelivered(0);
      expect(await store.countPending('client-a')).toBe(1);
      expect(await raw.smembers('reconcile:deliveries:pending:client-a')).toEqual([JSON.stringify(['plugin-1', delivery(22).id])]);
    } finally {
      raw.disconnect();
    }
  });
});
