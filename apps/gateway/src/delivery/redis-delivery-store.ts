import { randomUUID } from 'node:crypto';
import { type ConnectionOptions, Job, Queue, Worker } from 'bullmq';
import { type ChainableCommander, Redis, type RedisOptions } from 'ioredis';
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

export interface RedisDeliveryStoreOptions {
  /** `redis://` / `rediss://` URL (REDIS_URL) or ioredis options. */
  readonly connection: string | RedisOptions;
  /** Namespace of every key (REDIS_PREFIX, default `gateway:`), so several gateways can share one Redis. */
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
  /** Connection and lock-renewal errors (the store keeps going: ioredis reconnects by itself). */
  readonly onError?: (error: Error) => void;
  /**
   * How often a prune also checks the per-client pending sets against their jobs (default 1 h; the first check
   * that long after opening, so a start with a deep queue does not walk it).
   */
  readonly reconcileEveryMs?: number;
}

/** What a BullMQ job carries: the delivery, minus what BullMQ itself tracks (state, attempts started, finish time). */
interface DeliveryJobData {
  readonly seq: number;
  readonly clientId: string;
  readonly pluginId: string;
  readonly operationId: string;
  readonly requestId: string;
  readonly request: NewDelivery['request'];
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly windowStartedAt: number;
  readonly nextAttemptAt: number;
  /** Claims given back without an attempt (release): BullMQ counts every claim in `attemptsStarted`. */
  readonly released: number;
  readonly lastError?: DeliveryError;
  readonly acceptedTraceparent?: string;
}

type DeliveryJob = Job<DeliveryJobData, { deliveredAt: number }>;

interface Claim {
  readonly job: DeliveryJob;
  readonly token: string;
  readonly worker: Worker;
}

const DEFAULT_LOCK_DURATION_MS = 30_000;
const DEFAULT_STALLED_INTERVAL_MS = 15_000;
const DEFAULT_RECONCILE_EVERY_MS = 3_600_000;
/**
 * BullMQ marks a job that stalled more often than this for failure (applied by its own processing loop, which this
 * store does not run); set out of reach so that an instance dying never fails a delivery, whatever BullMQ does.
 */
const NEVER_FAIL_STALLED = 1_000_000_000;
const PLUGIN_REFRESH_MS = 1000;
const PRUNE_BATCH = 500;
const LIST_BATCH = 200;
const LIST_SCAN_LIMIT = 5000;

/**
 * The delivery queue on Redis, for a fleet of gateways: one BullMQ queue per plugin (`<prefix>deliveries-<plugin>`),
 * processed by hand (`Worker#getNextJob`, no processor function, no BullMQ limiter: the gateway's outbound budget
 * paces delivery). A claimed job is BullMQ-active under a lock this instance renews while the attempt runs; if the
 * instance dies, the lock expires and any instance's stalled-job check puts the job back in the queue.
 *
 * Beside BullMQ's keys: `<prefix>deliveries:seq` (INCR, the acceptance order), `<prefix>deliveries:client:<id>`
 * (each client's delivery ids scored by that order, for listing), `<prefix>deliveries:pending:<id>` (each client's
 * pending deliveries, for the per-client cap) and `<prefix>deliveries:plugins` (queues in use).
 */
export class RedisDeliveryStore implements DeliveryStore {
  /** Commands fail at once while Redis is unreachable (no offline queue): an acceptance answers 503, not later. */
  private readonly commands: Redis;
  private readonly queues = new Map<string, Queue<DeliveryJobData>>();
  private readonly workers = new Map<string, Worker<DeliveryJobData>>();
  private readonly claims = new Map<string, Claim>();
  private readonly keyBase: string;
  private readonly bullPrefix: string;
  private readonly lockDurationMs: number;
  private readonly stalledIntervalMs: number;
  private readonly onError: (error: Error) => void;
  private readonly lockRenewal: NodeJS.Timeout;
  private knownPlugins: { readonly ids: readonly string[]; readonly at: number } | undefined;
  private rotation = 0;
  private closed = false;
  private reconciledAt = Date.now();

  constructor(private readonly options: RedisDeliveryStoreOptions) {
    const prefix = options.prefix ?? 'gateway:';
    this.bullPrefix = prefix.endsWith(':') ? prefix.slice(0, -1) : prefix;
    this.keyBase = `${this.bullPrefix}:deliveries`;
    this.lockDurationMs = options.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS;
    this.stalledIntervalMs = options.stalledIntervalMs ?? DEFAULT_STALLED_INTERVAL_MS;
    this.onError = options.onError ?? (() => {});
    const failFast: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 1 };
    this.commands =
      typeof options.connection === 'string' ? new Redis(options.connection, failFast) : new Redis({ ...options.connection, ...failFast });
    this.commands.on('error', (error: Error) => this.onError(error));
    this.lockRenewal = setInterval(() => void this.renewLocks(), Math.max(50, Math.floor(this.lockDurationMs / 3)));
    this.lockRenewal.unref();
  }

  /** Resolves once Redis answers; rejects at the first connection error (unreachable, refused, authentication). */
  async connect(timeoutMs = 10_000): Promise<void> {
    await connected(this.commands, timeoutMs);
  }

  /**
   * Atomic: the jobs of every queue, their per-client index and pending entries and the plugin registry go in one MULTI/EXEC,
   * so a dropped connection commits none of them. Not atomic with it: the duplicate-id check and the sequence
   * INCRBY sent just before (ids are random UUIDs: the check refuses reuse, it does not arbitrate a race; a batch
   * that fails leaves a gap in the sequence). Redis has no rollback, so a command failing inside EXEC would not
   * undo the others; none is expected to (BullMQ's add script only errors on options we never set).
   */
  async enqueue(deliveries: readonly NewDelivery[], now: number): Promise<void> {
    if (deliveries.length === 0) return;
    if (new Set(deliveries.map((d) => d.id)).size !== deliveries.length)
      throw new DeliveryStoreUnavailableError('delivery ids repeat within the batch');
    await this.guard(async () => {
      const plugins = [...new Set(deliveries.map((d) => d.pluginId))];
      const queues = new Map<string, Queue<DeliveryJobData>>();
      for (const pluginId of plugins) queues.set(pluginId, await this.queue(pluginId));
      const replies = await this.pipelined([
        ...deliveries.map((d): [string, string] => ['exists', this.jobKey(d.pluginId, d.id)]),
        ['incrby', this.seqKey(), String(deliveries.length)],
      ]);
      const lastSeq = replies.pop() as number;
      if (replies.some((found) => found === 1)) throw new DeliveryStoreUnavailableError('a delivery with this id is already stored');
      const firstQueue = queues.get(plugins[0] as string) as Queue<DeliveryJobData>;
      // Every queue shares `this.commands`, on which BullMQ defined its scripts: one MULTI spans them all.
      const multi = (await firstQueue.getBackend().client).multi();
      for (const [index, delivery] of deliveries.entries()) {
        const seq = lastSeq - deliveries.length + 1 + index;
        const data: DeliveryJobData = {
          seq,
          clientId: delivery.clientId,
          pluginId: delivery.pluginId,
          operationId: delivery.operationId,
          requestId: delivery.requestId,
          request: delivery.request,
          createdAt: now,
          updatedAt: now,
          windowStartedAt: now,
          nextAttemptAt: now,
          released: 0,
          ...(delivery.acceptedTraceparent ? { acceptedTraceparent: delivery.acceptedTraceparent } : {}),
        };
        const queue = queues.get(delivery.pluginId) as Queue<DeliveryJobData>;
        await new Job(queue, delivery.operationId, data, { jobId: delivery.id }, delivery.id).addJob(multi);
        (multi as unknown as ChainableCommander).zadd(this.clientKey(delivery.clientId), seq, member(delivery.pluginId, delivery.id));
        (multi as unknown as ChainableCommander).sadd(this.pendingKey(delivery.clientId), member(delivery.pluginId, delivery.id));
      }
      (multi as unknown as ChainableCommander).sadd(this.pluginsKey(), ...plugins);
      const results = await multi.exec();
      if (results === null) throw new DeliveryStoreUnavailableError('the enqueue transaction was aborted');
      const failed = results.find(([error]) => error !== null);
      if (failed) throw failed[0];
    });
    if (deliveries.some((d) => !this.knownPlugins?.ids.includes(d.pluginId))) this.knownPlugins = undefined;
  }

  async claimDue({ limit, excludePlugins = [], onlyPlugin }: ClaimOptions): Promise<DeliveryRecord[]> {
    // Fail fast while Redis is away: the worker's own connection would otherwise wait for the reconnect.
    if (this.commands.status !== 'ready') throw new DeliveryStoreUnavailableError('Redis is not connected');
    const plugins = onlyPlugin !== undefined ? [onlyPlugin] : (await this.pluginIds()).filter((id) => !excludePlugins.includes(id));
    const claimed: DeliveryRecord[] = [];
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
        this.claims.set(job.id, { job, token, worker });
        claimed.push(toRecord(job, 'delivering'));
      }
    }
    return claimed;
  }

  async markDelivered(id: string, now: number): Promise<void> {
    const claim = this.claims.get(id);
    if (!claim) return;
    this.claims.delete(id);
    await this.settle(claim.job);
    await claim.job.moveToCompleted({ deliveredAt: now }, claim.token, false);
  }

  /** Two steps (data, then the move): if the move fails the job stays active and comes back through the stalled check. */
  async reschedule(id: string, nextAttemptAt: number, error: DeliveryError | undefined, now: number): Promise<void> {
    const claim = this.claims.get(id);
    if (!claim) return;
    this.claims.delete(id);
    const { lastError: _previous, ...data } = claim.job.data;
    await claim.job.updateData({ ...data, updatedAt: now, nextAttemptAt, ...(error ? { lastError: error } : {}) });
    await claim.job.moveToDelayed(nextAttemptAt, claim.token);
  }

  async release(id: string, nextAttemptAt: number, now: number): Promise<void> {
    const claim = this.claims.get(id);
    if (!claim) return;
    this.claims.delete(id);
    const { data } = claim.job;
    await claim.job.updateData({ ...data, updatedAt: now, nextAttemptAt, released: data.released + 1 });
    await claim.job.moveToDelayed(nextAttemptAt, claim.token);
  }

  async markDead(id: string, error: DeliveryError, now: number): Promise<void> {
    const claim = this.claims.get(id);
    if (!claim) return;
    this.claims.delete(id);
    await claim.job.updateData({ ...claim.job.data, updatedAt: now, lastError: error });
    await this.settle(claim.job);
    await claim.job.moveToFailed(new Error(error.detail), claim.token, false);
  }

  get(id: string, clientId: string): Promise<DeliveryRecord | undefined> {
    return this.guard(async () => {
      const found = await this.find(id, clientId);
      return found && toRecord(found.job, found.status);
    });
  }

  /**
   * Walks the client's index in acceptance order and reads each job's state. A status filter reads past the
   * deliveries it skips, so one page reads at most LIST_SCAN_LIMIT entries: a page can then hold fewer items than
   * `limit` and still carry a `nextCursor` (where the walk stopped).
   */
  list(clientId: string, { status, limit, cursor }: ListOptions): Promise<DeliveryPage> {
    return this.guard(async () => {
      let after = cursor === undefined ? 0 : decodeCursor(cursor);
      const key = this.clientKey(clientId);
      const items: DeliveryRecord[] = [];
      let scanned = 0;
      for (;;) {
        const batch = await this.commands.zrangebyscore(key, `(${after}`, '+inf', 'WITHSCORES', 'LIMIT', 0, LIST_BATCH);
        const entries: { member: string; seq: number }[] = [];
        for (let i = 0; i < batch.length; i += 2) entries.push({ member: batch[i] as string, seq: Number(batch[i + 1]) });
        if (entries.length === 0) return { items };
        const found = await Promise.all(entries.map((entry) => this.findByMember(entry.member)));
        const gone = entries.filter((_, i) => found[i] === undefined).map((entry) => entry.member);
        // Index entries outlive their job when it was pruned or discarded between two steps: dropped as met.
        if (gone.length > 0) await this.commands.zrem(key, ...gone);
        for (const [i, entry] of entries.entries()) {
          const job = found[i];
          if (job && (status === undefined || job.status === status)) {
            if (items.length === limit) return { items, nextCursor: encodeCursor(after) };
            items.push(toRecord(job.job, job.status));
          }
          after = entry.seq;
          scanned += 1;
        }
        if (entries.length < LIST_BATCH) return { items };
        if (scanned >= LIST_SCAN_LIMIT) return { items, nextCursor: encodeCursor(after) };
      }
    });
  }

  retry(id: string, clientId: string, now: number): Promise<DeliveryRecord | undefined> {
    return this.guard(async () => {
      const found = await this.find(id, clientId);
      if (found?.status !== 'dead') return undefined;
      const { job } = found;
      await job.updateData({ ...job.data, updatedAt: now, windowStartedAt: now, nextAttemptAt: now });
      // Pending again before it can be claimed, so that its delivery's settle() finds it; undone if the retry fails.
      await this.commands.sadd(this.pendingKey(clientId), member(job.data.pluginId, id));
      try {
        await job.retry('failed');
      } catch (error) {
        await this.settle(job);
        // No longer dead: another request retried or discarded it meanwhile.
        if ((await job.getState()) !== 'failed') return undefined;
        throw error;
      }
      return this.get(id, clientId);
    });
  }

  /** The state check and the removal are two steps; BullMQ refuses to remove a job locked by a delivery (busy). */
  discard(id: string, clientId: string): Promise<'discarded' | 'not-found' | 'busy'> {
    return this.guard(async () => {
      const found = await this.find(id, clientId);
      if (!found) return 'not-found';
      if (found.status !== 'queued' && found.status !== 'dead') return 'busy';
      try {
        // Out of the pending set first, as in settle(): a crash in between undercounts, never overcounts.
        await this.settle(found.job);
        await found.job.remove();
      } catch (error) {
        // Claimed for delivery since the state was read: BullMQ keeps a locked job.
        if ((await found.job.getState()) === 'active') return 'busy';
        throw error;
      }
      await this.commands.zrem(this.clientKey(clientId), member(found.job.data.pluginId, id));
      return 'discarded';
    });
  }

  /**
   * Nothing to do at start: another live instance's active jobs are not interrupted, and this store cannot tell
   * them from a dead one's. Claims of a dead instance come back by themselves once their lock expires, through
   * the stalled-job check every worker of this store runs (started here, and at the first claim otherwise).
   */
  async recoverInterrupted(_now: number): Promise<number> {
    await Promise.all((await this.pluginIds()).map((id) => this.worker(id)));
    return 0;
  }

  pruneDelivered(before: number): Promise<number> {
    return this.guard(async () => {
      let pruned = 0;
      for (const pluginId of await this.pluginIds()) {
        const queue = await this.queue(pluginId);
        for (;;) {
          // The completed set is scored by BullMQ's finish time, within a moment of `deliveredAt`.
          const ids = await this.commands.zrangebyscore(queue.toKey('completed'), '-inf', `(${before}`, 'LIMIT', 0, PRUNE_BATCH);
          if (ids.length === 0) break;
          const data = await this.pipelined(ids.map((id) => ['hget', this.jobKey(pluginId, id), 'data']));
          const removed = await Promise.all(ids.map((id) => queue.remove(id)));
          const index = this.commands.pipeline();
          for (const [i, id] of ids.entries()) {
            const clientId = parseClientId(data[i]);
            if (clientId === undefined) continue;
            index.zrem(this.clientKey(clientId), member(pluginId, id));
            // Already gone unless a step of this store failed halfway; removing it again costs nothing.
            index.srem(this.pendingKey(clientId), member(pluginId, id));
          }
          await index.exec();
          pruned += removed.filter((n) => n === 1).length;
          if (ids.length < PRUNE_BATCH) break;
        }
      }
      if (Date.now() - this.reconciledAt >= (this.options.reconcileEveryMs ?? DEFAULT_RECONCILE_EVERY_MS)) {
        this.reconciledAt = Date.now();
        await this.reconcilePending();
      }
      return pruned;
    });
  }

  /**
   * Drops pending-set members whose job is gone or finished (delivered or dead). Only a failure between two steps
   * leaves one (an enqueue transaction with a failed command, a crash inside retry, an instance of an older version
   * settling a job); without this pass such a member would count against its client for good.
   */
  private async reconcilePending(): Promise<void> {
    let keysCursor = '0';
    do {
      const [nextKeys, keys] = await this.commands.scan(keysCursor, 'MATCH', `${this.keyBase}:pending:*`, 'COUNT', 100);
      keysCursor = nextKeys;
      for (const key of keys) {
        let cursor = '0';
        do {
          const [next, members] = await this.commands.sscan(key, cursor, 'COUNT', PRUNE_BATCH);
          cursor = next;
          if (members.length === 0) continue;
          const jobs = members.map((entry) => JSON.parse(entry) as [string, string]);
          // Every BullMQ job hash has `timestamp`; a finished one has `finishedOn` too.
          const fields = await this.pipelined(
            jobs.map(([pluginId, id]) => ['hmget', this.jobKey(pluginId, id), 'timestamp', 'finishedOn']),
          );
          const stale = members.filter((_, i) => {
            const [timestamp, finishedOn] = fields[i] as [string | null, string | null];
            return timestamp === null || finishedOn !== null;
          });
          if (stale.length > 0) await this.commands.srem(key, ...stale);
        } while (cursor !== '0');
      }
    } while (keysCursor !== '0');
  }

  /** Queued and due (waiting) counts as due now; otherwise the earliest delayed job's due time. */
  nextDueAt(): Promise<number | undefined> {
    return this.guard(async () => {
      const queues = await Promise.all((await this.pluginIds()).map((id) => this.queue(id)));
      const replies = await this.pipelined(
        queues.flatMap((q) => [
          ['llen', q.toKey('wait')],
          ['zcard', q.toKey('prioritized')],
          ['zrange', q.toKey('delayed'), '0', '0', 'WITHSCORES'],
        ]),
      );
      let due: number | undefined;
      for (let i = 0; i < replies.length; i += 3) {
        if ((replies[i] as number) > 0 || (replies[i + 1] as number) > 0) return Date.now();
        const delayed = replies[i + 2] as string[];
        // BullMQ scores a delayed job as its due time × 4096 plus an ordering counter.
        if (delayed.length === 2) due = Math.min(due ?? Number.POSITIVE_INFINITY, Math.floor(Number(delayed[1]) / 0x1000));
      }
      return due;
    });
  }

  /** One pipelined round trip of O(1) list and set lengths per plugin queue. */
  countPending(clientId?: string): Promise<number> {
    if (clientId !== undefined) return this.guard(() => this.commands.scard(this.pendingKey(clientId)));
    return this.guard(async () => {
      const queues = await Promise.all((await this.pluginIds()).map((id) => this.queue(id)));
      const replies = await this.pipelined(
        queues.flatMap((q): [string, string][] => [
          ['llen', q.toKey('wait')],
          ['llen', q.toKey('paused')],
          ['llen', q.toKey('active')],
          ['zcard', q.toKey('delayed')],
          ['zcard', q.toKey('prioritized')],
        ]),
      );
      return replies.reduce<number>((sum, n) => sum + (n as number), 0);
    });
  }

  /**
   * The oldest pending acceptance among each queue's next waiting job, its in-flight jobs and its ten earliest-due
   * delayed ones: a bounded read, not a scan of a deep queue. A retried delivery older than these but due later
   * is not seen, so under a long outage the age can read younger than it is.
   */
  stats(): Promise<DeliveryStats> {
    return this.guard(async () => {
      const pending = await this.countPending();
      let oldest: number | undefined;
      for (const pluginId of await this.pluginIds()) {
        const queue = await this.queue(pluginId);
        const [next, active, delayed] = await this.pipelined([
          ['lrange', queue.toKey('wait'), '-1', '-1'],
          ['lrange', queue.toKey('active'), '0', '99'],
          ['zrange', queue.toKey('delayed'), '0', '9'],
        ]);
        const ids = [...(next as string[]), ...(active as string[]), ...(delayed as string[])];
        if (ids.length === 0) continue;
        const data = await this.pipelined(ids.map((id) => ['hget', this.jobKey(pluginId, id), 'data']));
        for (const raw of data) {
          const createdAt = typeof raw === 'string' ? (JSON.parse(raw) as DeliveryJobData).createdAt : undefined;
          if (createdAt !== undefined) oldest = Math.min(oldest ?? createdAt, createdAt);
        }
      }
      return { pending, ...(oldest !== undefined ? { oldestPendingAt: oldest } : {}) };
    });
  }

  /** Claims still held are not given back: their locks lapse and other instances take them (at-least-once). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.lockRenewal);
    this.claims.clear();
    await Promise.allSettled([...this.workers.values()].map((worker) => worker.close(true)));
    await Promise.allSettled([...this.queues.values()].map((queue) => queue.close()));
    this.commands.disconnect();
  }

  private async find(id: string, clientId: string): Promise<{ job: DeliveryJob; status: DeliveryStatus } | undefined> {
    const plugins = await this.pluginIds();
    const exists = await this.pipelined(plugins.map((pluginId) => ['exists', this.jobKey(pluginId, id)]));
    const pluginId = plugins.find((_, i) => exists[i] === 1);
    if (pluginId === undefined) return undefined;
    const found = await this.findByMember(member(pluginId, id));
    return found?.job.data.clientId === clientId ? found : undefined;
  }

  private async findByMember(entry: string): Promise<{ job: DeliveryJob; status: DeliveryStatus } | undefined> {
    const [pluginId, id] = JSON.parse(entry) as [string, string];
    const queue = await this.queue(pluginId);
    const job = (await queue.getJob(id)) as DeliveryJob | undefined;
    if (!job) return undefined;
    const status = statusOf(await job.getState());
    return status && { job, status };
  }

  /** The configured plugins and those any instance enqueued for (re-read at most once a second). */
  private async pluginIds(): Promise<readonly string[]> {
    const now = Date.now();
    if (this.knownPlugins && now - this.knownPlugins.at < PLUGIN_REFRESH_MS) return this.knownPlugins.ids;
    const stored = await this.commands.smembers(this.pluginsKey());
    const ids = [...new Set([...this.options.pluginIds, ...stored])].sort();
    this.knownPlugins = { ids, at: now };
    return ids;
  }

  private async queue(pluginId: string): Promise<Queue<DeliveryJobData>> {
    let queue = this.queues.get(pluginId);
    if (!queue) {
      queue = new Queue<DeliveryJobData>(queueName(pluginId), { connection: this.commands, prefix: this.bullPrefix });
      queue.on('error', (error: Error) => this.onError(error));
      this.queues.set(pluginId, queue);
    }
    await queue.waitUntilReady();
    return queue;
  }

  private async worker(pluginId: string): Promise<Worker<DeliveryJobData>> {
    if (this.closed) throw new DeliveryStoreUnavailableError('the delivery store is closed');
    let worker = this.workers.get(pluginId);
    if (!worker) {
      worker = new Worker<DeliveryJobData>(queueName(pluginId), null, {
        // BullMQ opens the worker's own connections (one for commands, one blocking) from the same settings;
        // it requires `maxRetriesPerRequest: null` there, so a claim waits out a reconnect instead of failing.
        connection: { ...this.commands.options, enableOfflineQueue: true, maxRetriesPerRequest: null } as ConnectionOptions,
        prefix: this.bullPrefix,
        autorun: false,
        lockDuration: this.lockDurationMs,
        stalledInterval: this.stalledIntervalMs,
        maxStalledCount: NEVER_FAIL_STALLED,
      });
      worker.on('error', (error: Error) => this.onError(error));
      this.workers.set(pluginId, worker);
      await worker.waitUntilReady();
      void worker.startStalledCheckTimer();
    }
    return worker;
  }

  /** One EXTEND per worker for all the claims this instance holds in its queue. */
  private async renewLocks(): Promise<void> {
    const byWorker = new Map<Worker, Claim[]>();
    for (const claim of this.claims.values()) byWorker.set(claim.worker, [...(byWorker.get(claim.worker) ?? []), claim]);
    for (const [worker, claims] of byWorker) {
      try {
        await worker.extendJobLocks(
          claims.map((c) => c.job.id as string),
          claims.map((c) => c.token),
          this.lockDurationMs,
        );
      } catch (error) {
        this.onError(error as Error);
      }
    }
  }

  private async pipelined(commands: readonly (readonly [string, ...string[]])[]): Promise<unknown[]> {
    if (commands.length === 0) return [];
    const results = (await this.commands.pipeline(commands.map((command) => [...command])).exec()) ?? [];
    return results.map(([error, reply]) => {
      if (error) throw error;
      return reply;
    });
  }

  /** Any Redis failure is the store being unavailable (the service answers 503), not a gateway bug. */
  private async guard<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof DeliveryStoreUnavailableError || error instanceof InvalidCursorError) throw error;
      throw new DeliveryStoreUnavailableError(`delivery store failed: ${(error as Error).message}`, { cause: error });
    }
  }

  private jobKey(pluginId: string, id: string): string {
    return `${this.bullPrefix}:${queueName(pluginId)}:${id}`;
  }

  private seqKey(): string {
    return `${this.keyBase}:seq`;
  }

  private pluginsKey(): string {
    return `${this.keyBase}:plugins`;
  }

  private clientKey(clientId: string): string {
    return `${this.keyBase}:client:${clientId}`;
  }

  /** The client's pending deliveries (queued or being delivered), for the per-client cap. */
  private pendingKey(clientId: string): string {
    return `${this.keyBase}:pending:${clientId}`;
  }

  /**
   * Leaves the client's pending set before the job leaves BullMQ's active state: a crash between the two steps
   * undercounts the client for a while (the job comes back and is delivered again), never overcounts it.
   */
  private async settle(job: DeliveryJob): Promise<void> {
    await this.commands.srem(this.pendingKey(job.data.clientId), member(job.data.pluginId, job.id as string));
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

/** BullMQ refuses `:` in a queue name; plugin ids are encoded so that any id fits. */
const queueName = (pluginId: string): string => `deliveries-${encodeURIComponent(pluginId)}`;

const member = (pluginId: string, id: string): string => JSON.stringify([pluginId, id]);

function parseClientId(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  return (JSON.parse(raw) as Partial<DeliveryJobData>).clientId;
}

function statusOf(state: string): DeliveryStatus | undefined {
  switch (state) {
    case 'waiting':
    case 'delayed':
    case 'prioritized':
    case 'waiting-children':
      return 'queued';
    case 'active':
      return 'delivering';
    case 'completed':
      return 'delivered';
    case 'failed':
      return 'dead';
    default:
      return undefined;
  }
}

function toRecord(job: DeliveryJob, status: DeliveryStatus): DeliveryRecord {
  const { data } = job;
  const deliveredAt = status === 'delivered' ? job.returnvalue?.deliveredAt : undefined;
  return {
    id: job.id as string,
    clientId: data.clientId,
    pluginId: data.pluginId,
    operationId: data.operationId,
    requestId: data.requestId,
    request: data.request,
    status,
    attempts: Math.max(0, (job.attemptsStarted ?? 0) - data.released),
    createdAt: data.createdAt,
    updatedAt: Math.max(data.updatedAt, job.processedOn ?? 0, job.finishedOn ?? 0),
    windowStartedAt: data.windowStartedAt,
    ...(status === 'queued' ? { nextAttemptAt: data.nextAttemptAt } : {}),
    ...(deliveredAt !== undefined ? { deliveredAt } : {}),
    ...(data.lastError ? { lastError: data.lastError } : {}),
    ...(data.acceptedTraceparent ? { acceptedTraceparent: data.acceptedTraceparent } : {}),
  };
}

const encodeCursor = (seq: number): string => Buffer.from(`s${seq}`).toString('base64url');

function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const seq = /^s(\d{1,15})$/.exec(text)?.[1];
  if (seq === undefined) throw new InvalidCursorError('cursor is not one this gateway handed out');
  return Number(seq);
}
