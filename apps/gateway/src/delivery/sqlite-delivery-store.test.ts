import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { deliveryStoreContract } from './delivery-store.contract.ts';
import { SqliteDeliveryStore } from './sqlite-delivery-store.ts';

const root = mkdtempSync(join(tmpdir(), 'gateway-delivery-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
deliveryStoreContract('SQLite (a real file in WAL mode)', async () => {
  n += 1;
  const dataDir = join(root, String(n));
  const first = new SqliteDeliveryStore({ dataDir });
  return {
    store: first,
    reopen: async () => {
      await first.close();
      return new SqliteDeliveryStore({ dataDir });
    },
  };
});
