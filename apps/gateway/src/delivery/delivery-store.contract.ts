import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type DeliveryCaps,
  type DeliveryStore,
  DeliveryStoreUnavailableError,
  InvalidCursorError,
  type NewDelivery,
} from './delivery-store.ts';

let counter = 0;
const delivery = (overrides: Partial<NewDelivery> = {}): NewDelivery => {
  counter += 1;
  const payload = JSON.stringify({ method: 'POST', path: '/events', body: { n: counter } });
  return {
    id: `d-${String(counter).padStart(6, '0')}`,
    clientId: 'client-a',
    pluginId: 'plugin-1',
    operationId: 'send',
    requestId: `r-${counter}`,
    payload,
    summary: { bytes: Buffer.byteLength(payload), eventName: `e-${counter}`, identifyId: 'u-1' },
    ...overrides,
  };
};

/** Caps that never bind, for the tests about something else. */
const OPEN: DeliveryCaps = { maxPending: 1_000_000, maxPendingPerClient: 1_000_000, maxBytesPerClient: 1e12 };
const DEAD = { status: 400, type: 'upstream-rejected-input', detail: 'bad' } as const;

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
  /** How many payloads the backend holds now, read underneath the store (a file query, a key scan). */
  readonly heldPayloads: () => Promise<number>;
  /**
   * Makes the backend refuse writes for real (a full disk, a lock held elsewhere, a stopped server); the returned
   * function lets them through again.
   */
  readonly refuseWrites: () => Promise<() => Promise<void>>;
}

/**
 * The behaviour every DeliveryStore backend must have; each backend's test file runs it on a fresh store.
 * Times are real (Date.now()-relative): a networked backend such as BullMQ keeps its own clock for due times.
 */
export function deliveryStoreContract(name: string, open: () => Promise<ContractSubject>): void {
  describe(`DeliveryStore contract: ${name}`, () => {
    let store: DeliveryStore;
    let subject: ContractSubject;
    beforeEach(async () => {
      subject = await open();
      store = subject.store;
    });
    afterEach(async () => {
      await store.close();
    });

    it('enqueues atomically and claims the oldest due first, each once, with its payload, at the claim time', async () => {
      const items = [delivery(), delivery(), delivery()];
      expect(await store.enqueue(items, Date.now(), OPEN)).toEqual({ ok: true });
      expect((await store.stats()).pending).toBe(3);
      const claimedAt = Date.now();
      const first = await store.claim({ now: claimedAt, limit: 2 });
      expect(first.map((d) => d.id)).toEqual([items[0]?.id, items[1]?.id]);
      expect(first[0]).toMatchObject({ status: 'delivering', attempts: 1, payload: items[0]?.payload, updatedAt: claimedAt });
      const record = await store.get(items[0]?.id ?? '', 'client-a');
      expect(record).toMatchObject({ status: 'delivering', attempts: 1, updatedAt: claimedAt, summary: items[0]?.summary });
      expect(record).not.toHaveProperty('payload');
      const second = await store.claim({ now: Date.now(), limit: 5 });
      expect(second.map((d) => d.id)).toEqual([items[2]?.id]);
      expect(await store.claim({ now: Date.now(), limit: 5 })).toEqual([]);
      expect((await store.stats()).byStatus).toEqual({ queued: 0, delivering: 3, delivered: 0, dead: 0 });
    });

    it('keeps the summary and the accepting traceparent; drops the payload once delivered, keeps it while dead', async () => {
      const traced = delivery({ acceptedTraceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
      const rejected = delivery();
      await store.enqueue([traced, rejected], Date.now(), OPEN);
      expect(await subject.heldPayloads()).toBe(2);
      await store.claim({ now: Date.now(), limit: 2 });
      await store.settle(traced.id, { outcome: 'delivered' }, Date.now());
      await store.settle(rejected.id, { outcome: 'dead', error: DEAD }, Date.now());
      expect(await subject.heldPayloads()).toBe(1);
      expect(await store.get(traced.id, 'client-a')).toMatchObject({
        status: 'delivered',
        summary: traced.summary,
        acceptedTraceparent: traced.acceptedTraceparent,
      });
      const [listed] = (await store.list('client-a', { status: 'delivered', limit: 10 })).items;
      expect(listed).toMatchObject({ id: traced.id, summary: traced.summary });
      expect(listed).not.toHaveProperty('payload');
      // The dead one is sent again only after a retry, with the payload it was accepted with.
      expect((await store.retry(rejected.id, 'client-a', Date.now(), OPEN)).outcome).toBe('retried');
      const [again] = await store.claim({ now: Date.now() + 1000, limit: 5 });
      expect(again).toMatchObject({ id: rejected.id, payload: rejected.payload, attempts: 2 });
    });

    it("counts each client's pending deliveries and bytes through every transition, and after a take-over", async () => {
      const [a1, a2, a3, a4] = [delivery(), delivery(), delivery(), delivery()] as [NewDelivery, NewDelivery, NewDelivery, NewDelivery];
      const b1 = delivery({ clientId: 'client-b' });
      const bytes = (...items: NewDelivery[]) => items.reduce((sum, item) => sum + item.summary.bytes, 0);
      await store.enqueue([a1, a2, a3, a4], Date.now(), OPEN);
      await store.enqueue([b1], Date.now(), OPEN);
      const usage = async () => [await store.usage('client-a'), (await store.usage('client-b')).clientPending];
      expect(await usage()).toEqual([{ pending: 5, clientPending: 4, clientBytes: bytes(a1, a2, a3, a4) }, 1]);
      expect(await store.usage('client-c')).toEqual({ pending: 5, clientPending: 0, clientBytes: 0 });
      await store.claim({ now: Date.now(), limit: 5 });
      await store.settle(a1.id, { outcome: 'delivered' }, Date.now());
      await store.settle(a2.id, { outcome: 'dead', error: DEAD }, Date.now());
      await store.settle(b1.id, { outcome: 'release', nextAttemptAt: Date.now() }, Date.now());
      await store.settle(a4.id, { outcome: 'release', nextAttemptAt: Date.now() }, Date.now());
      // A dead delivery keeps its payload, so its bytes: the byte cap counts pending and dead.
      expect(await usage()).toEqual([{ pending: 3, clientPending: 2, clientBytes: bytes(a2, a3, a4) }, 1]);
      expect((await store.retry(a2.id, 'client-a', Date.now(), OPEN)).outcome).toBe('retried');
      expect((await store.usage('client-a')).clientPending).toBe(3);
      expect(await store.discard(b1.id, 'client-b')).toBe('discarded');
      expect(await store.usage('client-b')).toEqual({ pending: 3, clientPending: 0, clientBytes: 0 });
      // a3 is still being delivered when its process stops: it stays pending for the store taking over, as a4 does.
      store = await subject.takeOver(store);
      expect(await store.usage('client-a')).toEqual({ pending: 3, clientPending: 3, clientBytes: bytes(a2, a3, a4) });
      await eventually(
        async () => ((await store.get(a3.id, 'client-a'))?.status === 'queued' ? true : undefined),
        'the interrupted delivery to be queued again',
      );
      const settling = await store.claim({ now: Date.now() + 60_000, limit: 5 });
      expect(settling.map((d) => d.id).sort()).toEqual([a2.id, a3.id, a4.id].sort());
      await store.settle(a3.id, { outcome: 'delivered' }, Date.now());
      await store.settle(a2.id, { outcome: 'dead', error: DEAD }, Date.now());
      expect(await store.discard(a2.id, 'client-a')).toBe('discarded');
      await store.settle(a4.id, { outcome: 'delivered' }, Date.now());
      expect(await store.usage('client-a')).toEqual({ pending: 0, clientPending: 0, clientBytes: 0 });
      expect((await store.stats()).byStatus).toEqual({ queued: 0, delivering: 0, delivered: 3, dead: 0 });
    });

    it('refuses a batch past a cap whole, naming the cap; a manual retry passes the same caps', async () => {
      const caps: DeliveryCaps = { maxPending: 6, maxPendingPerClient: 4, maxBytesPerClient: 1e9 };
      const five = Array.from({ length: 5 }, () => delivery());
      expect(await store.enqueue(five, Date.now(), caps)).toMatchObject({
        ok: false,
        cap: 'max-pending-per-client',
        usage: { clientPending: 0 },
      });
      expect(await store.usage('client-a')).toMatchObject({ clientPending: 0, clientBytes: 0 });
      // Ten accepted under open caps, all dead: with a share of 4, only 4 go back to the queue.
      const ten = Array.from({ length: 10 }, () => delivery());
      await store.enqueue(ten, Date.now(), OPEN);
      await store.claim({ now: Date.now(), limit: 10 });
      for (const item of ten) await store.settle(item.id, { outcome: 'dead', error: DEAD }, Date.now());
      expect(await store.retryMatching('client-a', { status: 'dead' }, Date.now(), caps)).toMatchObject({
        matched: 10,
        retried: 4,
        refusal: { cap: 'max-pending-per-client' },
      });
      expect((await store.usage('client-a')).clientPending).toBe(4);
      expect(await store.retry(ten[9]?.id ?? '', 'client-a', Date.now(), caps)).toMatchObject({
        outcome: 'refused',
        cap: 'max-pending-per-client',
      });
      expect((await store.get(ten[9]?.id ?? '', 'client-a'))?.status).toBe('dead');
      // The global cap binds across clients.
      const other = [delivery({ clientId: 'client-b' }), delivery({ clientId: 'client-b' }), delivery({ clientId: 'client-b' })];
      expect(await store.enqueue(other, Date.now(), caps)).toMatchObject({ ok: false, cap: 'max-pending', usage: { pending: 4 } });
      expect(await store.enqueue(other.slice(0, 2), Date.now(), caps)).toEqual({ ok: true });
    });

    it('acceptances asked for at the same time pass the caps in arrival order, and each sees its own rows', async () => {
      const caps: DeliveryCaps = { maxPending: 100, maxPendingPerClient: 5, maxBytesPerClient: 1e9 };
      const first = Array.from({ length: 3 }, () => delivery());
      const second = Array.from({ length: 3 }, () => delivery());
      const third = [delivery(), delivery()];
      const elsewhere = [delivery({ clientId: 'client-b' })];
      const answers = await Promise.all([
        store.enqueue(first, Date.now(), caps),
        store.enqueue(second, Date.now(), caps),
        store.enqueue(third, Date.now(), caps),
        store.enqueue(elsewhere, Date.now(), caps),
      ]);
      expect(answers).toMatchObject([
        { ok: true },
        { ok: false, cap: 'max-pending-per-client', usage: { clientPending: 3 } },
        { ok: true },
        { ok: true },
      ]);
      expect((await store.usage('client-a')).clientPending).toBe(5);
      for (const item of [...first, ...third]) expect((await store.get(item.id, 'client-a'))?.status).toBe('queued');
      expect(await store.get(second[0]?.id ?? '', 'client-a')).toBeUndefined();
      expect((await store.get(elsewhere[0]?.id ?? '', 'client-b'))?.status).toBe('queued');
    });

    it('counts payload bytes of pending and dead deliveries against DELIVERY_MAX_BYTES_PER_CLIENT', async () => {
      const big = delivery({ summary: { bytes: 600 } });
      const caps: DeliveryCaps = { maxPending: 100, maxPendingPerClient: 100, maxBytesPerClient: 1000 };
      expect(await store.enqueue([big], Date.now(), caps)).toEqual({ ok: true });
      const second = delivery({ summary: { bytes: 600 } });
      expect(await store.enqueue([second], Date.now(), caps)).toMatchObject({
        ok: false,
        cap: 'max-bytes-per-client',
        usage: { clientBytes: 600 },
      });
      expect(await store.enqueue([delivery({ clientId: 'client-b', summary: { bytes: 600 } })], Date.now(), caps)).toEqual({ ok: true });
      await store.claim({ now: Date.now(), limit: 1 });
      await store.settle(big.id, { outcome: 'dead', error: DEAD }, Date.now());
      // Dead, it still holds its bytes; discarded, it frees them.
      expect(await store.enqueue([second], Date.now(), caps)).toMatchObject({ ok: false, cap: 'max-bytes-per-client' });
      expect(await store.discard(big.id, 'client-a')).toBe('discarded');
      expect(await store.enqueue([second], Date.now(), caps)).toEqual({ ok: true });
    });

    it('rejects a batch whose one item cannot be stored, committing none of it', async () => {
      const duplicate = delivery();
      await store.enqueue([duplicate], Date.now(), OPEN);
      const fresh = delivery();
      await expect(store.enqueue([fresh, { ...duplicate, requestId: 'other' }], Date.now(), OPEN)).rejects.toThrow();
      expect((await store.stats()).pending).toBe(1);
      expect((await store.usage('client-a')).clientPending).toBe(1);
      expect(await store.get(fresh.id, 'client-a')).toBeUndefined();
      expect(await store.get(duplicate.id, 'client-a')).toMatchObject({ requestId: duplicate.requestId });
      expect((await store.list('client-a', { limit: 10 })).items.map((d) => d.id)).toEqual([duplicate.id]);
    });

    it('reschedules with the error, delivers, and keeps the status record', async () => {
      const item = delivery();
      await store.enqueue([item], Date.now(), OPEN);
      await store.claim({ now: Date.now(), limit: 1 });
      // Far enough ahead that the claim right after cannot be late; the second claim waits for it.
      const due = Date.now() + 1500;
      await store.settle(
        item.id,
        { outcome: 'retry', nextAttemptAt: due, error: { status: 503, type: 'upstream-failed', detail: 'down' } },
        Date.now(),
      );
      expect(await store.claim({ now: Date.now(), limit: 1 })).toEqual([]);
      expect(await store.nextDueAt()).toBe(due);
      expect(await store.get(item.id, 'client-a')).toMatchObject({
        status: 'queued',
        attempts: 1,
        nextAttemptAt: due,
        lastError: { status: 503 },
      });
      const again = await eventually(
        async () => (await store.claim({ now: Date.now(), limit: 1 }))[0],
        'the rescheduled delivery to be due',
      );
      expect(Date.now()).toBeGreaterThanOrEqual(due);
      expect(again).toMatchObject({ id: item.id, attempts: 2, lastError: { status: 503 } });
      const deliveredAt = Date.now();
      await store.settle(item.id, { outcome: 'delivered' }, deliveredAt);
      expect(await store.get(item.id, 'client-a')).toMatchObject({ status: 'delivered', attempts: 2, deliveredAt });
      expect((await store.stats()).pending).toBe(0);
      expect(await store.nextDueAt()).toBeUndefined();
      // Settling a record that is no longer being delivered changes nothing.
      await store.settle(item.id, { outcome: 'dead', error: DEAD }, Date.now());
      expect(await store.get(item.id, 'client-a')).toMatchObject({ status: 'delivered' });
    });

    it('releases without counting the attempt, and skips excluded plugins', async () => {
      const paused = delivery({ pluginId: 'paused' });
      const other = delivery();
      await store.enqueue([paused, other], Date.now(), OPEN);
      expect((await store.claim({ now: Date.now(), limit: 5, excludePlugins: ['paused'] })).map((d) => d.id)).toEqual([other.id]);
      const [probe] = await store.claim({ now: Date.now(), limit: 5, onlyPlugin: 'paused' });
      expect(probe?.id).toBe(paused.id);
      const probeAgainAt = Date.now() + 1000;
      await store.settle(paused.id, { outcome: 'release', nextAttemptAt: probeAgainAt }, Date.now());
      expect(await store.get(paused.id, 'client-a')).toMatchObject({ status: 'queued', attempts: 0, nextAttemptAt: probeAgainAt });
      const reclaimed = await eventually(
        async () => (await store.claim({ now: Date.now(), limit: 5, onlyPlugin: 'paused' }))[0],
        'the released delivery to be due',
      );
      expect(reclaimed).toMatchObject({ id: paused.id, attempts: 1 });
    });

    it('dead deliveries can be retried with a fresh window, or discarded; delivering ones cannot', async () => {
      const item = delivery();
      const busy = delivery();
      const acceptedAt = Date.now();
      await store.enqueue([item, busy], acceptedAt, OPEN);
      await store.claim({ now: Date.now(), limit: 2 });
      await store.settle(item.id, { outcome: 'dead', error: DEAD }, Date.now());
      expect((await store.stats()).pending).toBe(1);
      expect(await store.get(item.id, 'client-a')).toMatchObject({ status: 'dead', attempts: 1, lastError: DEAD });
      expect((await store.list('client-a', { status: 'dead', limit: 10 })).items.map((d) => d.id)).toEqual([item.id]);
      expect(await store.retry(item.id, 'client-b', Date.now(), OPEN)).toEqual({ outcome: 'not-dead' });
      expect(await store.retry(busy.id, 'client-a', Date.now(), OPEN)).toEqual({ outcome: 'not-dead' });
      const retriedAt = Math.max(Date.now(), acceptedAt + 1);
      expect(await store.retry(item.id, 'client-a', retriedAt, OPEN)).toMatchObject({
        outcome: 'retried',
        record: { status: 'queued', attempts: 1, windowStartedAt: retriedAt, createdAt: acceptedAt },
      });
      expect((await store.stats()).pending).toBe(2);
      expect(await store.discard(busy.id, 'client-a')).toBe('busy');
      expect(await store.discard(item.id, 'client-b')).toBe('not-found');
      expect(await store.discard(item.id, 'client-a')).toBe('discarded');
      expect(await store.get(item.id, 'client-a')).toBeUndefined();
      expect((await store.stats()).pending).toBe(1);
    });

    it('retries and discards by filter: status, plugin, acceptance time, ids; only the caller’s', async () => {
      const early = [delivery(), delivery({ pluginId: 'plugin-2' })];
      await store.enqueue(early, 1_000, OPEN);
      const late = [delivery(), delivery(), delivery({ clientId: 'client-b' })];
      await store.enqueue(late.slice(0, 2), 5_000, OPEN);
      await store.enqueue(late.slice(2), 5_000, OPEN);
      await store.claim({ now: Date.now(), limit: 2 });
      for (const item of early) await store.settle(item.id, { outcome: 'dead', error: DEAD }, Date.now());
      expect(await store.retryMatching('client-a', { pluginId: 'plugin-2' }, Date.now(), OPEN)).toEqual({ matched: 1, retried: 1 });
      expect(await store.retryMatching('client-a', { status: 'dead', before: 2_000 }, Date.now(), OPEN)).toEqual({
        matched: 1,
        retried: 1,
      });
      // Retry touches only dead ones: queued ones match nothing.
      expect(await store.retryMatching('client-a', { status: 'queued' }, Date.now(), OPEN)).toEqual({ matched: 0, retried: 0 });
      expect(await store.discardMatching('client-a', { ids: [late[0]?.id ?? '', late[2]?.id ?? '', 'nope'] })).toEqual({
        matched: 1,
        discarded: 1,
      });
      expect(await store.discardMatching('client-a', { status: 'queued', before: 2_000 })).toEqual({ matched: 2, discarded: 2 });
      expect((await store.list('client-a', { limit: 10 })).items.map((d) => d.id)).toEqual([late[1]?.id]);
      expect((await store.list('client-b', { limit: 10 })).items.map((d) => d.id)).toEqual([late[2]?.id]);
      expect(await store.usage('client-a')).toMatchObject({ clientPending: 1, clientBytes: late[1]?.summary.bytes });
    });

    it('scopes records to their client and pages with opaque cursors bound to it', async () => {
      const mine = [delivery(), delivery(), delivery()];
      await store.enqueue([mine[0] as NewDelivery], Date.now(), OPEN);
      await store.enqueue([delivery({ clientId: 'client-b' }), delivery({ clientId: 'client-b' })], Date.now(), OPEN);
      await store.enqueue(mine.slice(1), Date.now(), OPEN);
      expect(await store.get(mine[0]?.id ?? '', 'client-b')).toBeUndefined();
      const page1 = await store.list('client-a', { limit: 2 });
      expect(page1.items.map((d) => d.id)).toEqual([mine[0]?.id, mine[1]?.id]);
      expect(page1.nextCursor).toBeDefined();
      const page2 = await store.list('client-a', { limit: 2, cursor: page1.nextCursor as string });
      expect(page2.items.map((d) => d.id)).toEqual([mine[2]?.id]);
      expect(page2.nextCursor).toBeUndefined();
      await expect(store.list('client-a', { limit: 2, cursor: 'bogus' })).rejects.toBeInstanceOf(InvalidCursorError);
      // Another client's cursor is no cursor at all: it can neither be used nor tell anything.
      await expect(store.list('client-b', { limit: 2, cursor: page1.nextCursor as string })).rejects.toBeInstanceOf(InvalidCursorError);
      await store.claim({ now: Date.now(), limit: 1 });
      expect((await store.list('client-a', { status: 'queued', limit: 10 })).items.map((d) => d.id)).toEqual([mine[1]?.id, mine[2]?.id]);
      expect((await store.list('client-a', { status: 'delivering', limit: 10 })).items.map((d) => d.id)).toEqual([mine[0]?.id]);
      expect((await store.list('client-b', { limit: 10 })).items).toHaveLength(2);
    });

    it('pages full until the last page, whatever the filter skips', async () => {
      const items = Array.from({ length: 9 }, (_, i) => delivery({ pluginId: i % 3 === 0 ? 'plugin-2' : 'plugin-1' }));
      await store.enqueue(items, Date.now(), OPEN);
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 10; pages += 1) {
        const page = await store.list('client-a', { pluginId: 'plugin-1', limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((d) => d.id));
        if (!page.nextCursor) break;
        expect(page.items).toHaveLength(2);
        cursor = page.nextCursor;
      }
      expect(seen).toEqual(items.filter((d) => d.pluginId === 'plugin-1').map((d) => d.id));
    });

    it("summarises one client's deliveries by status and plugin", async () => {
      const acceptedAt = Date.now() - 5_000;
      const [q1, q2, d1, x1] = [delivery(), delivery({ pluginId: 'plugin-2' }), delivery(), delivery({ pluginId: 'plugin-2' })];
      await store.enqueue([d1 as NewDelivery, x1 as NewDelivery], acceptedAt - 1000, OPEN);
      await store.enqueue([q1 as NewDelivery, q2 as NewDelivery], acceptedAt, OPEN);
      await store.enqueue([delivery({ clientId: 'client-b' })], acceptedAt, OPEN);
      await store.claim({ now: Date.now(), limit: 2 });
      await store.settle(d1?.id ?? '', { outcome: 'delivered' }, Date.now());
      await store.settle(x1?.id ?? '', { outcome: 'dead', error: DEAD }, Date.now());
      const summary = await store.summary('client-a', Date.now());
      expect(summary).toEqual({
        byStatus: { queued: 2, delivering: 0, delivered: 1, dead: 1 },
        byPlugin: {
          'plugin-1': { queued: 1, delivering: 0, delivered: 1, dead: 0 },
          'plugin-2': { queued: 1, delivering: 0, delivered: 0, dead: 1 },
        },
        oldestQueuedAt: acceptedAt,
        deliveredLastMinute: 1,
      });
      expect((await store.summary('client-a', Date.now() + 120_000)).deliveredLastMinute).toBe(0);
      expect(await store.summary('client-c', Date.now())).toEqual({
        byStatus: { queued: 0, delivering: 0, delivered: 0, dead: 0 },
        byPlugin: {},
        deliveredLastMinute: 0,
      });
      expect((await store.stats()).byStatus).toEqual({ queued: 3, delivering: 0, delivered: 1, dead: 1 });
    });

    it('takes back deliveries interrupted mid-attempt, due at once, and prunes old delivered and dead records', async () => {
      const [a, b, c] = [delivery(), delivery(), delivery()];
      const acceptedAt = Date.now();
      await store.enqueue([a, b, c], acceptedAt, OPEN);
      await store.claim({ now: Date.now(), limit: 3 });
      const settledAt = Date.now();
      await store.settle(b.id, { outcome: 'delivered' }, settledAt);
      await store.settle(c.id, { outcome: 'dead', error: DEAD }, settledAt);
      store = await subject.takeOver(store);
      expect((await store.stats()).pending).toBe(1);
      await eventually(
        async () => ((await store.get(a.id, 'client-a'))?.status === 'queued' ? true : undefined),
        'the interrupted delivery to be queued again',
      );
      expect(await store.get(a.id, 'client-a')).toMatchObject({ status: 'queued', attempts: 1 });
      expect((await store.stats()).oldestPendingAt).toBe(acceptedAt);
      const [again] = await store.claim({ now: Date.now(), limit: 5 });
      expect(again).toMatchObject({ id: a.id, attempts: 2 });
      expect(await store.prune({ deliveredBefore: settledAt - 1, deadBefore: settledAt - 1 })).toBe(0);
      expect(await store.prune({ deliveredBefore: Date.now() + 1000, deadBefore: settledAt - 1 })).toBe(1);
      expect(await store.get(b.id, 'client-a')).toBeUndefined();
      expect((await store.usage('client-a')).clientBytes).toBe(a.summary.bytes + c.summary.bytes);
      expect(await store.prune({ deliveredBefore: 0, deadBefore: Date.now() + 1000 })).toBe(1);
      expect(await store.get(c.id, 'client-a')).toBeUndefined();
      expect((await store.usage('client-a')).clientBytes).toBe(a.summary.bytes);
      expect(await subject.heldPayloads()).toBe(1);
      expect((await store.list('client-a', { limit: 10 })).items.map((d) => d.id)).toEqual([a.id]);
      expect((await store.stats()).byStatus).toEqual({ queued: 0, delivering: 1, delivered: 0, dead: 0 });
    });

    it('a refused write throws DeliveryStoreUnavailableError (never resolves as if done) and commits nothing', async () => {
      const [a, b] = [delivery(), delivery()];
      await store.enqueue([a, b], Date.now(), OPEN);
      await store.claim({ now: Date.now(), limit: 2 });
      const letThrough = await subject.refuseWrites();
      try {
        await expect(store.settle(a.id, { outcome: 'delivered' }, Date.now())).rejects.toBeInstanceOf(DeliveryStoreUnavailableError);
        await expect(store.enqueue([delivery()], Date.now(), OPEN)).rejects.toBeInstanceOf(DeliveryStoreUnavailableError);
      } finally {
        await letThrough();
      }
      expect(await store.get(a.id, 'client-a')).toMatchObject({ status: 'delivering' });
      expect(await store.usage('client-a')).toMatchObject({ clientPending: 2 });
      await store.settle(a.id, { outcome: 'delivered' }, Date.now());
      await store.settle(b.id, { outcome: 'delivered' }, Date.now());
      expect(await store.get(a.id, 'client-a')).toMatchObject({ status: 'delivered' });
      expect(await store.usage('client-a')).toMatchObject({ clientPending: 0, clientBytes: 0 });
    });
  });
}
