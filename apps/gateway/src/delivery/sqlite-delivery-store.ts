import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  type ClaimOptions,
  type DeliveryError,
  type DeliveryPage,
  type DeliveryRecord,
  type DeliveryStats,
  type DeliveryStatus,
  type DeliveryStore,
  DeliveryStoreUnavailableError,
  InvalidCursorError,
  type ListOptions,
  type NewDelivery,
} from './delivery-store.ts';

export interface SqliteDeliveryStoreOptions {
  /** Directory of the database file (`deliveries.sqlite`); created when missing. */
  readonly dataDir: string;
  /** `true`: fsync every commit (survives power loss); `false`: WAL's NORMAL sync (survives a process crash). */
  readonly fsync?: boolean;
}

interface Row {
  seq: number;
  id: string;
  client_id: string;
  plugin_id: string;
  operation_id: string;
  request_id: string;
  request: string;
  status: DeliveryStatus;
  attempts: number;
  created_at: number;
  updated_at: number;
  window_started_at: number;
  next_attempt_at: number | null;
  delivered_at: number | null;
  last_error: string | null;
  accepted_traceparent: string | null;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    plugin_id TEXT NOT NULL,
    operation_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    request TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    window_started_at INTEGER NOT NULL,
    next_attempt_at INTEGER,
    delivered_at INTEGER,
    last_error TEXT,
    accepted_traceparent TEXT
  );
  CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_attempt_at, seq);
  CREATE INDEX IF NOT EXISTS deliveries_by_client ON deliveries (client_id, status, seq);
  CREATE INDEX IF NOT EXISTS deliveries_delivered ON deliveries (status, delivered_at);
  CREATE INDEX IF NOT EXISTS deliveries_status_order ON deliveries (status, seq);
`;

/**
 * The embedded delivery queue: one SQLite file in WAL mode (better-sqlite3), for one gateway process.
 * Calls are synchronous underneath; the interface is async so that a networked backend fits the same port.
 */
export class SqliteDeliveryStore implements DeliveryStore {
  private readonly db: Database.Database;
  /** Pending (queued + delivering) count, kept in step with every write so back-pressure costs no query. */
  private pending: number;
  /** The same per client (only clients with pending deliveries), for the per-client cap. */
  private readonly pendingByClient = new Map<string, number>();
  private readonly statements;

  constructor(options: SqliteDeliveryStoreOptions) {
    mkdirSync(options.dataDir, { recursive: true });
    this.db = new Database(join(options.dataDir, 'deliveries.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.fsync ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    addAcceptedTraceparent(this.db);
    this.statements = {
      insert: this.db.prepare(
        `INSERT INTO deliveries (id, client_id, plugin_id, operation_id, request_id, request, status, attempts, created_at, updated_at, window_started_at, next_attempt_at, accepted_traceparent)
         VALUES (@id, @clientId, @pluginId, @operationId, @requestId, @request, 'queued', 0, @now, @now, @now, @now, @acceptedTraceparent)`,
      ),
      due: this.db.prepare(
        `SELECT * FROM deliveries WHERE status = 'queued' AND next_attempt_at <= ? ORDER BY next_attempt_at, seq LIMIT ?`,
      ),
      dueOnly: this.db.prepare(
        `SELECT * FROM deliveries WHERE status = 'queued' AND next_attempt_at <= ? AND plugin_id = ? ORDER BY next_attempt_at, seq LIMIT ?`,
      ),
      claim: this.db.prepare(`UPDATE deliveries SET status = 'delivering', attempts = attempts + 1, updated_at = ? WHERE seq = ?`),
      delivered: this.db.prepare(
        `UPDATE deliveries SET status = 'delivered', delivered_at = ?, updated_at = ?, next_attempt_at = NULL WHERE id = ? AND status = 'delivering' RETURNING client_id`,
      ),
      reschedule: this.db.prepare(
        `UPDATE deliveries SET status = 'queued', next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ? AND status = 'delivering'`,
      ),
      release: this.db.prepare(
        `UPDATE deliveries SET status = 'queued', attempts = MAX(0, attempts - 1), next_attempt_at = ?, updated_at = ? WHERE id = ? AND status = 'delivering'`,
      ),
      dead: this.db.prepare(
        `UPDATE deliveries SET status = 'dead', last_error = ?, updated_at = ?, next_attempt_at = NULL WHERE id = ? AND status = 'delivering' RETURNING client_id`,
      ),
      get: this.db.prepare(`SELECT * FROM deliveries WHERE id = ? AND client_id = ?`),
      list: this.db.prepare(`SELECT * FROM deliveries WHERE client_id = ? AND seq > ? ORDER BY seq LIMIT ?`),
      listStatus: this.db.prepare(`SELECT * FROM deliveries WHERE client_id = ? AND status = ? AND seq > ? ORDER BY seq LIMIT ?`),
      retry: this.db.prepare(
        `UPDATE deliveries SET status = 'queued', next_attempt_at = ?, window_started_at = ?, updated_at = ? WHERE id = ? AND client_id = ? AND status = 'dead'`,
      ),
      discard: this.db.prepare(`DELETE FROM deliveries WHERE id = ? AND client_id = ? AND status IN ('queued', 'dead')`),
      statusOf: this.db.prepare(`SELECT status FROM deliveries WHERE id = ? AND client_id = ?`),
      recover: this.db.prepare(`UPDATE deliveries SET status = 'queued', next_attempt_at = ?, updated_at = ? WHERE status = 'delivering'`),
      prune: this.db.prepare(`DELETE FROM deliveries WHERE status = 'delivered' AND delivered_at < ?`),
      nextDue: this.db.prepare(`SELECT MIN(next_attempt_at) AS due FROM deliveries WHERE status = 'queued'`),
      pendingByClient: this.db.prepare(
        `SELECT client_id, COUNT(*) AS n FROM deliveries WHERE status IN ('queued', 'delivering') GROUP BY client_id`,
      ),
      // The oldest of each pending status by (status, seq): two index lookups, not a scan of a deep queue.
      oldestPending: this.db.prepare(
        `SELECT MIN(created_at) AS at FROM deliveries WHERE seq IN ((SELECT MIN(seq) FROM deliveries WHERE status = 'queued'), (SELECT MIN(seq) FROM deliveries WHERE status = 'delivering'))`,
      ),
    };
    this.pending = 0;
    for (const { client_id, n } of this.statements.pendingByClient.all() as { client_id: string; n: number }[]) {
      this.pendingByClient.set(client_id, n);
      this.pending += n;
    }
  }

  async enqueue(deliveries: readonly NewDelivery[], now: number): Promise<void> {
    const insertAll = this.db.transaction((items: readonly NewDelivery[]) => {
      for (const item of items)
        this.statements.insert.run({
          ...item,
          request: JSON.stringify(item.request),
          acceptedTraceparent: item.acceptedTraceparent ?? null,
          now,
        });
    });
    this.write(() => insertAll(deliveries));
    for (const delivery of deliveries) this.adjustPending(delivery.clientId, 1);
  }

  async claimDue({ now, limit, excludePlugins = [], onlyPlugin }: ClaimOptions): Promise<DeliveryRecord[]> {
    const claim = this.db.transaction(() => {
      const claimed: DeliveryRecord[] = [];
      const candidates = (
        onlyPlugin
          ? this.statements.dueOnly.all(now, onlyPlugin, limit)
          : excludePlugins.length > 0
            ? this.dueExcluding(excludePlugins.length).all(now, ...excludePlugins, limit)
            : this.statements.due.all(now, limit)
      ) as Row[];
      for (const row of candidates) {
        this.statements.claim.run(now, row.seq);
        claimed.push(toRecord({ ...row, status: 'delivering', attempts: row.attempts + 1, updated_at: now }));
      }
      return claimed;
    });
    return this.write(claim);
  }

  private readonly dueExcludingStatements = new Map<number, Database.Statement>();

  /** Due deliveries of every plugin but `count` excluded ones (paused); one prepared statement per count. */
  private dueExcluding(count: number): Database.Statement {
    let statement = this.dueExcludingStatements.get(count);
    if (!statement) {
      const placeholders = Array.from({ length: count }, () => '?').join(', ');
      statement = this.db.prepare(
        `SELECT * FROM deliveries WHERE status = 'queued' AND next_attempt_at <= ? AND plugin_id NOT IN (${placeholders}) ORDER BY next_attempt_at, seq LIMIT ?`,
      );
      this.dueExcludingStatements.set(count, statement);
    }
    return statement;
  }

  async markDelivered(id: string, now: number): Promise<void> {
    const settled = this.write(() => this.statements.delivered.get(now, now, id)) as { client_id: string } | undefined;
    if (settled) this.adjustPending(settled.client_id, -1);
  }

  async reschedule(id: string, nextAttemptAt: number, error: DeliveryError | undefined, now: number): Promise<void> {
    this.write(() => this.statements.reschedule.run(nextAttemptAt, error ? JSON.stringify(error) : null, now, id));
  }

  async release(id: string, nextAttemptAt: number, now: number): Promise<void> {
    this.write(() => this.statements.release.run(nextAttemptAt, now, id));
  }

  async markDead(id: string, error: DeliveryError, now: number): Promise<void> {
    const settled = this.write(() => this.statements.dead.get(JSON.stringify(error), now, id)) as { client_id: string } | undefined;
    if (settled) this.adjustPending(settled.client_id, -1);
  }

  async get(id: string, clientId: string): Promise<DeliveryRecord | undefined> {
    const row = this.statements.get.get(id, clientId) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  async list(clientId: string, { status, limit, cursor }: ListOptions): Promise<DeliveryPage> {
    const after = cursor === undefined ? 0 : decodeCursor(cursor);
    const rows = (
      status ? this.statements.listStatus.all(clientId, status, after, limit + 1) : this.statements.list.all(clientId, after, limit + 1)
    ) as Row[];
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map(toRecord), ...(rows.length > limit && last ? { nextCursor: encodeCursor(last.seq) } : {}) };
  }

  async retry(id: string, clientId: string, now: number): Promise<DeliveryRecord | undefined> {
    const changed = this.write(() => this.statements.retry.run(now, now, now, id, clientId)).changes;
    if (changed === 0) return undefined;
    this.adjustPending(clientId, 1);
    return this.get(id, clientId);
  }

  async discard(id: string, clientId: string): Promise<'discarded' | 'not-found' | 'busy'> {
    const current = this.statements.statusOf.get(id, clientId) as { status: DeliveryStatus } | undefined;
    if (!current) return 'not-found';
    if (current.status !== 'queued' && current.status !== 'dead') return 'busy';
    const changed = this.write(() => this.statements.discard.run(id, clientId)).changes;
    if (changed === 0) return 'busy';
    if (current.status === 'queued') this.adjustPending(clientId, -1);
    return 'discarded';
  }

  async recoverInterrupted(now: number): Promise<number> {
    return this.write(() => this.statements.recover.run(now, now)).changes;
  }

  async pruneDelivered(before: number): Promise<number> {
    return this.write(() => this.statements.prune.run(before)).changes;
  }

  async nextDueAt(): Promise<number | undefined> {
    return (this.statements.nextDue.get() as { due: number | null }).due ?? undefined;
  }

  async countPending(clientId?: string): Promise<number> {
    return clientId === undefined ? this.pending : (this.pendingByClient.get(clientId) ?? 0);
  }

  async stats(): Promise<DeliveryStats> {
    const oldest = (this.statements.oldestPending.get() as { at: number | null }).at;
    return { pending: this.pending, ...(oldest !== null ? { oldestPendingAt: oldest } : {}) };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private adjustPending(clientId: string, change: 1 | -1): void {
    this.pending += change;
    const count = (this.pendingByClient.get(clientId) ?? 0) + change;
    if (count > 0) this.pendingByClient.set(clientId, count);
    else this.pendingByClient.delete(clientId);
  }

  /** A failed write (disk full, read-only file, lock timeout) is the store being unavailable, not a gateway bug. */
  private write<T>(run: () => T): T {
    try {
      return run();
    } catch (error) {
      if (error instanceof Database.SqliteError) throw new DeliveryStoreUnavailableError(`delivery store write failed (${error.code})`);
      throw error;
    }
  }
}

function toRecord(row: Row): DeliveryRecord {
  return {
    id: row.id,
    clientId: row.client_id,
    pluginId: row.plugin_id,
    operationId: row.operation_id,
    requestId: row.request_id,
    request: JSON.parse(row.request),
    status: row.status,
    attempts: row.attempts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    windowStartedAt: row.window_started_at,
    ...(row.next_attempt_at !== null && row.status === 'queued' ? { nextAttemptAt: row.next_attempt_at } : {}),
    ...(row.delivered_at !== null ? { deliveredAt: row.delivered_at } : {}),
    ...(row.last_error !== null ? { lastError: JSON.parse(row.last_error) as DeliveryError } : {}),
    ...(row.accepted_traceparent ? { acceptedTraceparent: row.accepted_traceparent } : {}),
  };
}

/** A queue file written before tracing existed gets the column (new files have it from SCHEMA). */
function addAcceptedTraceparent(db: Database.Database): void {
  const columns = db.pragma('table_info(deliveries)') as { name: string }[];
  if (!columns.some((column) => column.name === 'accepted_traceparent'))
    db.exec('ALTER TABLE deliveries ADD COLUMN accepted_traceparent TEXT');
}

const encodeCursor = (seq: number): string => Buffer.from(`s${seq}`).toString('base64url');

function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const seq = /^s(\d{1,15})$/.exec(text)?.[1];
  if (seq === undefined) throw new InvalidCursorError('cursor is not one this gateway handed out');
  return Number(seq);
}
