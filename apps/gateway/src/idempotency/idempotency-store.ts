import type { OperationResult } from '@gateway/core';

export type IdempotencyRecord =
  | { readonly state: 'in-flight'; readonly fingerprint: string; readonly expiresAt: number }
  | { readonly state: 'done'; readonly fingerprint: string; readonly expiresAt: number; readonly result: OperationResult };

export type ClaimOutcome = { readonly claimed: true } | { readonly claimed: false; readonly existing: IdempotencyRecord };

/**
 * Where idempotency records live. The in-process store serves one instance; a shared store (e.g. Redis with
 * SET NX PX) implements the same three calls for several instances. `clientId` is whose record it is: a store
 * bounds the records of each client, so one client cannot push out everyone else's.
 */
export interface IdempotencyStore {
  /** Atomically records an in-flight request for `key`, unless a live record exists. */
  claim(clientId: string, key: string, fingerprint: string, ttlMs: number): Promise<ClaimOutcome>;
  complete(clientId: string, key: string, fingerprint: string, result: OperationResult, ttlMs: number): Promise<void>;
  /** Forgets an in-flight claim whose outcome should not be replayed (e.g. a transient failure). */
  release(key: string): Promise<void>;
}

export interface IdempotencyLimits {
  /** Records kept for all clients together. */
  readonly maxRecords: number;
  /** Records kept for one client; at this cap its own oldest record goes first. */
  readonly maxRecordsPerClient: number;
}

export const DEFAULT_IDEMPOTENCY_LIMITS: IdempotencyLimits = { maxRecords: 100_000, maxRecordsPerClient: 10_000 };

interface StoredRecord {
  readonly clientId: string;
  readonly record: IdempotencyRecord;
}

/**
 * In-process store with expiry and two size bounds: a client at its cap loses its own oldest record, and
 * when all clients together reach the overall cap the oldest record of anyone goes.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  /** Oldest first: a Map keeps insertion order, and every write re-inserts. */
  private readonly records = new Map<string, StoredRecord>();
  /** Each client's record keys, oldest first. */
  private readonly keysByClient = new Map<string, Set<string>>();

  constructor(
    private readonly limits: IdempotencyLimits = DEFAULT_IDEMPOTENCY_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(clientId: string, key: string, fingerprint: string, ttlMs: number): Promise<ClaimOutcome> {
    const existing = this.records.get(key)?.record;
    if (existing && existing.expiresAt > this.now()) return { claimed: false, existing };
    this.put(clientId, key, { state: 'in-flight', fingerprint, expiresAt: this.now() + ttlMs });
    return { claimed: true };
  }

  async complete(clientId: string, key: string, fingerprint: string, result: OperationResult, ttlMs: number): Promise<void> {
    this.put(clientId, key, { state: 'done', fingerprint, result, expiresAt: this.now() + ttlMs });
  }

  async release(key: string): Promise<void> {
    this.remove(key);
  }

  private put(clientId: string, key: string, record: IdempotencyRecord): void {
    this.remove(key);
    this.removeExpired();
    const own = this.keysByClient.get(clientId) ?? new Set<string>();
    const ownOldest = own.values().next();
    if (own.size >= this.limits.maxRecordsPerClient && !ownOldest.done) this.remove(ownOldest.value);
    const oldest = this.records.keys().next();
    if (this.records.size >= this.limits.maxRecords && !oldest.done) this.remove(oldest.value);
    this.records.set(key, { clientId, record });
    this.keysByClient.set(clientId, own.add(key));
  }

  private remove(key: string): void {
    const stored = this.records.get(key);
    if (!stored) return;
    this.records.delete(key);
    const own = this.keysByClient.get(stored.clientId);
    own?.delete(key);
    if (own?.size === 0) this.keysByClient.delete(stored.clientId);
  }

  /** Records are written with one TTL, so the oldest expire first. */
  private removeExpired(): void {
    const now = this.now();
    for (const [key, stored] of this.records) {
      if (stored.record.expiresAt > now) break;
      this.remove(key);
    }
  }
}
