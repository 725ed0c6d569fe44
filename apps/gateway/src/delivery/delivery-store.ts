import type { UpstreamRequest } from '@gateway/core';

export type DeliveryStatus = 'queued' | 'delivering' | 'delivered' | 'dead';

export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['queued', 'delivering', 'delivered', 'dead'];

/** Why the latest attempt did not deliver: the upstream's status (or a transport failure) and its message. */
export interface DeliveryError {
  /** Upstream HTTP status; absent for a transport failure (timeout, refused, reset). */
  readonly status?: number;
  /** A failure kind (`upstream-rejected-input`, `upstream-unreachable`, `retry-window-exhausted`, ...). */
  readonly type: string;
  readonly detail: string;
}

/** A request accepted for delivery: validated and shaped, ready to be sent as it is. */
export interface NewDelivery {
  readonly id: string;
  /** The inbound client that owns it (an inbound key id or an address); only it can see or act on the record. */
  readonly clientId: string;
  readonly pluginId: string;
  readonly operationId: string;
  readonly requestId: string;
  readonly request: UpstreamRequest;
  /** W3C traceparent of the span that accepted it (tracing on): each delivery attempt's trace links to it. Opaque here. */
  readonly acceptedTraceparent?: string;
}

export interface DeliveryRecord extends NewDelivery {
  readonly status: DeliveryStatus;
  readonly attempts: number;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Start of the current retry window: acceptance, or the latest manual retry of a dead delivery. */
  readonly windowStartedAt: number;
  readonly nextAttemptAt?: number;
  readonly deliveredAt?: number;
  readonly lastError?: DeliveryError;
}

export interface ClaimOptions {
  readonly now: number;
  readonly limit: number;
  /** Plugins whose deliveries are paused (their upstream refused the gateway's key): none of theirs is claimed. */
  readonly excludePlugins?: readonly string[];
  /** Claim only this plugin's deliveries (a probe while it is paused). */
  readonly onlyPlugin?: string;
}

export interface ListOptions {
  readonly status?: DeliveryStatus;
  readonly limit: number;
  /** Opaque position from a previous page's `nextCursor`. */
  readonly cursor?: string;
}

export interface DeliveryPage {
  readonly items: readonly DeliveryRecord[];
  readonly nextCursor?: string;
}

export interface DeliveryStats {
  /** Deliveries not yet delivered or dead (queued or being delivered). */
  readonly pending: number;
  /** Epoch milliseconds of the oldest pending delivery's acceptance. */
  readonly oldestPendingAt?: number;
}

/** The store could not take the write (disk full, read-only, locked): nothing was committed. */
export class DeliveryStoreUnavailableError extends Error {
  override readonly name = 'DeliveryStoreUnavailableError';
}

/** A cursor that this store did not hand out. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

/**
 * The durable delivery queue and its status records. Every backend (SQLite, Redis) implements it and passes the
 * same contract tests (`delivery-store.contract.ts`); REST, MCP and the worker know only this interface.
 */
export interface DeliveryStore {
  /** Commits all of them or none (one transaction), each `queued` and due now. */
  enqueue(deliveries: readonly NewDelivery[], now: number): Promise<void>;
  /** Moves up to `limit` due deliveries, oldest first, to `delivering` (one more attempt) and returns them. */
  claimDue(options: ClaimOptions): Promise<DeliveryRecord[]>;
  markDelivered(id: string, now: number): Promise<void>;
  /** Back to `queued`, due at `nextAttemptAt`, remembering why this attempt failed. */
  reschedule(id: string, nextAttemptAt: number, error: DeliveryError | undefined, now: number): Promise<void>;
  /** Back to `queued` without counting the attempt (paused upstream, shutdown). */
  release(id: string, nextAttemptAt: number, now: number): Promise<void>;
  markDead(id: string, error: DeliveryError, now: number): Promise<void>;
  /** The client's own delivery, or undefined (another client's id is not found either). */
  get(id: string, clientId: string): Promise<DeliveryRecord | undefined>;
  list(clientId: string, options: ListOptions): Promise<DeliveryPage>;
  /** A dead delivery of this client back to `queued` with a fresh retry window; undefined when there is none. */
  retry(id: string, clientId: string, now: number): Promise<DeliveryRecord | undefined>;
  /** Removes a queued or dead delivery of this client; 'not-found', or 'busy' when it is being delivered or delivered. */
  discard(id: string, clientId: string): Promise<'discarded' | 'not-found' | 'busy'>;
  /** Deliveries left `delivering` by a process that stopped mid-attempt go back to `queued` (at-least-once). */
  recoverInterrupted(now: number): Promise<number>;
  /** Removes delivered records older than `before`; returns how many. */
  pruneDelivered(before: number): Promise<number>;
  /** Due time of the earliest queued delivery, if any. */
  nextDueAt(): Promise<number | undefined>;
  /**
   * Pending deliveries (queued or being delivered), all of them or one client's: cheap, asked on every acceptance
   * for back-pressure. A client's count may fall short of the truth for a moment after a crash mid-transition
   * (never over it: a client is never refused for deliveries it no longer has).
   */
  countPending(clientId?: string): Promise<number>;
  /** Pending count and the oldest pending acceptance time, for metrics. */
  stats(): Promise<DeliveryStats>;
  close(): Promise<void>;
}
