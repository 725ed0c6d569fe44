import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect } from 'vitest';
import { canMountTmpfs, mountTmpfs } from '../../test/support/tmpfs.ts';
import { deliveryStoreContract } from './delivery-store.contract.ts';
import { DATABASE_FILE, SqliteDeliveryStore } from './sqlite-delivery-store.ts';

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
  let current = new SqliteDeliveryStore({ dataDir });
  return {
    store: current,
    // A restart on the same file: what the worker does at start puts the interrupted attempt back in the queue.
    takeOver: async (stopped) => {
      await stopped.close();
      current = new SqliteDeliveryStore({ dataDir });
      expect(await current.recoverInterrupted(Date.now())).toBe(1);
      return current;
    },
    heldPayloads: async () => connectionOf(current).prepare('SELECT COUNT(*) FROM delivery_payloads').pluck().get() as number,
    refuseWrites: async () => {
      if (disk) {
        disk.fill();
        return async () => disk.free();
      }
      connectionOf(current).pragma('query_only = ON');
      return async () => void connectionOf(current).pragma('query_only = OFF');
    },
  };
});

void DATABASE_FILE;
void Database;
