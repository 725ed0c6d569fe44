import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { canMountTmpfs, mountTmpfs } from '../../test/support/tmpfs.ts';
import { deliveryStoreContract } from './delivery-store.contract.ts';
import type { NewDelivery } from './delivery-store.ts';
import { DATABASE_FILE, RESERVE_FILE, SqliteDeliveryStore } from './sqlite-delivery-store.ts';

// A real full disk where this machine lets tests mount one; else SQLite's own refusal of writes (query_only).
const disk = canMountTmpfs ? mountTmpfs(8 * 1024 * 1024) : undefined;
const root = disk?.dir ?? mkdtempSync(join(tmpdir(), 'gateway-delivery-store-'));
afterAll(() => {
  if (disk) disk.unmount();
  else rmSync(root, { recursive: true, force: true });
});

/** The store's own connection, for what only a test does to it (the file is locked to it). */
const connectionOf = (store: SqliteDeliveryStore): Database.Database => (store as unknown as { db: Database.Database }).db;

let n = 0;
deliveryStoreContract(`SQLite (a real file in WAL mode${disk ? ', on a tmpfs' : ''})`, async () => {
  n += 1;
  const dataDir = join(root, String(n));
  const open = () => new SqliteDeliveryStore({ dataDir, reserveBytes: 128 * 1024 });
  let current = open();
  expect(existsSync(join(dataDir, RESERVE_FILE))).toBe(true);
  return {
    store: current,
    // A restart on the same file: what the worker does at start puts the interrupted attempt back in the queue.
    takeOver: async (stopped) => {
      await stopped.close();
      current = open();
      expect(await current.recoverInterrupted(Date.now())).toBe(1);
      return current;
    },
    heldPayloads: async () => connectionOf(current).prepare('SELECT COUNT(*) FROM delivery_payloads').pluck().get() as number,
    refuseWrites: async () => {
      if (disk) {
        // The reserve spent already: the disk is full for good until the filler goes.
        rmSync(join(dataDir, RESERVE_FILE));
        disk.fill();
        return async () => disk.free();
      }
      connectionOf(current).pragma('query_only = ON');
      return async () => void connectionOf(current).pragma('query_only = OFF');
    },
  };
});

const OPEN_CAPS = { maxPending: 1000, maxPendingPerClient: 1000, maxBytesPerClient: 1e9 };
let made = 0;
const newDelivery = (clientId = 'client-a'): NewDelivery => {
  made += 1;
  const payload = JSON.stringify({ method: 'POST', path: '/events', body: { n: made, padding: 'x'.repeat(2000) } });
  return {
    id: `s-${made}`,
    clientId,
    pluginId: 'plugin-1',
    operationId: 'send',
    requestId: `r-${made}`,
    payload,
    summary: { bytes: Buffer.byteLength(payload) },
  };
};

describe('SQLite delivery store: the file', () => {
  const dirs: string[] = [];
  const freshDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-sqlite-file-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('is created readable by its owner only (0600), and its WAL likewise', async () => {
    const dataDir = freshDir();
    const store = new SqliteDeliveryStore({ dataDir, reserveBytes: 64 * 1024 });
    await store.enqueue([newDelivery()], Date.now(), OPEN_CAPS);
    expect(statSync(join(dataDir, DATABASE_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, `${DATABASE_FILE}-wal`)).mode & 0o777).toBe(0o600);
    await store.close();
  });

  it('is locked to one process: a second store on the same DATA_DIR is refused while the first is open', async () => {
    const dataDir = freshDir();
    const first = new SqliteDeliveryStore({ dataDir, reserveBytes: 64 * 1024, busyTimeoutMs: 100 });
    await first.enqueue([newDelivery()], Date.now(), OPEN_CAPS);
    expect(() => new SqliteDeliveryStore({ dataDir, busyTimeoutMs: 100 })).toThrow(/locked|busy/i);
    await first.close();
  });

  it('moves a schema-1 file (request inside the record) to payloads kept only for pending and dead deliveries', async () => {
    const dataDir = freshDir();
    const old = new Database(join(dataDir, DATABASE_FILE));
    old.exec(`CREATE TABLE deliveries (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, client_id TEXT NOT NULL,
      plugin_id TEXT NOT NULL, operation_id TEXT NOT NULL, request_id TEXT NOT NULL, request TEXT NOT NULL, status TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, window_started_at INTEGER NOT NULL,
      next_attempt_at INTEGER, delivered_at INTEGER, last_error TEXT);
      CREATE INDEX deliveries_delivered ON deliveries (status, delivered_at);`);
    const request = JSON.stringify({ method: 'POST', path: '/events', body: { n: 1 } });
    const insert = old.prepare(
      `INSERT INTO deliveries (id, client_id, plugin_id, operation_id, request_id, request, status, attempts, created_at, updated_at, window_started_at, next_attempt_at, delivered_at)
       VALUES (?, 'client-a', 'plugin-1', 'send', 'r', ?, ?, 0, 1000, 1000, 1000, ?, ?)`,
    );
    insert.run('old-queued', request, 'queued', 1000, null);
    insert.run('old-delivered', request, 'delivered', null, 2000);
    old.close();
    const store = new SqliteDeliveryStore({ dataDir, reserveBytes: 64 * 1024 });
    expect(await store.get('old-delivered', 'client-a')).toMatchObject({
      status: 'delivered',
      deliveredAt: 2000,
      summary: { bytes: request.length },
    });
    expect(await store.usage('client-a')).toEqual({ pending: 1, clientPending: 1, clientBytes: request.length });
    const [claimed] = await store.claim({ now: Date.now(), limit: 5 });
    expect(claimed).toMatchObject({ id: 'old-queued', payload: request });
    expect(connectionOf(store).prepare('SELECT COUNT(*) FROM delivery_payloads').pluck().get()).toBe(1);
    await store.close();
  });

  it('cuts the WAL back to nothing when compacted while idle', async () => {
    const dataDir = freshDir();
    const store = new SqliteDeliveryStore({ dataDir, reserveBytes: 64 * 1024 });
    const items = Array.from({ length: 200 }, () => newDelivery());
    await store.enqueue(items, Date.now(), OPEN_CAPS);
    for (const claimed of await store.claim({ now: Date.now(), limit: 200 }))
      await store.settle(claimed.id, { outcome: 'delivered' }, Date.now());
    const wal = join(dataDir, `${DATABASE_FILE}-wal`);
    expect(statSync(wal).size).toBeGreaterThan(0);
    await store.compact(true);
    expect(statSync(wal).size).toBe(0);
    await store.close();
  });
});

describe.skipIf(!canMountTmpfs)('SQLite delivery store on a disk that fills (a real tmpfs)', () => {
  it('on a full disk: refuses acceptances, still records claims and outcomes on its reserve, and accepts again once space is free', async () => {
    const tmpfs = mountTmpfs(4 * 1024 * 1024) as NonNullable<ReturnType<typeof mountTmpfs>>;
    try {
      const store = new SqliteDeliveryStore({ dataDir: tmpfs.dir, reserveBytes: 512 * 1024 });
      const queued = Array.from({ length: 20 }, () => newDelivery());
      await store.enqueue(queued, Date.now(), OPEN_CAPS);
      tmpfs.fill();
      // What the last free blocks hold may still be taken; then the disk is full.
      const refusal = await (async () => {
        for (let n = 0; n < 1000; n += 1) {
          try {
            await store.enqueue([newDelivery()], Date.now(), OPEN_CAPS);
          } catch (error) {
            return error;
          }
        }
        return undefined;
      })();
      expect(refusal).toMatchObject({ name: 'DeliveryStoreUnavailableError', condition: 'full' });
      // The acceptance found the disk full and released the reserve: what is queued is still delivered and recorded.
      expect(existsSync(join(tmpfs.dir, RESERVE_FILE))).toBe(false);
      for (const claimed of await store.claim({ now: Date.now(), limit: 1000 }))
        await store.settle(claimed.id, { outcome: 'delivered' }, Date.now());
      expect((await store.stats()).byStatus).toMatchObject({ queued: 0, delivering: 0 });
      expect((await store.stats()).byStatus.delivered).toBeGreaterThanOrEqual(20);
      // What the WAL gave back is taken too: the reserve cannot be taken back yet.
      await store.compact(true);
      tmpfs.fill();
      await expect(store.probeWrite()).rejects.toMatchObject({ condition: 'full' });
      await expect(store.enqueue([newDelivery()], Date.now(), OPEN_CAPS)).rejects.toMatchObject({ condition: 'full' });
      tmpfs.free();
      await store.probeWrite();
      expect(existsSync(join(tmpfs.dir, RESERVE_FILE))).toBe(true);
      expect(await store.enqueue([newDelivery()], Date.now(), OPEN_CAPS)).toEqual({ ok: true });
      await store.close();
    } finally {
      tmpfs.unmount();
    }
  });

  it('opens on a full disk (the reserve makes room), recovers interrupted deliveries and delivers; nothing is lost', async () => {
    const tmpfs = mountTmpfs(4 * 1024 * 1024) as NonNullable<ReturnType<typeof mountTmpfs>>;
    try {
      const first = new SqliteDeliveryStore({ dataDir: tmpfs.dir, reserveBytes: 512 * 1024 });
      const queued = Array.from({ length: 10 }, () => newDelivery());
      await first.enqueue(queued, Date.now(), OPEN_CAPS);
      await first.claim({ now: Date.now(), limit: 3 });
      await first.close();
      tmpfs.fill();
      const restarted = new SqliteDeliveryStore({ dataDir: tmpfs.dir, reserveBytes: 512 * 1024 });
      expect(await restarted.recoverInterrupted(Date.now())).toBe(3);
      const claimed = await restarted.claim({ now: Date.now(), limit: 20 });
      expect(claimed.map((d) => d.id).sort()).toEqual(queued.map((d) => d.id).sort());
      for (const d of claimed) await restarted.settle(d.id, { outcome: 'delivered' }, Date.now());
      expect((await restarted.stats()).byStatus).toMatchObject({ queued: 0, delivering: 0, delivered: 10 });
      await expect(restarted.enqueue([newDelivery()], Date.now(), OPEN_CAPS)).rejects.toMatchObject({ condition: 'full' });
      await restarted.close();
    } finally {
      tmpfs.unmount();
    }
  });
});
