import { DEFAULT_IDEMPOTENCY_LIMITS, MemoryIdempotencyStore } from './idempotency-store.ts';
import { idempotencyStoreContract } from './idempotency-store.contract.ts';

idempotencyStoreContract('in process', async (limits) => ({
  store: new MemoryIdempotencyStore({ ...DEFAULT_IDEMPOTENCY_LIMITS, ...limits }),
  close: async () => undefined,
}));
