import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DeliveryStore, InvalidCursorError, type NewDelivery } from './delivery-store.ts';

let counter = 0;
const delivery = (overrides: Partial<NewDelivery> = {}): NewDelivery => {
  counter += 1;
  return {
    id: `d-${counter}`,
    clientId: 'client-a',
    pluginId: 'plugin-1',
    operationId: 'send',
    requestId: `r-${counter}`,
    request: { method: 'POST', path: '/events', body: { n: counter } },
    ...overrides,
  };
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` gives a value (bounded): for what a backend does on its own clock, never a timing assertion. */
async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export interface ContractSubject {
  readonly store: DeliveryStore;
  /**
   * The process holding `stopped` dies mid-attempt and another takes over: a restart on the same file, or another
   * instance on the same Redis. Resolves with the store that took over; the contract then waits (bounded) until
   * the interrupted claims are queued again.
   */
  readonly takeOver: (stopped: DeliveryStore) => Promise<DeliveryStore>;
}

/**
 * The behaviour every DeliveryStore backend must have; each backend's test file runs it on a fresh store.
 * Times are real (Date.now()-relative): a networked backend such as BullMQ keeps its own clock for due times.
 */
export function deliveryStoreContract(name: string, open: () => Promise<ContractSubject>): void {
  describe(`DeliveryStore contract: ${name}`, () => {
    let store: DeliveryStore;
    let takeOver: ContractSubject['takeOver'];
    beforeEach(async () => {
      ({ store, takeOver } = await open());
    });
    afterEach(async () => {
      await store.close();
    });

    it('enqueues atomically and claims the oldest due first, each once', async () => {
      const items = [delivery(), delivery(), delivery()];
      await store.enqueue(items, Date.now());
      expect((await store.stats()).pending).toBe(3);
      expect(await store.countPending()).toBe(3);
      const first = await store.claimDue({ now: Date.now(), limit: 2 });
      expect(first.map((d) => d.id)).toEqual([items[0]?.id, items[1]?.id]);
      expect(first[0]).toMatchObject({ status: 'delivering', attempts: 1, request: items[0]?.request });
      expect(await store.get(items[0]?.id ?? '', 'client-a')).toMatchObject({ status: 'delivering', attempts: 1 });
      const second = await store.claimDue({ now: Date.now(), limit: 5 });
      expect(second.map((d) => d.id)).toEqual([items[2]?.id]);
      expect(await store.claimDue({ now: Date.now(), limit: 5 })).toEqual([]);
      expect(await store.countPending()).toBe(3);
    });

    it("counts each client's pending deliveries through every transition, and after a take-over", async () => {
      const [a1, a2, a3, a4] = [delivery(), delivery(), delivery(), delivery()];
      const b1 = delivery({ clientId: 'client-b' });
      await store.enqueue([a1, a2, a3, a4, b1] as NewDelivery[], Date.now());
      const pending = async () => [await store.countPending('client-a'), await store.countPending('client-b'), await store.countPending()];
      expect(await pending()).toEqual([4, 1, 5]);
      expect(await store.countPending('client-c')).toBe(0);
      await store.claimDue({ now: Date.now(), limit: 5 });
      expect(await pending()).toEqual([4, 1, 5]);
      await store.markDelivered(a1?.id ?? '', Date.now());
      await store.markDead(a2?.id ?? '', { status: 400, type: 'upstream-rejected-input', detail: 'bad' }, Date.now());
      await store.release(b1.id, Date.now(), Date.now());
      await store.release(a4?.id ?? '', Date.now(), Date.now());
      expect(await pending()).toEqual([2, 1, 3]);
      expect(await store.retry(a2?.id ?? '', 'client-a', Date.now())).toBeDefined();
      expect(await pending()).toEqual([3, 1, 4]);
      expect(await store.discard(b1.id, 'client-b')).toBe('discarded');
      expect(await pending()).toEqual([3, 0, 3]);
      // a3 is still being delivered when its process stops: it stays pending for the store taking over, as a4 does.
      store = await takeOver(store);
      expect(await store.countPending('client-a')).toBe(3);
      expect(await store.countPending('client-b')).toBe(0);
      // The store that took over delivers a3 (once its claim is back) and a4; a2 ends dead and is discarded.
      await eventually(
        async () => ((await store.get(a3?.id ?? '', 'client-a'))?.status === 'queued' ? true : undefined),
        'the interrupted delivery to be queued again',
      );
      const settling = await store.claimDue({ now: Date.now() + 60_000, limit: 5 });
      expect(settling.map((d) => d.id).sort()).toEqual([a2?.id, a3?.id, a4?.id].sort());
      await store.markDelivered(a3?.id ?? '', Date.now());
      await store.markDead(a2?.id ?? '', { status: 400, type: 'upstream-rejected-input', detail: 'bad' }, Date.now());
      expect(await store.countPending('client-a')).toBe(1);
      expect(await store.discard(a2?.id ?? '', 'client-a')).toBe('discarded');
      expect(await store.countPending('client-a')).toBe(1);
      await store.markDelivered(a4?.id ?? '', Date.now());
      expect(await pending()).toEqual([0, 0, 0]);
    });

    it('rejects a batch whose one item cannot be stored, committing none of it', async () => {
      const duplicate = delivery();
      await store.enqueue([duplicate], Date.now());
      const fresh = delivery();
      await expect(store.enqueue([fresh, { ...duplicate, requestId: 'other' }], Date.now())).rejects.toThrow();
      expect((await store.stats()).pending).toBe(1);
      expect(await store.countPending('client-a')).toBe(1);
      expect(await store.get(fresh.id, 'client-a')).toBeUndefined();
      expect(await store.get(duplicate.id, 'client-a')).toMatchObject({ requestId: duplicate.requestId });
      expect((await store.list('client-a', { limit: 10 })).items.map((d) => d.id)).toEqual([duplicate.id]);
    });

    it('reschedules with the error, delivers, and keeps the status record', async () => {
      const item = delivery();
      await store.enqueue([item], Date.now());
      await store.claimDue({ now: Date.now(), limit: 1 });
      // Far enough ahead that the claim right after cannot be late; the second claim waits for it.
      const due = Date.now() + 1500;
      await store.reschedule(item.id, due, { status: 503, type: 'upstream-failed', detail: 'down' }, Date.now());
      expect(await store.claimDue({ now: Date.now(), limit: 1 })).toEqual([]);
      expect(await store.nextDueAt()).toBe(due);
      expect(await store.get(item.id, 'client-a')).toMatchObject({
        status: 'queued',
        attempts: 1,
        nextAttemptAt: due,
        lastError: { status: 503 },
      });
      expect((await store.stats()).pending).toBe(1);
      const again = await eventually(
        async () => (await store.claimDue({ now: Date.now(), limit: 1 }))[0],
        'the rescheduled delivery to be due',
      );
      expect(Date.now()).toBeGreaterThanOrEqual(due);
      expect(again).toMatchObject({ id: item.id, attempts: 2, lastError: { status: 503 } });
      const deliveredAt = Date.now();
      await store.markDelivered(item.id, deliveredAt);
      expect(await store.get(item.id, 'client-a')).toMatchObject({ status: 'delivered', attempts: 2, deliveredAt });
      expect((await store.stats()).pending).toBe(0);
      expect(await store.nextDueAt()).toBeUndefined();
    });

    it('releases without counting the attempt, and skips excluded plugins', async () => {
      const paused = delivery({ pluginId: 'paused' });
      const other = delivery();
      await store.enqueue([paused, other], Date.now());
      expect((await store.claimDue({ now: Date.now(), limit: 5, excludePlugins: ['paused'] })).map((d) => d.id)).toEqual([other.id]);
      const [probe] = await store.claimDue({ now: Date.now(), limit: 5, onlyPlugin: 'paused' });
      expect(probe?.id).toBe(paused.id);
      const probeAgainAt = Date.now() + 1000;
      await store.release(paused.id, probeAgainAt, Date.now());
      expect(await store.get(paused.id, 'client-a')).toMatchObject({ status: 'queued', attempts: 0, nextAttemptAt: probeAgainAt });
      const reclaimed = await eventually(
        async () => (await store.claimDue({ now: Date.now(), limit: 5, onlyPlugin: 'paused' }))[0],
        'the released delivery to be due',
      );
      expect(reclaimed).toMatchObject({ id: paused.id, attempts: 1 });
    });

    it('dead deliveries can be retried with a fresh window, or discarded; delivering ones cannot', async () => {
      const item = delivery();
      const busy = delivery();
      const acceptedAt = Date.now();
      await store.enqueue([item, busy], acceptedAt);
      await store.claimDue({ now: Date.now(), limit: 2 });
      await store.markDead(item.id, { status: 400, type: 'upstream-rejected-input', detail: 'bad' }, Date.now());
      expect((await store.stats()).pending).toBe(1);
      expect(await store.get(item.id, 'client-a')).toMatchObject({
        status: 'dead',
        attempts: 1,
        lastError: { status: 400, type: 'upstream-rejected-input', detail: 'bad' },
      });
      expect((await store.list('client-a', { status: 'dead', limit: 10 })).items.map((d) => d.id)).toEqual([item.id]);
      expect(await store.retry(item.id, 'client-b', Date.now())).toBeUndefined();
      expect(await store.retry(busy.id, 'client-a', Date.now())).toBeUndefined();
      const retriedAt = Math.max(Date.now(), acceptedAt + 1);
      expect(await store.retry(item.id, 'client-a', retriedAt)).toMatchObject({
        status: 'queued',
        attempts: 1,
        windowStartedAt: retriedAt,
        createdAt: acceptedAt,
      });
      expect((await store.stats()).pending).toBe(2);
      expect(await store.discard(busy.id, 'client-a')).toBe('busy');
      expect(await store.discard(item.id, 'client-b')).toBe('not-found');
      expect(await store.discard(item.id, 'client-a')).toBe('discarded');
      expect(await store.get(item.id, 'client-a')).toBeUndefined();
      expect((await store.stats()).pending).toBe(1);
    });

    it('scopes records to their client and pages with an opaque cursor', async () => {
      const mine = [delivery(), delivery(), delivery()];
      await store.enqueue([...mine, delivery({ clientId: 'client-b' })], Date.now());
      expect(await store.get(mine[0]?.id ?? '', 'client-b')).toBeUndefined();
      const page1 = await store.list('client-a', { limit: 2 });
      expect(page1.items.map((d) => d.id)).toEqual([mine[0]?.id, mine[1]?.id]);
      const page2 = await store.list('client-a', { limit: 2, ...(page1.nextCursor ? { cursor: page1.nextCursor } : {}) });
      expect(page2.items.map((d) => d.id)).toEqual([mine[2]?.id]);
      expect(page2.nextCursor).toBeUndefined();
      await expect(store.list('client-a', { limit: 2, cursor: 'bogus' })).rejects.toBeInstanceOf(InvalidCursorError);
      await store.claimDue({ now: Date.now(), limit: 1 });
      expect((await store.list('client-a', { status: 'queued', limit: 10 })).items.map((d) => d.id)).toEqual([mine[1]?.id, mine[2]?.id]);
      expect((await store.list('client-a', { status: 'delivering', limit: 10 })).items.map((d) => d.id)).toEqual([mine[0]?.id]);
      expect((await store.list('client-b', { limit: 10 })).items).toHaveLength(1);
    });

    it('takes back deliveries interrupted mid-attempt and prunes old delivered records', async () => {
      const a = delivery();
      const b = delivery();
      const acceptedAt = Date.now();
      await store.enqueue([a, b], acceptedAt);
      await store.claimDue({ now: Date.now(), limit: 2 });
      const deliveredAt = Date.now();
      await store.markDelivered(b.id, deliveredAt);
      store = await takeOver(store);
      expect((await store.stats()).pending).toBe(1);
      await eventually(
        async () => ((await store.get(a.id, 'client-a'))?.status === 'queued' ? true : undefined),
        'the interrupted delivery to be queued again',
      );
      expect(await store.get(a.id, 'client-a')).toMatchObject({ status: 'queued', attempts: 1 });
      expect((await store.stats()).oldestPendingAt).toBe(acceptedAt);
      const [again] = await store.claimDue({ now: Date.now(), limit: 5 });
      expect(again).toMatchObject({ id: a.id, attempts: 2 });
      expect(await store.pruneDelivered(deliveredAt - 1)).toBe(0);
      expect(await store.pruneDelivered(Date.now() + 1000)).toBe(1);
      expect(await store.get(b.id, 'client-a')).toBeUndefined();
      expect((await store.list('client-a', { limit: 10 })).items.map((d) => d.id)).toEqual([a.id]);
      expect((await store.stats()).oldestPendingAt).toBe(acceptedAt);
    });
  });
}
