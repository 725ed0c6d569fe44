import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { deliveryStoreContract } from './delivery-store.contract.ts';
import { SqliteDeliveryStore } from './sqlite-delivery-store.ts';

const root = mkdtempSync(join(tmpdir(), 'gateway-delivery-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
deliveryStoreContract('SQLite (a real file in WAL mode)', async () => {
  n += 1;
  const dataDir = join(root, String(n));
  return {
    store: new SqliteDeliveryStore({ dataDir }),
    // A restart on the same file: what the worker does at start puts the interrupted attempt back in the queue.
    takeOver: async (stopped) => {
      await stopped.close();
      const restarted = new SqliteDeliveryStore({ dataDir });
      expect(await restarted.recoverInterrupted(Date.now())).toBe(1);
      return restarted;
    },
  };
});
