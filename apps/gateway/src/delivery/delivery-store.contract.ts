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

/** The behaviour every DeliveryStore backend must have; each backend's test file runs it on a fresh store. */
export function deliveryStoreContract(name: string, open: () => Promise<{ store: DeliveryStore; reopen?: () => Promise<DeliveryStore> }>): void {
  describe(`DeliveryStore contract: ${name}`, () => {
    let store: DeliveryStore;
    let reopen: (() => Promise<DeliveryStore>) | undefined;
    beforeEach(async () => {
      ({ store, reopen } = await open());
    });
    afterEach(async () => {
      await store.close();
    });

    it('enqueues atomically and claims the oldest due first, each once', async () => {
      const items = [delivery(), delivery(), delivery()];
      await store.enqueue(items, 1000);
      expect((await store.stats()).pending).toBe(3);
      expect(await store.countPending()).toBe(3);
      const first = await store.claimDue({ now: 1000, limit: 2 });
      expect(first.map((d) => d.id)).toEqual([items[0]?.id, items[1]?.id]);
      expect(first[0]).toMatchObject({ status: 'delivering', attempts: 1, request: items[0]?.request });
      const second = await store.claimDue({ now: 1000, limit: 5 });
      expect(second.map((d) => d.id)).toEqual([items[2]?.id]);
      expect(await store.claimDue({ now: 1000, limit: 5 })).toEqual([]);
    });

    it('rejects a batch whose one item cannot be stored, committing none of it', async () => {
      const duplicate = delivery();
      await store.enqueue([duplicate], 1000);
      await expect(store.enqueue([delivery(), { ...duplicate }], 1000)).rejects.toThrow();
      expect((await store.stats()).pending).toBe(1);
    });

    it('reschedules with the error, delivers, and keeps the status record', async () => {
      const item = delivery();
      await store.enqueue([item], 1000);
      await store.claimDue({ now: 1000, limit: 1 });
      await store.reschedule(item.id, 5000, { status: 503, type: 'upstream-failed', detail: 'down' }, 1100);
      expect(await store.claimDue({ now: 4999, limit: 1 })).toEqual([]);
      expect(await store.nextDueAt()).toBe(5000);
      expect(await store.get(item.id, 'client-a')).toMatchObject({ status: 'queued', attempts: 1, nextAttemptAt: 5000, lastError: { status: 503 } });
      const [again] = await store.claimDue({ now: 5000, limit: 1 });
      expect(again?.attempts).toBe(2);
      await store.markDelivered(item.id, 5100);
      expect(await store.get(item.id, 'client-a')).toMatchObject({ status: 'delivered', attempts: 2, deliveredAt: 5100 });
      expect((await store.stats()).pending).toBe(0);
    });

    it('releases without counting the attempt, and skips excluded plugins', async () => {
      const paused = delivery({ pluginId: 'paused' });
      const other = delivery();
      await store.enqueue([paused, other], 1000);
      expect((await store.claimDue({ now: 1000, limit: 5, excludePlugins: ['paused'] })).map((d) => d.id)).toEqual([other.id]);
      const [probe] = await store.claimDue({ now: 1000, limit: 5, onlyPlugin: 'paused' });
      expect(probe?.id).toBe(paused.id);
      await store.release(paused.id, 2000, 1000);
      expect(await store.get(paused.id, 'client-a')).toMatchObject({ status: 'queued', attempts: 0, nextAttemptAt: 2000 });
    });

    it('dead deliveries can be retried with a fresh window, or discarded; delivering ones cannot', async () => {
      const item = delivery();
      const busy = delivery();
      await store.enqueue([item, busy], 1000);
      await store.claimDue({ now: 1000, limit: 2 });
      await store.markDead(item.id, { status: 400, type: 'upstream-rejected-input', detail: 'bad' }, 1200);
      expect((await store.stats()).pending).toBe(1);
      expect((await store.list('client-a', { status: 'dead', limit: 10 })).items.map((d) => d.id)).toEqual([item.id]);
      expect(await store.retry(item.id, 'client-b', 2000)).toBeUndefined();
      expect(await store.retry(item.id, 'client-a', 2000)).toMatchObject({ status: 'queued', windowStartedAt: 2000 });
      expect((await store.stats()).pending).toBe(2);
      expect(await store.discard(busy.id, 'client-a')).toBe('busy');
      expect(await store.discard(item.id, 'client-b')).toBe('not-found');
      expect(await store.discard(item.id, 'client-a')).toBe('discarded');
      expect(await store.get(item.id, 'client-a')).toBeUndefined();
      expect((await store.stats()).pending).toBe(1);
    });

    it('scopes records to their client and pages with an opaque cursor', async () => {
      const mine = [delivery(), delivery(), delivery()];
      await store.enqueue([...mine, delivery({ clientId: 'client-b' })], 1000);
      expect(await store.get(mine[0]?.id ?? '', 'client-b')).toBeUndefined();
      const page1 = await store.list('client-a', { limit: 2 });
      expect(page1.items.map((d) => d.id)).toEqual([mine[0]?.id, mine[1]?.id]);
      const page2 = await store.list('client-a', { limit: 2, ...(page1.nextCursor ? { cursor: page1.nextCursor } : {}) });
      expect(page2.items.map((d) => d.id)).toEqual([mine[2]?.id]);
      expect(page2.nextCursor).toBeUndefined();
      await expect(store.list('client-a', { limit: 2, cursor: 'bogus' })).rejects.toBeInstanceOf(InvalidCursorError);
    });

    it('recovers deliveries interrupted mid-attempt and prunes old delivered records', async () => {
      const a = delivery();
      const b = delivery();
      await store.enqueue([a, b], 1000);
      await store.claimDue({ now: 1000, limit: 2 });
      await store.markDelivered(b.id, 1500);
      if (reopen) {
        store = await reopen();
        expect((await store.stats()).pending).toBe(1);
      }
      expect(await store.recoverInterrupted(3000)).toBe(1);
      expect(await store.get(a.id, 'client-a')).toMatchObject({ status: 'queued', nextAttemptAt: 3000 });
      expect(await store.pruneDelivered(1400)).toBe(0);
      expect(await store.pruneDelivered(1600)).toBe(1);
      expect((await store.stats()).oldestPendingAt).toBe(1000);
    });
  });
}
