export type DeliveryStatus = 'queued' | 'delivering' | 'delivered' | 'dead';

export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['queued', 'delivering', 'delivered', 'dead'];

/** Why the latest attempt did not deliver: the upstream's status (or a transport failure) and its message. */
export interface DeliveryError {
  /** Upstream HTTP status; absent for a transport failure (timeout, refused, reset). */
  readonly status?: number;
  /** A failure kind (`upstream-rejected-input`, `upstream-unreachable`, `retry-window-exhausted`, `tampered`, ...). */
  readonly type: string;
  readonly detail: string;
}

/**
 * What a person recognises a delivery by, kept for its whole life (the payload is not): non-secret fields picked by
 * the operation's `delivery.summarize`, and `bytes`, the size of the stored payload (what the byte caps count).
 */
export interface DeliverySummary {
  readonly bytes: number;
  readonly eventName?: string;
  readonly identifyId?: string;
  readonly accountId?: string;
}

/** A request accepted for delivery: validated and shaped, ready to be sent as it is. */
export interface NewDelivery {
  readonly id: string;
  /** The inbound client that owns it (an inbound key id or an address); only it can see or act on the record. */
  readonly clientId: string;
  readonly pluginId: string;
  readonly operationId: string;
  readonly requestId: string;
  /**
   * The upstream request, encoded by `payload-codec.ts` (JSON, or sealed): opaque to stores, which keep it only
   * while the delivery is pending or dead and never read it for `get`, `list` or counts.
   */
  readonly payload: string;
  /** `summary.bytes` is the payload's UTF-8 size. */
  readonly summary: DeliverySummary;
  /** W3C traceparent of the accepting request, kept as given (opaque to stores). */
  readonly acceptedTraceparent?: string;
}

/** The ledger's view of a delivery: never the payload. */
export interface DeliveryRecord {
  readonly id: string;
  readonly clientId: string;
  readonly pluginId: string;
  readonly operationId: string;
  readonly requestId: string;
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
  readonly summary: DeliverySummary;
  readonly acceptedTraceparent?: string;
}

/** A delivery handed to the worker: its record (now `delivering`) and the payload to send. */
export interface ClaimedDelivery extends DeliveryRecord {
  readonly payload: string;
}

export interface ClaimOptions {
  readonly now: number;
  readonly limit: number;
  /** Plugins whose deliveries are paused (their upstream refused the gateway's key): none of theirs is claimed. */
  readonly excludePlugins?: readonly string[];
  /** Claim only this plugin's deliveries (a probe while it is paused). */
  readonly onlyPlugin?: string;
}

/** How an attempt ended, as the queue records it. Every settlement applies only to a `delivering` record. */
export type Settlement =
  /** Sent and answered 2xx: the payload is dropped, the record kept until DELIVERY_RETENTION. */
  | { readonly outcome: 'delivered' }
  /** Never to be sent again by itself (rejected, window exhausted, tampered): the payload is kept for a retry. */
  | { readonly outcome: 'dead'; readonly error: DeliveryError }
  /** Back to `queued`, due at `nextAttemptAt`, remembering why this attempt failed. */
  | { readonly outcome: 'retry'; readonly nextAttemptAt: number; readonly error?: DeliveryError }
  /** Back to `queued` without counting the attempt (paused upstream, shutdown). */
  | { readonly outcome: 'release'; readonly nextAttemptAt: number };

/**
 * What one client (and the whole queue) may hold, checked by the store in the same transaction as the write:
 * an acceptance and a manual retry pass the same caps.
 */
export interface DeliveryCaps {
  /** Pending (queued + delivering) deliveries of all clients. */
  readonly maxPending: number;
  /** Pending deliveries of one client. */
  readonly maxPendingPerClient: number;
  /** Payload bytes one client holds: pending and dead deliveries (delivered ones keep no payload). */
  readonly maxBytesPerClient: number;
}

/** What a client holds now, and what the whole queue holds. */
export interface DeliveryUsage {
  readonly pending: number;
  readonly clientPending: number;
  readonly clientBytes: number;
}

/** Which cap refused a write (nothing of it was committed), with the usage it was checked against. */
export interface CapRefusal {
  readonly cap: 'max-pending' | 'max-pending-per-client' | 'max-bytes-per-client';
  readonly usage: DeliveryUsage;
}

export type EnqueueResult = { readonly ok: true } | ({ readonly ok: false } & CapRefusal);

export type RetryResult =
  | { readonly outcome: 'retried'; readonly record: DeliveryRecord }
  /** No such delivery of this client, or it is not dead. */
  | { readonly outcome: 'not-dead' }
  | ({ readonly outcome: 'refused' } & CapRefusal);

export interface ListOptions {
  readonly status?: DeliveryStatus;
  readonly pluginId?: string;
  readonly limit: number;
  /** Opaque position from a previous page's `nextCursor` (handed to this client; another client's is invalid). */
  readonly cursor?: string;
}

export interface DeliveryPage {
  readonly items: readonly DeliveryRecord[];
  /** Present exactly when more records may follow; a page may be shorter than `limit` only when it is the last. */
  readonly nextCursor?: string;
}

/** Which of a client's deliveries a bulk retry or discard touches (all given conditions hold). */
export interface DeliveryFilter {
  readonly status?: 'queued' | 'dead';
  readonly pluginId?: string;
  /** createdAt < before (epoch ms). */
  readonly before?: number;
  /** At most 1000 ids. */
  readonly ids?: readonly string[];
}

export type StatusCounts = Record<DeliveryStatus, number>;

/** One client's deliveries at a glance. */
export interface DeliveriesSummary {
  readonly byStatus: StatusCounts;
  readonly byPlugin: Record<string, StatusCounts>;
  /** Epoch ms of the acceptance of the client's oldest queued delivery. */
  readonly oldestQueuedAt?: number;
  readonly deliveredLastMinute: number;
}

export interface DeliveryStats {
  /** Deliveries not yet delivered or dead (queued or being delivered). */
  readonly pending: number;
  /** Records held now, by status (all clients): `gateway_deliveries{status}`. */
  readonly byStatus: StatusCounts;
  /** Epoch milliseconds of the oldest pending delivery's acceptance. */
  readonly oldestPendingAt?: number;
}

/** The store could not take the write (disk full, read-only, locked): nothing was committed. */
export class DeliveryStoreUnavailableError extends Error {
  override readonly name = 'DeliveryStoreUnavailableError';
  /** `full`: the disk or database is full (SQLITE_FULL, ENOSPC); readiness reports it. */
  constructor(
    message: string,
    readonly condition: 'full' | 'read-only' | 'unavailable' = 'unavailable',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A cursor that this store did not hand out to this client. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

/** The worker's side: what is due, who delivers it, how it ended. */
export interface DeliveryQueue {
  /**
   * Commits all of them or none (one transaction), each `queued` and due now, if the caps allow the whole batch
   * (all of one client: one acceptance);
   * otherwise commits nothing and says which cap refused. A failed write throws DeliveryStoreUnavailableError.
   */
  enqueue(deliveries: readonly NewDelivery[], now: number, caps: DeliveryCaps): Promise<EnqueueResult>;
  /**
   * Moves up to `limit` due deliveries, oldest due first, to `delivering` (one more attempt, `updatedAt` = `now`)
   * and returns them with their payloads.
   */
  claim(options: ClaimOptions): Promise<ClaimedDelivery[]>;
  /**
   * Records how an attempt ended. Resolves only once the write is committed (a failed write throws, never
   * resolves silently); a record no longer `delivering` (discarded, settled) is left as it is.
   */
  settle(id: string, settlement: Settlement, now: number): Promise<void>;
  /**
   * At start: deliveries left `delivering` by a process that stopped mid-attempt go back to `queued`
   * (at-least-once), due now; returns how many. A backend that recovers them on its own may return 0.
   */
  recoverInterrupted(now: number): Promise<number>;
  /** Due time of the earliest queued delivery, if any. */
  nextDueAt(): Promise<number | undefined>;
  /**
   * Optional: a write that changes nothing, to learn whether writes are taken again after a refusal (a full disk
   * freed); throws DeliveryStoreUnavailableError while they are still refused.
   */
  probeWrite?(): Promise<void>;
  /**
   * Optional: `full` while the store works on space it set aside (claims and outcomes go on, acceptances are
   * refused) until `probeWrite` finds room again; `ok` otherwise.
   */
  condition?(): 'ok' | 'full';
  /** Optional housekeeping after a drain (`idle` false) or when nothing is pending (`idle` true), e.g. a WAL checkpoint. */
  compact?(idle: boolean): Promise<void>;
}

/** What people (REST, MCP, console) read and do with their deliveries; never reads a payload. */
export interface DeliveryLedger {
  /** The client's own delivery, or undefined (another client's id is not found either). */
  get(id: string, clientId: string): Promise<DeliveryRecord | undefined>;
  /** The client's deliveries in acceptance order, filtered; cursors are opaque and bound to the client. */
  list(clientId: string, options: ListOptions): Promise<DeliveryPage>;
  summary(clientId: string, now: number): Promise<DeliveriesSummary>;
  /** What the queue and this client hold now (cheap: asked for back-pressure). */
  usage(clientId: string): Promise<DeliveryUsage>;
  /** Counts by status and the oldest pending acceptance, for metrics (all clients). */
  stats(): Promise<DeliveryStats>;
  /** A dead delivery of this client back to `queued` with a fresh retry window, if the caps allow it. */
  retry(id: string, clientId: string, now: number, caps: DeliveryCaps): Promise<RetryResult>;
  /**
   * Dead deliveries of this client matching the filter back to `queued`, oldest first, each passing the caps;
   * at the first refusal it stops (the rest stay dead). `matched` counts the dead ones that matched.
   */
  retryMatching(
    clientId: string,
    filter: DeliveryFilter,
    now: number,
    caps: DeliveryCaps,
  ): Promise<{ matched: number; retried: number; refusal?: CapRefusal }>;
  /** Removes a queued or dead delivery of this client; 'not-found', or 'busy' when it is being delivered or delivered. */
  discard(id: string, clientId: string): Promise<'discarded' | 'not-found' | 'busy'>;
  /** Removes this client's queued or dead deliveries matching the filter. */
  discardMatching(clientId: string, filter: DeliveryFilter): Promise<{ matched: number; discarded: number }>;
  /** Removes delivered records delivered before `deliveredBefore` and dead ones last updated before `deadBefore`. */
  prune(options: { readonly deliveredBefore: number; readonly deadBefore: number }): Promise<number>;
}

/**
 * The durable delivery queue and its ledger. Every backend (SQLite, Redis) implements both and passes the same
 * contract tests (`delivery-store.contract.ts`); REST, MCP and the worker know only these interfaces.
 */
export interface DeliveryStore extends DeliveryQueue, DeliveryLedger {
  close(): Promise<void>;
}

export const emptyStatusCounts = (): StatusCounts => ({ queued: 0, delivering: 0, delivered: 0, dead: 0 });
