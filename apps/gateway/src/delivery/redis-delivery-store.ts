import { randomBytes, randomUUID } from 'node:crypto';
import { type ConnectionOptions, type Job, Queue, Worker } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { normalizeRedisPrefix } from '../redis/redis-prefix.ts';
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
  type DeliverySummary,
  type DeliveryUsage,
  type EnqueueResult,
  emptyStatusCounts,
  InvalidCursorError,
  type ListOptions,
  type NewDelivery,
  type RetryResult,
  type Settlement,
  type StatusCounts,
} from './delivery-store.ts';
import { CLAIM, DISCARD, ENQUEUE, PRUNE, RECOVER, RETRY, SETTLE } from './redis-ledger-scripts.ts';

export interface RedisDeliveryStoreOptions {
  /** `redis://` / `rediss://` URL (REDIS_URL) or ioredis options. */
  readonly connection: string | RedisOptions;
  /** Namespace of every key (REDIS_PREFIX, default `gateway:`; `gw` and `gw:` are the same namespace). */
  readonly prefix?: string;
  /** The gateway's plugins: one queue each. Plugins another instance enqueued for are found in Redis as well. */
  readonly pluginIds: readonly string[];
  /**
   * How long a claimed delivery stays locked to this instance without a renewal (default 30 s). Locks are renewed
   * every third of it while the attempt runs, so it only has to outlast a stalled event loop or a Redis hiccup;
   * an instance that died gives its claims back at most this long plus two `stalledIntervalMs` later.
   */
  readonly lockDurationMs?: number;
  /** How often this instance looks for other instances' expired claims (default 15 s). */
  readonly stalledIntervalMs?: number;
  /** Connection, lock-renewal and queue errors (the store keeps going: ioredis reconnects by itself). */
  readonly onError?: (error: Error) => void;
  /** How often accepted deliveries whose BullMQ job is not confirmed are looked for (default 5 s). */
  readonly reconcileEveryMs?: number;
}

/** A BullMQ job carries nothing but its id (the delivery id): the ledger holds the record, the payload its own key. */
type DeliveryJob = Job<Record<string, unknown>>;

/** What a job of the previous layout carried (the delivery itself); read only to import it into the ledger. */
interface LegacyJobData {
  readonly clientId: string;
  readonly pluginId: string;
  readonly operationId: string;
  readonly requestId: string;
  readonly request: unknown;
  readonly createdAt: number;
}

interface Claim {
  job: DeliveryJob;
  token: string;
}

const DEFAULT_LOCK_DURATION_MS = 30_000;
const DEFAULT_STALLED_INTERVAL_MS = 15_000;
const DEFAULT_RECONCILE_EVERY_MS = 5000;
/** A job older than its enqueue by this much without confirmation is added again (Queue.add by id is idempotent). */
const UNQUEUED_GRACE_MS = 2000;
/** A job that comes back this much before its record is due goes back to the delayed set. */
const EARLY_TOLERANCE_MS = 1000;
/**
 * BullMQ fails a job that stalled more often than this (applied by its stalled check); set out of reach so that an
 * instance dying never fails a delivery.
 */
const NEVER_FAIL_STALLED = 1_000_000_000;
const PLUGIN_REFRESH_MS = 1000;
const BATCH = 500;
const LAST_MINUTE_MS = 60_000;

/**
 * The delivery store on Redis, for a fleet of gateways, in two parts:
 *
 * - The **ledger** is the gateway's own: records, payloads, per-client indexes, usage and counts in hashes and
 *   sorted sets under `<prefix>deliveries:`, each change one Lua script (`redis-ledger-scripts.ts`), so caps, counts
 *   and indexes move together or not at all. It is the truth: what was accepted, and whether it was delivered.
 * - The **queue** is BullMQ, one queue per plugin (`<prefix>deliveries-<plugin>`), driven through its public API
 *   only: `Queue.addBulk` (job id = delivery id), `Worker.getNextJob` with a token (no processor: the gateway's
 *   outbound budget paces delivery), `Job.extendLock`, `moveToCompleted` / `moveToFailed` / `moveToDelayed`, and the
 *   worker's stalled check (`startStalledCheckTimer`, `stalled` event) to give back the claims of an instance that died.
 *   A job is only a wake-up for its record: a claim applies only when the ledger says the record is pending.
 *
 * The two cannot be written in one transaction through BullMQ's API, so the order is: ledger first (the record and an
 * `unqueued` marker, atomically), then the job, then the marker removed. A job lost in between (a crash, Redis lost
 * its last writes) is added again from the marker, at start and every `reconcileEveryMs`; a job whose record was
 * settled, discarded or pruned is dropped when it is next claimed. Settling writes the ledger first too: a job left
 * active by a crash comes back through the stalled check and is dropped, never sent again, once its record is delivered.
 */
export class RedisDeliveryStore implements DeliveryStore {
  /** Commands fail at once while Redis is unreachable (no offline queue): an acceptance answers 503, not later. */
  private readonly commands: Redis;
  private readonly queues = new Map<string, Queue>();
  private readonly workers = new Map<string, Worker>();
  private readonly claims = new Map<string, Claim>();
  private readonly base: string;
  private readonly bullPrefix: string;
  private readonly lockDurationMs: number;
  private readonly stalledIntervalMs: number;
  private readonly onError: (error: Error) => void;
  private readonly timers: NodeJS.Timeout[] = [];
  private cursors: CursorCodec | undefined;
  private knownPlugins: { readonly ids: readonly string[]; readonly at: number } | undefined;
  private rotation = 0;
  private closed = false;

  constructor(private readonly options: RedisDeliveryStoreOptions) {
    const prefix = normalizeRedisPrefix(options.prefix ?? 'gateway:');
    this.bullPrefix = prefix.slice(0, -1);
    this.base = `${prefix}deliveries:`;
    this.lockDurationMs = options.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS;
    this.stalledIntervalMs = options.stalledIntervalMs ?? DEFAULT_STALLED_INTERVAL_MS;
    this.onError = options.onError ?? (() => {});
    const failFast: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 1 };
    this.commands =
      typeof options.connection === 'string' ? new Redis(options.connection, failFast) : new Redis({ ...options.connection, ...failFast });
    this.commands.on('error', (error: Error) => this.onError(error));
    for (const [name, lua] of Object.entries({ ENQUEUE, CLAIM, SETTLE, RECOVER, RETRY, DISCARD, PRUNE }))
      this.commands.defineCommand(`ledger${name}`, { numberOfKeys: 0, lua });
    this.every(Math.max(50, Math.floor(this.lockDurationMs / 3)), () => this.renewLocks());
    this.every(options.reconcileEveryMs ?? DEFAULT_RECONCILE_EVERY_MS, () => this.reconcile(UNQUEUED_GRACE_MS));
  }

  /** Resolves once Redis answers; rejects at the first connection error (unreachable, refused, authentication). */
  async connect(timeoutMs = 10_000): Promise<void> {
    await connected(this.commands, timeoutMs);
    await this.guard(async () => {
      // One cursor key for the fleet, so a cursor handed out by one instance reads on another.
      const key = `${this.base}cursor-key`;
      await this.commands.set(key, randomBytes(32).toString('hex'), 'NX');
      this.cursors = new CursorCodec(Buffer.from((await this.commands.get(key)) as string, 'hex'));
    });
  }

  async enqueue(deliveries: readonly NewDelivery[], now: number, caps: DeliveryCaps): Promise<EnqueueResult> {
    if (deliveries.length === 0) return { ok: true };
    if (new Set(deliveries.map((d) => d.id)).size !== deliveries.length)
      throw new DeliveryStoreUnavailableError('delivery ids repeat within the batch');
    const args: (string | number)[] = [now, caps.maxPending, caps.maxPendingPerClient, caps.maxBytesPerClient, deliveries.length];
    for (const d of deliveries)
      args.push(
        d.id,
        d.clientId,
        encode(d.clientId),
        d.pluginId,
        encode(d.pluginId),
        d.operationId,
        d.requestId,
        d.payload,
        JSON.stringify(d.summary),
        d.summary.bytes,
        d.acceptedTraceparent ?? '',
      );
    const reply = (await this.guard(() => this.script('ENQUEUE', args))) as [string, ...(string | number)[]];
    if (reply[0] === 'duplicate') throw new DeliveryStoreUnavailableError('a delivery with this id is already stored');
    if (reply[0] === 'cap') return { ok: false, ...refusal(reply.slice(1)) };
    if (deliveries.some((d) => !this.knownPlugins?.ids.includes(d.pluginId))) this.knownPlugins = undefined;
    // Committed: the jobs follow. If they cannot be added now, the reconcile pass adds them from the ledger.
    await this.addJobs(deliveries.map((d) => ({ id: d.id, pluginId: d.pluginId, operationId: d.operationId, dueAt: now })));
    return { ok: true };
  }

  async claim({ now, limit, excludePlugins = [], onlyPlugin }: ClaimOptions): Promise<ClaimedDelivery[]> {
    // Fail fast while Redis is away: the worker's own connection would otherwise wait for the reconnect.
    if (this.commands.status !== 'ready') throw new DeliveryStoreUnavailableError('Redis is not connected');
    return this.guard(async () => {
      const plugins = onlyPlugin !== undefined ? [onlyPlugin] : (await this.pluginIds()).filter((id) => !excludePlugins.includes(id));
      const claimed: ClaimedDelivery[] = [];
      if (plugins.length === 0 || limit <= 0) return claimed;
      const workers = await Promise.all(plugins.map((id) => this.worker(id)));
      // Round robin over the plugins' queues (each FIFO by due time), starting one further each call for fairness.
      const start = this.rotation++ % workers.length;
      const open = [...workers.slice(start), ...workers.slice(0, start)];
      while (claimed.length < limit && open.length > 0) {
        for (const worker of [...open]) {
          if (claimed.length >= limit) break;
          const token = randomUUID();
          const job = (await worker.getNextJob(token, { block: false })) as DeliveryJob | undefined;
          if (!job?.id) {
            open.splice(open.indexOf(worker), 1);
            continue;
          }
          const delivery = await this.claimJob(job, token, now);
          if (delivery) claimed.push(delivery);
        }
      }
      return claimed;
    });
  }

  /** The ledger decides whether a job that BullMQ handed out is a delivery to make now. */
  private async claimJob(job: DeliveryJob, token: string, now: number): Promise<ClaimedDelivery | undefined> {
    const id = job.id as string;
    const held = this.claims.get(id);
    if (held) {
      // Our own attempt, whose lock lapsed (a Redis outage) while it ran: keep it under the new lock, send nothing.
      held.job = job;
      held.token = token;
      return undefined;
    }
    let reply = (await this.script('CLAIM', [id, now, token, EARLY_TOLERANCE_MS])) as [string, string[] | string, string?];
    if (reply[0] === 'stale' && (await this.importLegacy(job)))
      reply = (await this.script('CLAIM', [id, now, token, EARLY_TOLERANCE_MS])) as typeof reply;
    if (reply[0] === 'ok') {
      this.claims.set(id, { job, token });
      return { ...toRecord(reply[1] as string[]), payload: reply[2] as string };
    }
    if (reply[0] === 'later') await job.moveToDelayed(Number(reply[1]), token);
    // Settled, discarded or pruned since this job was added: the job is done, nothing is sent.
    else await job.moveToCompleted(null, token, false);
    return undefined;
  }

  /**
   * A job of the previous Redis layout carries its delivery in its data and has no ledger record: the record is
   * written from it (accepted earlier, so no cap applies), so an upgrade with deliveries queued loses none.
   */
  private async importLegacy(job: DeliveryJob): Promise<boolean> {
    const data = job.data as Partial<LegacyJobData>;
    if (data.request === undefined || typeof data.clientId !== 'string' || typeof data.pluginId !== 'string') return false;
    const payload = JSON.stringify(data.request);
    const unlimited = Number.MAX_SAFE_INTEGER;
    const reply = (await this.script('ENQUEUE', [
      data.createdAt ?? Date.now(),
      unlimited,
      unlimited,
      unlimited,
      1,
      job.id as string,
      data.clientId,
      encode(data.clientId),
      data.pluginId,
      encode(data.pluginId),
      data.operationId ?? job.name,
      data.requestId ?? '',
      payload,
      JSON.stringify({ bytes: Buffer.byteLength(payload) }),
      Buffer.byteLength(payload),
      '',
    ])) as string[];
    if (reply[0] !== 'ok') return false;
    // The job is there already: its marker would only make the reconcile pass add it again (a no-op).
    await this.commands.zrem(`${this.base}unqueued`, job.id as string);
    return true;
  }

  /**
   * The ledger first (one script); then BullMQ's job is finished, delayed or dropped. If the ledger write fails, the
   * claim stays held for the worker's later settle (its lock taken back if it lapsed meanwhile). If only the job's move fails, the ledger is already right: the job comes back
   * through the stalled check and is dropped or delayed when claimed.
   */
  async settle(id: string, settlement: Settlement, now: number): Promise<void> {
    const claim = this.claims.get(id);
    const nextAttemptAt = 'nextAttemptAt' in settlement ? settlement.nextAttemptAt : '';
    const error = 'error' in settlement && settlement.error ? JSON.stringify(settlement.error) : '';
    await this.guard(() => this.script('SETTLE', [id, settlement.outcome, now, claim?.token ?? '', nextAttemptAt, error]));
    if (!claim) return;
    this.claims.delete(id);
    try {
      if (settlement.outcome === 'retry' || settlement.outcome === 'release')
        await claim.job.moveToDelayed(settlement.nextAttemptAt, claim.token);
      else if (settlement.outcome === 'dead') await claim.job.moveToFailed(new Error(settlement.error.type), claim.token, false);
      else await claim.job.moveToCompleted(null, claim.token, false);
    } catch (moveError) {
      this.onError(moveError as Error);
    }
  }

  /**
   * Starts this instance's stalled check for every queue (its first pass runs now) and adds the jobs of accepted
   * deliveries that have none. Another live instance's claims are not interrupted, and this store cannot tell them
   * from a dead one's: a dead instance's claims come back once their lock expires, through that check, as `queued`.
   */
  async recoverInterrupted(_now: number): Promise<number> {
    await this.guard(async () => {
      await Promise.all((await this.pluginIds()).map((id) => this.worker(id)));
      await this.reconcile(0);
    });
    return 0;
  }

  /** A write of a key of its own (expiring), to learn whether Redis takes writes again after a refusal. */
  async probeWrite(): Promise<void> {
    await this.guard(() => this.commands.set(`${this.base}write-probe`, String(Date.now()), 'PX', 60_000));
  }

  nextDueAt(): Promise<number | undefined> {
    return this.guard(async () => {
      const [, score] = await this.commands.zrange(`${this.base}due`, 0, 0, 'WITHSCORES');
      return score === undefined ? undefined : Number(score);
    });
  }

  get(id: string, clientId: string): Promise<DeliveryRecord | undefined> {
    return this.guard(async () => {
      const fields = await this.commands.hgetall(`${this.base}r:${id}`);
      return fields.clientId === clientId ? toRecord(fields) : undefined;
    });
  }

  /** One index per filter (all, status, plugin, both), so a page is `limit` items long unless it is the last. */
  list(clientId: string, { status, pluginId, limit, cursor }: ListOptions): Promise<DeliveryPage> {
    return this.guard(async () => {
      const after = cursor === undefined ? '0' : this.cursorCodec().open(clientId, cursor);
      if (!/^\d{1,15}$/.test(after)) throw new InvalidCursorError('cursor is not one this gateway handed out');
      const key = this.indexKey(clientId, status, pluginId);
      const reply = await this.commands.zrangebyscore(key, `(${after}`, '+inf', 'WITHSCORES', 'LIMIT', 0, limit + 1);
      const ids = reply.filter((_, i) => i % 2 === 0);
      const records = (await this.records(ids.slice(0, limit))).filter((r): r is DeliveryRecord => r !== undefined);
      // The position is the last listed record's sequence number, sealed: the client learns nothing from it.
      const seq = reply[limit * 2 - 1];
      return { items: records, ...(ids.length > limit && seq ? { nextCursor: this.cursorCodec().seal(clientId, seq) } : {}) };
    });
  }

  summary(clientId: string, now: number): Promise<DeliveriesSummary> {
    return this.guard(async () => {
      const ck = encode(clientId);
      const [counts, oldest, lastMinute] = await Promise.all([
        this.commands.hgetall(`${this.base}u:${ck}`),
        this.commands.zrange(`${this.base}c:${ck}:s:queued`, 0, 0),
        this.commands.zcount(`${this.base}dl:${ck}`, `(${now - LAST_MINUTE_MS}`, String(now)),
      ]);
      const byStatus = emptyStatusCounts();
      const byPlugin: Record<string, StatusCounts> = {};
      for (const [field, value] of Object.entries(counts)) {
        const match = /^(n|pn):(queued|delivering|delivered|dead)(?::(.*))?$/s.exec(field);
        if (!match) continue;
        const status = match[2] as DeliveryStatus;
        if (match[1] === 'n') byStatus[status] = Number(value);
        else {
          const plugin = match[3] as string;
          byPlugin[plugin] ??= emptyStatusCounts();
          byPlugin[plugin][status] = Number(value);
        }
      }
      const oldestId = oldest[0];
      const oldestQueuedAt = oldestId === undefined ? undefined : await this.commands.hget(`${this.base}r:${oldestId}`, 'createdAt');
      return {
        byStatus,
        byPlugin,
        ...(oldestQueuedAt ? { oldestQueuedAt: Number(oldestQueuedAt) } : {}),
        deliveredLastMinute: lastMinute,
      };
    });
  }

  usage(clientId: string): Promise<DeliveryUsage> {
    return this.guard(async () => {
      const [pending, [clientPending, clientBytes]] = await Promise.all([
        this.commands.hget(`${this.base}n`, 'pending'),
        this.commands.hmget(`${this.base}u:${encode(clientId)}`, 'pending', 'bytes'),
      ]);
      return { pending: Number(pending ?? 0), clientPending: Number(clientPending ?? 0), clientBytes: Number(clientBytes ?? 0) };
    });
  }

  stats(): Promise<DeliveryStats> {
    return this.guard(async () => {
      const [counts, oldest] = await Promise.all([
        this.commands.hgetall(`${this.base}n`),
        this.commands.zrange(`${this.base}pending`, 0, 0, 'WITHSCORES'),
      ]);
      const byStatus = emptyStatusCounts();
      for (const status of Object.keys(byStatus) as DeliveryStatus[]) byStatus[status] = Number(counts[`n:${status}`] ?? 0);
      return { pending: Number(counts.pending ?? 0), byStatus, ...(oldest[1] !== undefined ? { oldestPendingAt: Number(oldest[1]) } : {}) };
    });
  }

  async retry(id: string, clientId: string, now: number, caps: DeliveryCaps): Promise<RetryResult> {
    const record = await this.get(id, clientId);
    if (record?.status !== 'dead') return { outcome: 'not-dead' };
    const result = await this.retryIds(clientId, [record], now, caps);
    if (result.refusal) return { outcome: 'refused', ...result.refusal };
    if (result.retried === 0) return { outcome: 'not-dead' };
    const after = await this.get(id, clientId);
    return after ? { outcome: 'retried', record: after } : { outcome: 'not-dead' };
  }

  async retryMatching(
    clientId: string,
    filter: DeliveryFilter,
    now: number,
    caps: DeliveryCaps,
  ): Promise<{ matched: number; retried: number; refusal?: CapRefusal }> {
    if (filter.status === 'queued') return { matched: 0, retried: 0 };
    const matched = await this.matching(clientId, filter, ['dead']);
    const result = await this.retryIds(clientId, matched, now, caps);
    return { matched: matched.length, retried: result.retried, ...(result.refusal ? { refusal: result.refusal } : {}) };
  }

  async discard(id: string, clientId: string): Promise<'discarded' | 'not-found' | 'busy'> {
    const [result] = await this.discardIds(clientId, [id]);
    return result ?? 'not-found';
  }

  async discardMatching(clientId: string, filter: DeliveryFilter): Promise<{ matched: number; discarded: number }> {
    const matched = await this.matching(clientId, filter, filter.status ? [filter.status] : ['queued', 'dead']);
    const results = await this.discardIds(
      clientId,
      matched.map((r) => r.id),
    );
    return { matched: matched.length, discarded: results.filter((r) => r === 'discarded').length };
  }

  prune({ deliveredBefore, deadBefore }: { readonly deliveredBefore: number; readonly deadBefore: number }): Promise<number> {
    return this.guard(async () => {
      let pruned = 0;
      for (const [status, before] of [
        ['delivered', deliveredBefore],
        ['dead', deadBefore],
      ] as const) {
        for (;;) {
          const [removed, seen] = (await this.script('PRUNE', [status, before, BATCH])) as [number, number];
          pruned += removed;
          if (seen < BATCH) break;
        }
      }
      // Jobs finish with removeOnComplete: only jobs of the previous layout are left in BullMQ's completed sets.
      const grace = Math.max(0, Date.now() - deliveredBefore);
      for (const pluginId of await this.pluginIds()) await (await this.queue(pluginId)).clean(grace, BATCH, 'completed');
      return pruned;
    });
  }

  /** Claims still held are not given back: their locks lapse and other instances take them (at-least-once). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.claims.clear();
    await Promise.allSettled([...this.workers.values()].map((worker) => worker.close(true)));
    await Promise.allSettled([...this.queues.values()].map((queue) => queue.close()));
    this.commands.disconnect();
  }

  private async retryIds(
    clientId: string,
    records: readonly DeliveryRecord[],
    now: number,
    caps: DeliveryCaps,
  ): Promise<{ retried: number; refusal?: CapRefusal }> {
    let retried = 0;
    for (let i = 0; i < records.length; i += BATCH) {
      const batch = records.slice(i, i + BATCH);
      const reply = (await this.guard(() =>
        this.script('RETRY', [
          now,
          caps.maxPending,
          caps.maxPendingPerClient,
          caps.maxBytesPerClient,
          encode(clientId),
          ...batch.map((r) => r.id),
        ]),
      )) as [string[], string, number, number, number];
      const ids = new Set(reply[0]);
      retried += ids.size;
      await this.addJobs(
        batch.filter((r) => ids.has(r.id)).map((r) => ({ id: r.id, pluginId: r.pluginId, operationId: r.operationId, dueAt: now })),
      );
      if (reply[1] !== '') return { retried, refusal: refusal(reply.slice(1) as (string | number)[]) };
    }
    return { retried };
  }

  private async discardIds(clientId: string, ids: readonly string[]): Promise<('discarded' | 'not-found' | 'busy')[]> {
    const results: ('discarded' | 'not-found' | 'busy')[] = [];
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH);
      const plugins = await this.guard(() => this.pipelined(batch.map((id) => ['hget', `${this.base}r:${id}`, 'pluginId'])));
      const reply = (await this.guard(() => this.script('DISCARD', [encode(clientId), ...batch]))) as (
        | 'discarded'
        | 'not-found'
        | 'busy'
      )[];
      results.push(...reply);
      // A discarded queued delivery's job would only be dropped at its claim; removing it now keeps the queue short.
      const gone = batch.map((id, j) => [plugins[j], id, reply[j]] as const).filter(([plugin, , r]) => r === 'discarded' && plugin);
      await Promise.allSettled(gone.map(async ([plugin, id]) => (await this.queue(plugin as string)).remove(id)));
    }
    return results;
  }

  /** The client's records in `statuses` that match the filter, in acceptance order (one index walk, in batches). */
  private async matching(clientId: string, filter: DeliveryFilter, statuses: readonly DeliveryStatus[]): Promise<DeliveryRecord[]> {
    return this.guard(async () => {
      const keep = (r: DeliveryRecord | undefined): r is DeliveryRecord =>
        r !== undefined &&
        r.clientId === clientId &&
        statuses.includes(r.status) &&
        (filter.pluginId === undefined || r.pluginId === filter.pluginId) &&
        (filter.before === undefined || r.createdAt < filter.before);
      if (filter.ids) return (await this.records([...new Set(filter.ids)])).filter(keep);
      const found: { record: DeliveryRecord; seq: number }[] = [];
      for (const status of statuses) {
        const key = this.indexKey(clientId, status, filter.pluginId);
        let after = '-inf';
        for (;;) {
          const batch = await this.commands.zrangebyscore(key, after, '+inf', 'WITHSCORES', 'LIMIT', 0, BATCH);
          if (batch.length === 0) break;
          const ids = batch.filter((_, i) => i % 2 === 0);
          const records = await this.records(ids);
          records.forEach((record, i) => {
            if (keep(record)) found.push({ record, seq: Number(batch[i * 2 + 1]) });
          });
          after = `(${batch.at(-1)}`;
          if (ids.length < BATCH) break;
        }
      }
      return found.sort((a, b) => a.seq - b.seq).map((f) => f.record);
    });
  }

  private async records(ids: readonly string[]): Promise<(DeliveryRecord | undefined)[]> {
    const replies = await this.pipelined(ids.map((id) => ['hgetall', `${this.base}r:${id}`]));
    return replies.map((fields) =>
      fields && Object.keys(fields as object).length > 0 ? toRecord(fields as Record<string, string>) : undefined,
    );
  }

  /**
   * Adds the BullMQ jobs of committed deliveries (one `addBulk` per plugin; a job id already there is left as it is),
   * then drops their `unqueued` markers. A failure is reported, not thrown: the markers stay and the reconcile pass
   * adds the jobs later.
   */
  private async addJobs(items: readonly { id: string; pluginId: string; operationId: string; dueAt: number }[]): Promise<boolean> {
    if (items.length === 0) return true;
    try {
      const byPlugin = new Map<string, typeof items>();
      for (const item of items) byPlugin.set(item.pluginId, [...(byPlugin.get(item.pluginId) ?? []), item]);
      for (const [pluginId, jobs] of byPlugin) {
        const queue = await this.queue(pluginId);
        const now = Date.now();
        await queue.addBulk(
          jobs.map((job) => ({ name: job.operationId, data: {}, opts: { jobId: job.id, delay: Math.max(0, job.dueAt - now) } })),
        );
      }
      await this.commands.zrem(`${this.base}unqueued`, ...items.map((i) => i.id));
      return true;
    } catch (error) {
      this.onError(new Error(`delivery jobs not added yet, the reconcile pass will (${(error as Error).message})`));
      return false;
    }
  }

  /** Adds the jobs of accepted (or retried) deliveries whose marker is older than `graceMs`; drops settled ones' markers. */
  private async reconcile(graceMs: number): Promise<void> {
    if (this.closed || this.commands.status !== 'ready') return;
    const key = `${this.base}unqueued`;
    for (;;) {
      const ids = await this.commands.zrangebyscore(key, '-inf', `(${Date.now() - graceMs}`, 'LIMIT', 0, BATCH);
      if (ids.length === 0) return;
      const records = await this.records(ids);
      const queued = records.filter((r): r is DeliveryRecord => r?.status === 'queued');
      const done = ids.filter((_, i) => records[i]?.status !== 'queued');
      if (done.length > 0) await this.commands.zrem(key, ...done);
      const added = await this.addJobs(
        queued.map((r) => ({ id: r.id, pluginId: r.pluginId, operationId: r.operationId, dueAt: r.nextAttemptAt ?? 0 })),
      );
      // Each pass removes what it handled; one that could not add its jobs leaves them for the next pass.
      if (!added || ids.length < BATCH) return;
    }
  }

  /** The configured plugins and those any instance enqueued for (re-read at most once a second). */
  private async pluginIds(): Promise<readonly string[]> {
    const now = Date.now();
    if (this.knownPlugins && now - this.knownPlugins.at < PLUGIN_REFRESH_MS) return this.knownPlugins.ids;
    const stored = await this.commands.smembers(`${this.base}plugins`);
    const ids = [...new Set([...this.options.pluginIds, ...stored])].sort();
    this.knownPlugins = { ids, at: now };
    return ids;
  }

  private async queue(pluginId: string): Promise<Queue> {
    let queue = this.queues.get(pluginId);
    if (!queue) {
      queue = new Queue(queueName(pluginId), {
        connection: this.commands,
        prefix: this.bullPrefix,
        // A finished job has nothing left to say: the ledger keeps the record.
        defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
      });
      queue.on('error', (error: Error) => this.onError(error));
      this.queues.set(pluginId, queue);
    }
    await queue.waitUntilReady();
    return queue;
  }

  private async worker(pluginId: string): Promise<Worker> {
    if (this.closed) throw new DeliveryStoreUnavailableError('the delivery store is closed');
    let worker = this.workers.get(pluginId);
    if (!worker) {
      worker = new Worker(queueName(pluginId), null, {
        // BullMQ opens the worker's own connections from the same settings; it requires `maxRetriesPerRequest: null`.
        connection: { ...this.commands.options, enableOfflineQueue: true, maxRetriesPerRequest: null } as ConnectionOptions,
        prefix: this.bullPrefix,
        autorun: false,
        lockDuration: this.lockDurationMs,
        stalledInterval: this.stalledIntervalMs,
        maxStalledCount: NEVER_FAIL_STALLED,
      });
      worker.on('error', (error: Error) => this.onError(error));
      // BullMQ put a job whose lock lapsed back in the queue: its record reads `queued` again, unless the attempt is
      // still ours (its outcome is on its way; `claimJob` takes the job back under a new lock).
      worker.on('stalled', (jobId: string) => {
        if (this.claims.has(jobId)) return;
        this.script('RECOVER', [jobId, Date.now()]).catch((error: Error) => this.onError(error));
      });
      this.workers.set(pluginId, worker);
      await worker.waitUntilReady();
      void worker.startStalledCheckTimer();
    }
    return worker;
  }

  private async renewLocks(): Promise<void> {
    if (this.commands.status !== 'ready') return;
    await Promise.all(
      [...this.claims.values()].map((claim) =>
        claim.job.extendLock(claim.token, this.lockDurationMs).catch((error: Error) => this.onError(error)),
      ),
    );
  }

  private every(ms: number, run: () => Promise<void>): void {
    const timer = setInterval(() => void run().catch((error: Error) => this.onError(error)), ms);
    timer.unref();
    this.timers.push(timer);
  }

  private script(name: string, args: readonly (string | number)[]): Promise<unknown> {
    const command = (this.commands as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[`ledger${name}`];
    return (command as (...a: (string | number)[]) => Promise<unknown>).call(this.commands, this.base, ...args);
  }

  private async pipelined(commands: readonly (readonly [string, ...string[]])[]): Promise<unknown[]> {
    if (commands.length === 0) return [];
    const results = (await this.commands.pipeline(commands.map((command) => [...command])).exec()) ?? [];
    return results.map(([error, reply]) => {
      if (error) throw error;
      return reply;
    });
  }

  private cursorCodec(): CursorCodec {
    if (!this.cursors) throw new DeliveryStoreUnavailableError('the delivery store is not connected');
    return this.cursors;
  }

  private indexKey(clientId: string, status?: DeliveryStatus, pluginId?: string): string {
    const base = `${this.base}c:${encode(clientId)}`;
    if (status && pluginId !== undefined) return `${base}:sp:${status}:${encode(pluginId)}`;
    if (status) return `${base}:s:${status}`;
    if (pluginId !== undefined) return `${base}:p:${encode(pluginId)}`;
    return base;
  }

  /** Any Redis failure is the store being unavailable (the service answers 503), not a gateway bug. */
  private async guard<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof DeliveryStoreUnavailableError || error instanceof InvalidCursorError) throw error;
      const message = (error as Error).message;
      throw new DeliveryStoreUnavailableError(`delivery store failed: ${message}`, condition(message), { cause: error });
    }
  }
}

/**
 * The Redis delivery store for REDIS_URL / REDIS_PREFIX and the gateway's plugins, connected: rejects (with the
 * store closed) when Redis cannot be reached within `connectTimeoutMs`, so start-up can name REDIS_URL.
 */
export async function openRedisDeliveryStore(
  options: RedisDeliveryStoreOptions & { readonly connectTimeoutMs?: number },
): Promise<RedisDeliveryStore> {
  const store = new RedisDeliveryStore(options);
  try {
    await store.connect(options.connectTimeoutMs);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

function connected(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      if (error) reject(new DeliveryStoreUnavailableError(`Redis is unreachable (${error.message})`));
      else resolve();
    };
    const onReady = () => done();
    const onError = (error: Error) => done(error);
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    client.once('ready', onReady);
    client.once('error', onError);
  });
}

/** Redis refusing writes for lack of memory or disk reads as `full` (readiness names it). */
function condition(message: string): 'full' | 'read-only' | 'unavailable' {
  if (/^(OOM|MISCONF)\b/.test(message)) return 'full';
  if (/^READONLY\b/.test(message)) return 'read-only';
  return 'unavailable';
}

/** BullMQ refuses `:` in a queue name; plugin ids are encoded so that any id fits. */
const queueName = (pluginId: string): string => `deliveries-${encodeURIComponent(pluginId)}`;

/** A client or plugin id as one key segment (`:` and every other separator encoded). */
const encode = (id: string): string => encodeURIComponent(id);

function refusal(reply: readonly (string | number)[]): CapRefusal {
  const [cap, pending, clientPending, clientBytes] = reply;
  return {
    cap: cap as CapRefusal['cap'],
    usage: { pending: Number(pending), clientPending: Number(clientPending), clientBytes: Number(clientBytes) },
  };
}

/** A record hash (HGETALL, as an object or a flat field/value list) as the ledger's view. */
function toRecord(raw: Record<string, string> | readonly string[]): DeliveryRecord {
  const fields: Record<string, string> = {};
  if (Array.isArray(raw)) for (let i = 0; i < raw.length; i += 2) fields[raw[i] as string] = raw[i + 1] as string;
  else Object.assign(fields, raw);
  const status = fields.status as DeliveryStatus;
  return {
    id: fields.id as string,
    clientId: fields.clientId as string,
    pluginId: fields.pluginId as string,
    operationId: fields.operationId as string,
    requestId: fields.requestId as string,
    status,
    attempts: Number(fields.attempts),
    createdAt: Number(fields.createdAt),
    updatedAt: Number(fields.updatedAt),
    windowStartedAt: Number(fields.windowStartedAt),
    ...(status === 'queued' && fields.nextAttemptAt !== undefined ? { nextAttemptAt: Number(fields.nextAttemptAt) } : {}),
    ...(fields.deliveredAt !== undefined ? { deliveredAt: Number(fields.deliveredAt) } : {}),
    ...(fields.lastError !== undefined ? { lastError: JSON.parse(fields.lastError) as DeliveryError } : {}),
    summary: JSON.parse(fields.summary as string) as DeliverySummary,
    ...(fields.acceptedTraceparent !== undefined ? { acceptedTraceparent: fields.acceptedTraceparent } : {}),
  };
}
