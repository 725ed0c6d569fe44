import type { OperationResult } from '@gateway/core';

export type IdempotencyRecord =
  | { readonly state: 'in-flight'; readonly fingerprint: string; readonly expiresAt: number }
  | { readonly state: 'done'; readonly fingerprint: string; readonly expiresAt: number; readonly result: OperationResult };

export type ClaimOutcome =
  | { readonly claimed: true }
  | { readonly claimed: false; readonly existing: IdempotencyRecord };

/**
 * Where idempotency records live. The in-process store serves one instance; a shared store (e.g. Redis with
 * SET NX PX) implements the same three calls for several instances.
 */
export interface IdempotencyStore {
  /** Atomically records an in-flight request for `key`, unless a live record exists. */
  claim(key: string, fingerprint: string, ttlMs: number): Promise<ClaimOutcome>;
  complete(key: string, fingerprint: string, result: OperationResult, ttlMs: number): Promise<void>;
  /** Forgets an in-flight claim whose outcome should not be replayed (e.g. a transient failure). */
  release(key: string): Promise<void>;
}

/** In-process store with expiry and a size bound (oldest records go first). */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly records = new Map<string, IdempotencyRecord>();

  constructor(
    private readonly maxRecords = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(key: string, fingerprint: string, ttlMs: number): Promise<ClaimOutcome> {
    const existing = this.records.get(key);
    if (existing && existing.expiresAt > this.now()) return { claimed: false, existing };
    this.records.delete(key);
    this.evictIfFull();
    this.records.set(key, { state: 'in-flight', fingerprint, expiresAt: this.now() + ttlMs });
    return { claimed: true };
  }

  async complete(key: string, fingerprint: string, result: OperationResult, ttlMs: number): Promise<void> {
    this.records.delete(key);
    this.records.set(key, { state: 'done', fingerprint, result, expiresAt: this.now() + ttlMs });
  }

  async release(key: string): Promise<void> {
    this.records.delete(key);
  }

  private evictIfFull(): void {
    const now = this.now();
    for (const [key, record] of this.records) {
      if (this.records.size < this.maxRecords && record.expiresAt > now) break;
      this.records.delete(key);
    }
  }
}
