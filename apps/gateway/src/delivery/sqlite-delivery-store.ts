import { chmodSync, closeSync, existsSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CursorCodec } from './cursor.ts';
import {
  type CapRefusal,
  type ClaimedDelivery,
  type ClaimOptions,
  type DeliveriesSummary,
  type DeliveryCaps,
  type DeliveryError,
  type DeliveryFilter,
  type DeliveryPage,
  type DeliveryRecord,
  type DeliveryStats,
  type DeliveryStatus,
  type DeliveryStore,
  DeliveryStoreUnavailableError,
  type DeliveryUsage,
  type EnqueueResult,
  emptyStatusCounts,
  type ListOptions,
  type NewDelivery,
  type RetryResult,
  type Settlement,
  type StatusCounts,
} from './delivery-store.ts';

export interface SqliteDeliveryStoreOptions {
  /** Directory of the database file (`deliveries.sqlite`); created when missing. */
  readonly dataDir: string;
  /** `true`: fsync every commit (survives power loss); `false`: WAL's NORMAL sync (survives a process crash). */
  readonly fsync?: boolean;
  /** How long a write waits for a lock held by another connection before it is refused (default 5 s). */
  readonly busyTimeoutMs?: number;
  /** Size of the disk reserve (RESERVE_FILE); default 4 MiB. */
  readonly reserveBytes?: number;
}

export const DATABASE_FILE = 'deliveries.sqlite';
/**
 * Disk space set aside beside the database: released when a write finds the disk full, so that the queue can still
 * record claims and outcomes (and start) while new acceptances are refused; taken back once the space is free.
 */
export const RESERVE_FILE = 'deliveries.reserve';
const DEFAULT_RESERVE_BYTES = 4 * 1024 * 1024;

/** The ledger's columns: everything but the payload, which lives in its own table and is read only by `claim`. */
const RECORD_COLUMNS =
  'seq, id, client_id, plugin_id, operation_id, request_id, status, attempts, created_at, updated_at, window_started_at, next_attempt_at, delivered_at, last_error, event_name, identify_id, account_id, bytes, traceparent';

interface Row {
  seq: number;
  id: string;
  client_id: string;
  plugin_id: string;
  operation_id: string;
  request_id: string;
  status: DeliveryStatus;
  attempts: number;
  created_at: number;
  updated_at: number;
  window_started_at: number;
  next_attempt_at: number | null;
  delivered_at: number | null;
  last_error: string | null;
  event_name: string | null;
  identify_id: string | null;
  account_id: string | null;
  bytes: number;
  traceparent: string | null;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    plugin_id TEXT NOT NULL,
    operation_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    window_started_at INTEGER NOT NULL,
    next_attempt_at INTEGER,
    delivered_at INTEGER,
    last_error TEXT,
    event_name TEXT,
    identify_id TEXT,
    account_id TEXT,
    bytes INTEGER NOT NULL DEFAULT 0,
    traceparent TEXT
  );
  CREATE TABLE IF NOT EXISTS delivery_payloads (seq INTEGER PRIMARY KEY, payload TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS delivery_meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
  CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_attempt_at, seq);
  CREATE INDEX IF NOT EXISTS deliveries_by_client ON deliveries (client_id, status, seq);
  CREATE INDEX IF NOT EXISTS deliveries_settled ON deliveries (status, updated_at);
  CREATE INDEX IF NOT EXISTS deliveries_client_summary ON deliveries (client_id, plugin_id, status, delivered_at);
  CREATE INDEX IF NOT EXISTS deliveries_status_order ON deliveries (status, seq);
`;

/** Schema 1 kept the request in the record; schema 2 moves it to `delivery_payloads` (pending and dead ones only). */
const SCHEMA_VERSION = 2;

/** Pending and dead deliveries hold a payload (and count against the byte cap); delivered ones do not. */
const HOLDS_PAYLOAD: readonly DeliveryStatus[] = ['queued', 'delivering', 'dead'];
const isPending = (status: DeliveryStatus) => status === 'queued' || status === 'delivering';

/** One caller's deliveries waiting for the next group commit. */
interface Acceptance {
  readonly clientId: string;
  /** Payload bytes of all its deliveries. */
  readonly bytes: number;
  readonly deliveries: readonly NewDelivery[];
  readonly now: number;
  readonly caps: DeliveryCaps;
  resolve(result: EnqueueResult): void;
  reject(error: unknown): void;
}

interface ClientUsage {
  pending: number;
  bytes: number;
}

/**
 * The embedded delivery queue: one SQLite file in WAL mode (better-sqlite3), for one gateway process (the file is
 * locked exclusively). Calls are synchronous underneath; the interface is async so that a networked backend fits.
 * Every write is a statement run (never `.get()` on a write, which hides a failed commit) whose change count is
 * checked; a refused write throws DeliveryStoreUnavailableError and leaves the counts as they were.
 */
export class SqliteDeliveryStore implements DeliveryStore {
  private readonly db!: Database.Database;
  /** Records by status and each client's pending count and payload bytes, kept in step with every committed write. */
  private readonly byStatus: StatusCounts = emptyStatusCounts();
  private readonly clients = new Map<string, ClientUsage>();
  private readonly statements;
  private readonly cursors: CursorCodec;
  private readonly prepared = new Map<string, Database.Statement>();
  private acceptances: Acceptance[] = [];
  private readonly insertAcceptances: (acceptances: readonly Acceptance[]) => void;

  private readonly reservePath: string;
  private readonly reserveBytes: number;
  /** The reserve was released (the disk filled): acceptances are refused until it can be taken back. */
  private reserveReleased = false;

  constructor(options: SqliteDeliveryStoreOptions) {
    mkdirSync(options.dataDir, { recursive: true });
    this.reservePath = join(options.dataDir, RESERVE_FILE);
    this.reserveBytes = options.reserveBytes ?? DEFAULT_RESERVE_BYTES;
    const file = join(options.dataDir, DATABASE_FILE);
    // Created owner-only before SQLite opens it (its WAL takes the same mode): the payloads are upstream requests.
    if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
    const open = (): Database.Database => {
      const db = new Database(file);
      try {
        // One process owns the file: no shared-memory index beside it (nothing to create on a full disk), and a
        // second gateway on the same DATA_DIR is refused at start instead of delivering the same rows.
        db.pragma('locking_mode = EXCLUSIVE');
        db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
        db.pragma('journal_mode = WAL');
        db.pragma(`synchronous = ${options.fsync ? 'FULL' : 'NORMAL'}`);
        // After a checkpoint the WAL is cut back to this size rather than left at its peak.
        db.pragma(`journal_size_limit = ${1024 * 1024}`);
        migrate(db);
        return db;
      } catch (error) {
        db.close();
        throw error;
      }
    };
    try {
      this.db = open();
    } catch (error) {
      // A start on a full disk: the reserve makes room to open, recover and deliver (acceptances stay refused).
      if (!isFull(error) || !this.releaseReserve()) throw error;
      this.db = open();
    }
    if (!this.reserveReleased) this.takeReserve();
    this.cursors = new CursorCodec(this.cursorKey());
    this.statements = {
      insert: this.db.prepare(
        `INSERT INTO deliveries (id, client_id, plugin_id, operation_id, request_id, status, attempts, created_at, updated_at, window_started_at, next_attempt_at, event_name, identify_id, account_id, bytes, traceparent)
         VALUES (@id, @clientId, @pluginId, @operationId, @requestId, 'queued', 0, @now, @now, @now, @now, @eventName, @identifyId, @accountId, @bytes, @traceparent)`,
      ),
      insertPayload: this.db.prepare(`INSERT INTO delivery_payloads (seq, payload) VALUES (?, ?)`),
      claim: this.db.prepare(
        `UPDATE deliveries SET status = 'delivering', attempts = attempts + 1, updated_at = ? WHERE seq = ? AND status = 'queued'`,
      ),
      payload: this.db.prepare(`SELECT payload FROM delivery_payloads WHERE seq = ?`),
      current: this.db.prepare(`SELECT seq, client_id, status, bytes FROM deliveries WHERE id = ?`),
      delivered: this.db.prepare(
        `UPDATE deliveries SET status = 'delivered', delivered_at = ?, updated_at = ?, next_attempt_at = NULL WHERE seq = ? AND status = 'delivering'`,
      ),
      dropPayload: this.db.prepare(`DELETE FROM delivery_payloads WHERE seq = ?`),
      reschedule: this.db.prepare(
        `UPDATE deliveries SET status = 'queued', next_attempt_at = ?, last_error = coalesce(?, last_error), updated_at = ? WHERE seq = ? AND status = 'delivering'`,
      ),
      release: this.db.prepare(
        `UPDATE deliveries SET status = 'queued', attempts = MAX(0, attempts - 1), next_attempt_at = ?, updated_at = ? WHERE seq = ? AND status = 'delivering'`,
      ),
      dead: this.db.prepare(
        `UPDATE deliveries SET status = 'dead', last_error = ?, updated_at = ?, next_attempt_at = NULL WHERE seq = ? AND status = 'delivering'`,
      ),
      get: this.db.prepare(`SELECT ${RECORD_COLUMNS} FROM deliveries WHERE id = ? AND client_id = ?`),
      retry: this.db.prepare(
        `UPDATE deliveries SET status = 'queued', next_attempt_at = ?, window_started_at = ?, updated_at = ? WHERE seq = ? AND status = 'dead'`,
      ),
      deleteRow: this.db.prepare(`DELETE FROM deliveries WHERE seq = ? AND status IN ('queued', 'dead')`),
      recover: this.db.prepare(`UPDATE deliveries SET status = 'queued', next_attempt_at = ?, updated_at = ? WHERE status = 'delivering'`),
      pruneGroups: this.db.prepare(
        `SELECT client_id, COUNT(*) AS n, SUM(bytes) AS bytes FROM deliveries WHERE status = 'dead' AND updated_at < ? GROUP BY client_id`,
      ),
      prunePayloads: this.db.prepare(
        `DELETE FROM delivery_payloads WHERE seq IN (SELECT seq FROM deliveries WHERE status = 'dead' AND updated_at < ?)`,
      ),
      pruneRows: this.db.prepare(`DELETE FROM deliveries WHERE status = ? AND updated_at < ?`),
      nextDue: this.db.prepare(`SELECT MIN(next_attempt_at) AS due FROM deliveries WHERE status = 'queued'`),
      usageByClient: this.db.prepare(
        `SELECT client_id, status, COUNT(*) AS n, SUM(bytes) AS bytes FROM deliveries WHERE status IN ('queued', 'delivering', 'dead') GROUP BY client_id, status`,
      ),
      countByStatus: this.db.prepare(`SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status`),
      summary: this.db.prepare(
        `SELECT plugin_id, status, COUNT(*) AS n, SUM(delivered_at >= ?) AS recent FROM deliveries WHERE client_id = ? GROUP BY plugin_id, status`,
      ),
      oldestQueued: this.db.prepare(`SELECT created_at FROM deliveries WHERE client_id = ? AND status = 'queued' ORDER BY seq LIMIT 1`),
      // The oldest of each pending status by (status, seq): two index lookups, not a scan of a deep queue.
      oldestPending: this.db.prepare(
        `SELECT MIN(created_at) AS at FROM deliveries WHERE seq IN ((SELECT MIN(seq) FROM deliveries WHERE status = 'queued'), (SELECT MIN(seq) FROM deliveries WHERE status = 'delivering'))`,
      ),
    };
    const insert = this.statements.insert;
    const insertPayload = this.statements.insertPayload;
    const insertAcceptances = this.db.transaction((acceptances: readonly Acceptance[]) => {
      for (const { deliveries, now } of acceptances)
        for (const item of deliveries) {
          const { summary } = item;
          const { lastInsertRowid } = insert.run({
            id: item.id,
            clientId: item.clientId,
            pluginId: item.pluginId,
            operationId: item.operationId,
            requestId: item.requestId,
            now,
            eventName: summary.eventName ?? null,
            identifyId: summary.identifyId ?? null,
            accountId: summary.accountId ?? null,
            bytes: summary.bytes,
            traceparent: item.acceptedTraceparent ?? null,
          });
          insertPayload.run(lastInsertRowid, item.payload);
        }
    });
    this.insertAcceptances = insertAcceptances;
    for (const row of this.statements.countByStatus.all() as { status: DeliveryStatus; n: number }[]) this.byStatus[row.status] = row.n;
    const usage = this.statements.usageByClient.all() as { client_id: string; status: DeliveryStatus; n: number; bytes: number }[];
    for (const row of usage) {
      const client = this.clientUsage(row.client_id);
      if (isPending(row.status)) client.pending += row.n;
      client.bytes += row.bytes;
    }
  }

  /**
   * Acceptances are committed in groups: every acceptance asked for while the event loop handled one round of I/O
   * shares one transaction (group commit), so a busy gateway pays one commit, not one per request. Each caller is
   * answered only after its rows are committed; caps are checked in arrival order against what is committed plus
   * what earlier acceptances of the group hold.
   */
  async enqueue(deliveries: readonly NewDelivery[], now: number, caps: DeliveryCaps): Promise<EnqueueResult> {
    const clientId = deliveries[0]?.clientId;
    if (clientId === undefined) return { ok: true };
    if (deliveries.some((d) => d.clientId !== clientId)) throw new Error('one acceptance is one client’s');
    const bytes = deliveries.reduce((sum, d) => sum + d.summary.bytes, 0);
    return new Promise((resolve, reject) => {
      this.acceptances.push({ clientId, bytes, deliveries, now, caps, resolve, reject });
      if (this.acceptances.length === 1) setImmediate(() => this.commitAcceptances());
    });
  }

  private commitAcceptances(): void {
    const group = this.acceptances;
    this.acceptances = [];
    const taken: Acceptance[] = [];
    for (const acceptance of group) {
      // The reserve's room is for what is already queued: its claims and outcomes.
      if (this.reserveReleased) {
        acceptance.reject(new DeliveryStoreUnavailableError('the disk holding DATA_DIR is full', 'full'));
        continue;
      }
      const refusal = this.refusal(acceptance.clientId, acceptance.deliveries.length, acceptance.bytes, acceptance.caps);
      if (refusal) {
        acceptance.resolve({ ok: false, ...refusal });
        continue;
      }
      this.hold(acceptance, 1);
      taken.push(acceptance);
    }
    if (taken.length === 0) return;
    let written = taken;
    try {
      this.write(() => this.insertAcceptances(taken));
    } catch {
      // One of them could not be written: each is tried alone, so only what fails is refused.
      written = taken.filter((acceptance) => {
        try {
          this.write(() => this.insertAcceptances([acceptance]));
          return true;
        } catch (error) {
          this.hold(acceptance, -1);
          acceptance.reject(error);
          return false;
        }
      });
    }
    for (const acceptance of written) acceptance.resolve({ ok: true });
  }

  /** Counts an acceptance's rows and payload bytes into (1) or back out of (-1) its client's queued share. */
  private hold({ clientId, deliveries, bytes }: Acceptance, sign: 1 | -1): void {
    const client = this.clientUsage(clientId);
    client.pending += sign * deliveries.length;
    client.bytes += sign * bytes;
    this.byStatus.queued += sign * deliveries.length;
    if (sign < 0) this.forgetIdle(clientId);
  }

  async claim({ now, limit, excludePlugins = [], onlyPlugin }: ClaimOptions): Promise<ClaimedDelivery[]> {
    const claim = this.db.transaction(() => {
      const conditions = ["status = 'queued'", 'next_attempt_at <= ?'];
      const values: unknown[] = [now];
      if (onlyPlugin !== undefined) {
        conditions.push('plugin_id = ?');
        values.push(onlyPlugin);
      } else if (excludePlugins.length > 0) {
        conditions.push(`plugin_id NOT IN (${excludePlugins.map(() => '?').join(', ')})`);
        values.push(...excludePlugins);
      }
      const candidates = this.statement(
        `SELECT ${RECORD_COLUMNS} FROM deliveries WHERE ${conditions.join(' AND ')} ORDER BY next_attempt_at, seq LIMIT ?`,
      ).all(...values, limit) as Row[];
      const claimed: ClaimedDelivery[] = [];
      for (const row of candidates) {
        if (this.statements.claim.run(now, row.seq).changes !== 1) continue;
        const payload = (this.statements.payload.get(row.seq) as { payload: string } | undefined)?.payload ?? '';
        claimed.push({ ...toRecord({ ...row, status: 'delivering', attempts: row.attempts + 1, updated_at: now }), payload });
      }
      return claimed;
    });
    const claimed = this.write(claim);
    this.byStatus.queued -= claimed.length;
    this.byStatus.delivering += claimed.length;
    return claimed;
  }

  async settle(id: string, settlement: Settlement, now: number): Promise<void> {
    const apply = this.db.transaction(() => {
      const current = this.statements.current.get(id) as Pick<Row, 'seq' | 'client_id' | 'status' | 'bytes'> | undefined;
      if (current?.status !== 'delivering') return undefined;
      let changes: number;
      switch (settlement.outcome) {
        case 'delivered':
          changes = this.statements.delivered.run(now, now, current.seq).changes;
          this.statements.dropPayload.run(current.seq);
          break;
        case 'dead':
          changes = this.statements.dead.run(JSON.stringify(settlement.error), now, current.seq).changes;
          break;
        case 'retry':
          changes = this.statements.reschedule.run(
            settlement.nextAttemptAt,
            settlement.error ? JSON.stringify(settlement.error) : null,
            now,
            current.seq,
          ).changes;
          break;
        case 'release':
          changes = this.statements.release.run(settlement.nextAttemptAt, now, current.seq).changes;
          break;
      }
      return changes === 1 ? current : undefined;
    });
    const settled = this.write(apply);
    // On the reserve, the WAL is reset after each outcome so that it is reused instead of grown.
    if (this.reserveReleased) this.checkpoint(false);
    if (!settled) return;
    const to: DeliveryStatus = settlement.outcome === 'delivered' ? 'delivered' : settlement.outcome === 'dead' ? 'dead' : 'queued';
    this.byStatus.delivering -= 1;
    this.byStatus[to] += 1;
    const client = this.clientUsage(settled.client_id);
    if (to === 'delivered' || to === 'dead') client.pending -= 1;
    if (to === 'delivered') client.bytes -= settled.bytes;
    this.forgetIdle(settled.client_id);
  }

  async get(id: string, clientId: string): Promise<DeliveryRecord | undefined> {
    const row = this.read(() => this.statements.get.get(id, clientId)) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  async list(clientId: string, { status, pluginId, limit, cursor }: ListOptions): Promise<DeliveryPage> {
    const after = cursor === undefined ? 0 : Number(this.cursors.open(clientId, cursor));
    const conditions = ['client_id = ?'];
    const values: unknown[] = [clientId];
    if (status !== undefined) {
      conditions.push('status = ?');
      values.push(status);
    }
    if (pluginId !== undefined) {
      conditions.push('plugin_id = ?');
      values.push(pluginId);
    }
    const sql = `SELECT ${RECORD_COLUMNS} FROM deliveries WHERE ${conditions.join(' AND ')} AND seq > ? ORDER BY seq LIMIT ?`;
    const rows = this.read(() => this.statement(sql).all(...values, after, limit + 1)) as Row[];
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(toRecord),
      ...(rows.length > limit && last ? { nextCursor: this.cursors.seal(clientId, String(last.seq)) } : {}),
    };
  }

  async summary(clientId: string, now: number): Promise<DeliveriesSummary> {
    const byStatus = emptyStatusCounts();
    const byPlugin: Record<string, StatusCounts> = {};
    let deliveredLastMinute = 0;
    const rows = this.read(() => this.statements.summary.all(now - 60_000, clientId)) as {
      plugin_id: string;
      status: DeliveryStatus;
      n: number;
      recent: number | null;
    }[];
    for (const row of rows) {
      byStatus[row.status] += row.n;
      byPlugin[row.plugin_id] ??= emptyStatusCounts();
      (byPlugin[row.plugin_id] as StatusCounts)[row.status] += row.n;
      if (row.status === 'delivered') deliveredLastMinute += row.recent ?? 0;
    }
    const oldest = this.read(() => this.statements.oldestQueued.get(clientId)) as { created_at: number } | undefined;
    return { byStatus, byPlugin, ...(oldest ? { oldestQueuedAt: oldest.created_at } : {}), deliveredLastMinute };
  }

  async usage(clientId: string): Promise<DeliveryUsage> {
    const client = this.clients.get(clientId);
    return { pending: this.pending, clientPending: client?.pending ?? 0, clientBytes: client?.bytes ?? 0 };
  }

  async stats(): Promise<DeliveryStats> {
    const oldest = (this.read(() => this.statements.oldestPending.get()) as { at: number | null }).at;
    return { pending: this.pending, byStatus: { ...this.byStatus }, ...(oldest !== null ? { oldestPendingAt: oldest } : {}) };
  }

  async retry(id: string, clientId: string, now: number, caps: DeliveryCaps): Promise<RetryResult> {
    const current = this.read(() => this.statements.current.get(id)) as Pick<Row, 'seq' | 'client_id' | 'status' | 'bytes'> | undefined;
    if (current?.client_id !== clientId || current.status !== 'dead') return { outcome: 'not-dead' };
    const refusal = this.refusal(clientId, 1, 0, caps);
    if (refusal) return { outcome: 'refused', ...refusal };
    if (this.write(() => this.statements.retry.run(now, now, now, current.seq)).changes !== 1) return { outcome: 'not-dead' };
    this.revived(clientId, 1);
    const record = await this.get(id, clientId);
    return record ? { outcome: 'retried', record } : { outcome: 'not-dead' };
  }

  async retryMatching(
    clientId: string,
    filter: DeliveryFilter,
    now: number,
    caps: DeliveryCaps,
  ): Promise<{ matched: number; retried: number; refusal?: CapRefusal }> {
    if (filter.status === 'queued') return { matched: 0, retried: 0 };
    const { where, values } = filterClause(clientId, filter, ['dead']);
    const run = this.db.transaction(() => {
      const seqs = this.statement(`SELECT seq FROM deliveries WHERE ${where} ORDER BY seq`)
        .pluck()
        .all(...values) as number[];
      // Row caps only: a dead delivery's bytes are already counted.
      const usage = this.clients.get(clientId);
      const room = Math.min(caps.maxPending - this.pending, caps.maxPendingPerClient - (usage?.pending ?? 0));
      const take = seqs.slice(0, Math.max(0, room));
      let retried = 0;
      for (const seq of take) retried += this.statements.retry.run(now, now, now, seq).changes;
      return { matched: seqs.length, retried };
    });
    const { matched, retried } = this.write(run);
    this.revived(clientId, retried);
    if (retried < matched) {
      const refusal = this.refusal(clientId, 1, 0, caps);
      if (refusal) return { matched, retried, refusal };
    }
    return { matched, retried };
  }

  async discard(id: string, clientId: string): Promise<'discarded' | 'not-found' | 'busy'> {
    const current = this.read(() => this.statements.current.get(id)) as Pick<Row, 'seq' | 'client_id' | 'status' | 'bytes'> | undefined;
    if (current?.client_id !== clientId) return 'not-found';
    if (current.status !== 'queued' && current.status !== 'dead') return 'busy';
    const removed = this.write(this.db.transaction(() => this.removeRow(current.seq)));
    if (!removed) return 'busy';
    this.removed(clientId, current.status, current.bytes);
    return 'discarded';
  }

  async discardMatching(clientId: string, filter: DeliveryFilter): Promise<{ matched: number; discarded: number }> {
    const { where, values } = filterClause(clientId, filter, filter.status ? [filter.status] : ['queued', 'dead']);
    const run = this.db.transaction(() => {
      const rows = this.statement(`SELECT seq, status, bytes FROM deliveries WHERE ${where}`).all(...values) as Pick<
        Row,
        'seq' | 'status' | 'bytes'
      >[];
      const removed = rows.filter((row) => this.removeRow(row.seq));
      return { matched: rows.length, removed };
    });
    const { matched, removed } = this.write(run);
    for (const row of removed) this.removed(clientId, row.status, row.bytes);
    return { matched, discarded: removed.length };
  }

  async recoverInterrupted(now: number): Promise<number> {
    const recovered = this.write(() => this.statements.recover.run(now, now)).changes;
    this.byStatus.delivering -= recovered;
    this.byStatus.queued += recovered;
    return recovered;
  }

  async prune({ deliveredBefore, deadBefore }: { readonly deliveredBefore: number; readonly deadBefore: number }): Promise<number> {
    const run = this.db.transaction(() => {
      const delivered = this.statements.pruneRows.run('delivered', deliveredBefore).changes;
      const groups = this.statements.pruneGroups.all(deadBefore) as { client_id: string; n: number; bytes: number }[];
      this.statements.prunePayloads.run(deadBefore);
      const dead = this.statements.pruneRows.run('dead', deadBefore).changes;
      return { delivered, dead, groups };
    });
    const { delivered, dead, groups } = this.write(run);
    this.byStatus.delivered -= delivered;
    this.byStatus.dead -= dead;
    for (const group of groups) {
      this.clientUsage(group.client_id).bytes -= group.bytes;
      this.forgetIdle(group.client_id);
    }
    return delivered + dead;
  }

  async nextDueAt(): Promise<number | undefined> {
    return (this.read(() => this.statements.nextDue.get()) as { due: number | null }).due ?? undefined;
  }

  /**
   * Copies the WAL into the database file; `truncate` also cuts the WAL file to nothing (when idle). Returns false
   * when the checkpoint could not complete (a reader, a full disk): it is tried again later.
   */
  checkpoint(truncate: boolean): boolean {
    try {
      const [result] = this.db.pragma(`wal_checkpoint(${truncate ? 'TRUNCATE' : 'PASSIVE'})`) as { busy: number }[];
      return result?.busy === 0;
    } catch {
      return false;
    }
  }

  condition(): 'ok' | 'full' {
    return this.reserveReleased ? 'full' : 'ok';
  }

  async probeWrite(): Promise<void> {
    if (this.reserveReleased) {
      this.checkpoint(true);
      if (!this.takeReserve()) throw new DeliveryStoreUnavailableError('the disk holding DATA_DIR is still full', 'full');
      return;
    }
    this.write(() => this.db.prepare(`UPDATE delivery_meta SET value = value WHERE key = 'cursor-key'`).run());
  }

  async compact(idle: boolean): Promise<void> {
    this.checkpoint(idle);
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    this.commitAcceptances();
    this.db.close();
  }

  private get pending(): number {
    return this.byStatus.queued + this.byStatus.delivering;
  }

  private refusal(clientId: string, rows: number, bytes: number, caps: DeliveryCaps): CapRefusal | undefined {
    const client = this.clients.get(clientId);
    const usage: DeliveryUsage = { pending: this.pending, clientPending: client?.pending ?? 0, clientBytes: client?.bytes ?? 0 };
    if (usage.pending + rows > caps.maxPending) return { cap: 'max-pending', usage };
    if (usage.clientPending + rows > caps.maxPendingPerClient) return { cap: 'max-pending-per-client', usage };
    if (usage.clientBytes + bytes > caps.maxBytesPerClient) return { cap: 'max-bytes-per-client', usage };
    return undefined;
  }

  /** Deletes a queued or dead row and its payload (inside a transaction); false when it was not removable. */
  private removeRow(seq: number): boolean {
    if (this.statements.deleteRow.run(seq).changes !== 1) return false;
    this.statements.dropPayload.run(seq);
    return true;
  }

  private removed(clientId: string, status: DeliveryStatus, bytes: number): void {
    this.byStatus[status] -= 1;
    const client = this.clientUsage(clientId);
    if (isPending(status)) client.pending -= 1;
    if (HOLDS_PAYLOAD.includes(status)) client.bytes -= bytes;
    this.forgetIdle(clientId);
  }

  private revived(clientId: string, count: number): void {
    this.byStatus.dead -= count;
    this.byStatus.queued += count;
    this.clientUsage(clientId).pending += count;
  }

  private clientUsage(clientId: string): ClientUsage {
    let usage = this.clients.get(clientId);
    if (!usage) {
      usage = { pending: 0, bytes: 0 };
      this.clients.set(clientId, usage);
    }
    return usage;
  }

  /** Only clients holding something are remembered: the map is bounded by the rows on disk. */
  private forgetIdle(clientId: string): void {
    const usage = this.clients.get(clientId);
    if (usage && usage.pending <= 0 && usage.bytes <= 0) this.clients.delete(clientId);
  }

  /** One prepared statement per distinct SQL text (the filters' shapes are few). */
  private statement(sql: string): Database.Statement {
    let statement = this.prepared.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.prepared.set(sql, statement);
    }
    return statement;
  }

  private cursorKey(): Buffer {
    const read = () => this.db.prepare(`SELECT value FROM delivery_meta WHERE key = 'cursor-key'`).pluck().get() as Buffer | undefined;
    const existing = read();
    if (existing) return existing;
    this.db.prepare(`INSERT OR IGNORE INTO delivery_meta (key, value) VALUES ('cursor-key', ?)`).run(CursorCodec.newKey());
    return read() as Buffer;
  }

  /**
   * A failed write (disk full, read-only file, lock timeout) is the store being unavailable, not a gateway bug. On a
   * full disk the reserve is released once and the write tried again.
   */
  private write<T>(run: () => T): T {
    try {
      return run();
    } catch (error) {
      if (isFull(error) && this.releaseReserve()) return this.write(run);
      if (error instanceof Database.SqliteError) throw storeError(error);
      throw error;
    }
  }

  /** A failed read (I/O error, corrupt page) is the store being unavailable too: callers answer 503, not 500. */
  private read<T>(run: () => T): T {
    try {
      return run();
    } catch (error) {
      if (error instanceof Database.SqliteError) throw storeError(error);
      throw error;
    }
  }

  /** Deletes the reserve file; false when there was none left to release. */
  private releaseReserve(): boolean {
    if (!existsSync(this.reservePath)) {
      this.reserveReleased = true;
      return false;
    }
    rmSync(this.reservePath, { force: true });
    this.reserveReleased = true;
    return true;
  }

  /** Writes the reserve file in full (real blocks, not a sparse file); false when the disk has no room for it. */
  private takeReserve(): boolean {
    let fd: number | undefined;
    try {
      fd = openSync(this.reservePath, 'w', 0o600);
      const block = Buffer.alloc(64 * 1024);
      for (let written = 0; written < this.reserveBytes; written += block.length) writeSync(fd, block);
      closeSync(fd);
      this.reserveReleased = false;
      return true;
    } catch {
      if (fd !== undefined) closeSync(fd);
      rmSync(this.reservePath, { force: true });
      this.reserveReleased = true;
      return false;
    }
  }
}

const isFull = (error: unknown): boolean =>
  (error instanceof Database.SqliteError && error.code.startsWith('SQLITE_FULL')) || (error as NodeJS.ErrnoException)?.code === 'ENOSPC';

/** Names the condition behind a refused SQLite write, for the caller's answer and for readiness. */
export function storeError(error: InstanceType<typeof Database.SqliteError>): DeliveryStoreUnavailableError {
  const condition = error.code.startsWith('SQLITE_FULL')
    ? 'full'
    : error.code.startsWith('SQLITE_READONLY') || error.code === 'SQLITE_CANTOPEN'
      ? 'read-only'
      : 'unavailable';
  return new DeliveryStoreUnavailableError(`delivery store write failed (${error.code})`, condition, { cause: error });
}

/** Creates the schema, or moves a schema-1 file (request inside the record) to schema 2 in one transaction. */
function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  const columns = (db.pragma('table_info(deliveries)') as { name: string }[]).map((c) => c.name);
  db.transaction(() => {
    if (columns.includes('request')) {
      db.exec('ALTER TABLE deliveries RENAME TO deliveries_v1');
      for (const index of ['deliveries_due', 'deliveries_by_client', 'deliveries_delivered', 'deliveries_status_order'])
        db.exec(`DROP INDEX IF EXISTS ${index}`);
      db.exec(SCHEMA);
      db.exec(`
        INSERT INTO deliveries (seq, id, client_id, plugin_id, operation_id, request_id, status, attempts, created_at, updated_at, window_started_at, next_attempt_at, delivered_at, last_error, bytes)
          SELECT seq, id, client_id, plugin_id, operation_id, request_id, status, attempts, created_at,
                 CASE WHEN status = 'delivered' THEN coalesce(delivered_at, updated_at) ELSE updated_at END,
                 window_started_at, next_attempt_at, delivered_at, last_error, length(CAST(request AS BLOB))
          FROM deliveries_v1;
        INSERT INTO delivery_payloads (seq, payload) SELECT seq, request FROM deliveries_v1 WHERE status <> 'delivered';
        DROP TABLE deliveries_v1;
      `);
    } else {
      db.exec(SCHEMA);
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

function filterClause(clientId: string, filter: DeliveryFilter, statuses: readonly DeliveryStatus[]): { where: string; values: unknown[] } {
  const conditions = ['client_id = ?', `status IN (${statuses.map(() => '?').join(', ')})`];
  const values: unknown[] = [clientId, ...statuses];
  if (filter.pluginId !== undefined) {
    conditions.push('plugin_id = ?');
    values.push(filter.pluginId);
  }
  if (filter.before !== undefined) {
    conditions.push('created_at < ?');
    values.push(filter.before);
  }
  if (filter.ids !== undefined) {
    if (filter.ids.length === 0) conditions.push('0');
    else {
      conditions.push(`id IN (${filter.ids.map(() => '?').join(', ')})`);
      values.push(...filter.ids);
    }
  }
  return { where: conditions.join(' AND '), values };
}

function toRecord(row: Row): DeliveryRecord {
  return {
    id: row.id,
    clientId: row.client_id,
    pluginId: row.plugin_id,
    operationId: row.operation_id,
    requestId: row.request_id,
    status: row.status,
    attempts: row.attempts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    windowStartedAt: row.window_started_at,
    ...(row.next_attempt_at !== null && row.status === 'queued' ? { nextAttemptAt: row.next_attempt_at } : {}),
    ...(row.delivered_at !== null ? { deliveredAt: row.delivered_at } : {}),
    ...(row.last_error !== null ? { lastError: JSON.parse(row.last_error) as DeliveryError } : {}),
    summary: {
      bytes: row.bytes,
      ...(row.event_name !== null ? { eventName: row.event_name } : {}),
      ...(row.identify_id !== null ? { identifyId: row.identify_id } : {}),
      ...(row.account_id !== null ? { accountId: row.account_id } : {}),
    },
    ...(row.traceparent !== null ? { acceptedTraceparent: row.traceparent } : {}),
  };
}
