import type { OperationResult } from '@gateway/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IdempotencyStore } from './idempotency-store.ts';

const TTL = 60_000;
const result = (n: number): OperationResult => ({ ok: true, status: 201, body: { n }, requestId: `r-${n}`, attempts: 1 });

/**
 * What every IdempotencyStore backend must do (in process, Redis); each backend's test runs it on a fresh store
 * whose per-client cap is 3.
 */
export function idempotencyStoreContract(
  name: string,
  open: (limits: { maxRecordsPerClient: number }) => Promise<{ store: IdempotencyStore; close(): Promise<void> }>,
): void {
  describe(`IdempotencyStore contract: ${name}`, () => {
    let store: IdempotencyStore;
    let close: () => Promise<void>;
    beforeEach(async () => {
      ({ store, close } = await open({ maxRecordsPerClient: 3 }));
    });
    afterEach(async () => {
      await close();
    });

    it('claims a key once: a second claim sees the in-flight record, then the completed result', async () => {
      expect(await store.claim('client-a', 'k1', 'fp', TTL)).toEqual({ claimed: true });
      const inFlight = await store.claim('client-a', 'k1', 'fp', TTL);
      expect(inFlight).toMatchObject({ claimed: false, existing: { state: 'in-flight', fingerprint: 'fp' } });
      await store.complete('client-a', 'k1', 'fp', result(1), TTL);
      const done = await store.claim('client-a', 'k1', 'other-fp', TTL);
      expect(done).toMatchObject({ claimed: false, existing: { state: 'done', fingerprint: 'fp', result: result(1) } });
    });

    it('a released key can be claimed again', async () => {
      await store.claim('client-a', 'k1', 'fp', TTL);
      await store.release('k1');
      expect(await store.claim('client-a', 'k1', 'fp2', TTL)).toEqual({ claimed: true });
    });

    it('a record expires with its TTL', async () => {
      await store.claim('client-a', 'k1', 'fp', 200);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(await store.claim('client-a', 'k1', 'fp', TTL)).toEqual({ claimed: true });
    });

    it('a client at its cap loses its own oldest record, never another client’s', async () => {
      await store.claim('client-b', 'b1', 'fp', TTL);
      await store.complete('client-b', 'b1', 'fp', result(0), TTL);
      for (const n of [1, 2, 3, 4]) {
        await store.claim('client-a', `a${n}`, 'fp', TTL);
        await store.complete('client-a', `a${n}`, 'fp', result(n), TTL);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(await store.claim('client-a', 'a1', 'fp', TTL)).toEqual({ claimed: true });
      expect(await store.claim('client-a', 'a4', 'fp', TTL)).toMatchObject({ claimed: false });
      expect(await store.claim('client-b', 'b1', 'fp', TTL)).toMatchObject({ claimed: false, existing: { result: result(0) } });
    });
  });
}
