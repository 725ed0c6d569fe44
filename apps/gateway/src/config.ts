import type { Environment } from '@gateway/core';
import { isLoopback, readInboundKeys } from './auth/read-keys.ts';
import { DEFAULT_IDEMPOTENCY_LIMITS, type IdempotencyLimits } from './idempotency/idempotency-store.ts';
import { normalizeRedisPrefix } from './redis/redis-prefix.ts';

export interface GatewayConfig {
  readonly host: string;
  readonly port: number;
  readonly mcpPort: number;
  /** MCP_SESSIONS=true: stateful MCP sessions (Mcp-Session-Id); stateless per request otherwise. */
  readonly mcpSessions: boolean;
  /** ALLOWED_HOSTS (alias MCP_ALLOWED_HOSTS): host names both listeners answer to besides loopback (`*` for any). */
  readonly allowedHosts: readonly string[];
  /** MCP_SESSIONS_PER_CLIENT: open MCP sessions one client (key, or address when anonymous) may hold. */
  readonly mcpSessionsPerClient: number;
  readonly production: boolean;
  readonly logLevel: string;
  readonly upstreamTimeoutMs: number;
  /** Extra attempts after a retryable failure, all inside `upstreamTimeoutMs`. */
  readonly upstreamRetries: number;
  /** Base of the exponential backoff between attempts. */
  readonly upstreamRetryBaseMs: number;
  /** Outbound requests per second per upstream; 0 turns the limiter off. */
  readonly upstreamRateLimit: number;
  readonly bodyLimitBytes: number;
  /** IDEMPOTENCY_MAX_RECORDS and IDEMPOTENCY_MAX_RECORDS_PER_CLIENT: how many idempotency records the process keeps. */
  readonly idempotency: IdempotencyLimits;
  /** Inbound API keys; empty means no inbound auth (only allowed on loopback or explicitly). */
  readonly inboundKeys: readonly string[];
  readonly metricsPublic: boolean;
  /** Requests per minute per client key (per address when anonymous); 0 turns it off. */
  readonly inboundRateLimit: number;
  /** Origins allowed by CORS; empty means no CORS headers at all. */
  readonly corsOrigins: readonly string[];
  /** Express `trust proxy` (TRUST_PROXY): hops of proxies whose X-Forwarded-For is believed; 0 trusts none. */
  readonly trustProxy: number;
  /** How long a stop waits for in-flight requests. */
  readonly shutdownTimeoutMs: number;
  /** Plugin names or package specifiers, in load order. */
  readonly plugins: readonly string[];
  readonly delivery: DeliveryConfig;
  /** REDIS_URL: shared state (idempotency, rate budgets, delivery queue) in Redis; undefined keeps it in process. */
  readonly redisUrl: string | undefined;
  /** REDIS_PREFIX: the start of every key this gateway writes in Redis, always ending in `:` (`gw` is `gw:`). */
  readonly redisPrefix: string;
  /** The environment plugins read their own variables from. */
  readonly environment: Environment;
}

/** Durable delivery (the queue behind `Prefer: respond-async` and the batch routes). */
export interface DeliveryConfig {
  /** DATA_DIR: where the embedded queue's SQLite file lives. */
  readonly dataDir: string;
  /** `queue`: opted-in operations are queued even without `Prefer: respond-async`. */
  readonly mode: 'sync' | 'queue';
  readonly concurrency: number;
  /** How long a delivery is retried after acceptance before it is dead. */
  readonly retryWindowMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** Above this many pending deliveries, async routes answer 503. */
  readonly maxQueued: number;
  /** Above this many pending deliveries of one client, that client's async requests answer 429 (others go on). */
  readonly maxQueuedPerClient: number;
  /** Payload bytes one client may hold in pending and dead deliveries (DELIVERY_MAX_BYTES_PER_CLIENT). */
  readonly maxBytesPerClient: number;
  /** How long delivered records are kept. */
  readonly retentionMs: number;
  /** How long dead records (and their payloads) are kept for a retry (DELIVERY_DEAD_RETENTION). */
  readonly deadRetentionMs: number;
  /** DELIVERY_SEAL_KEY: 32 bytes; stored requests are then encrypted and authenticated (AES-256-GCM). A secret. */
  readonly sealKey?: Buffer;
  /** fsync every commit (power-loss safe) instead of WAL's NORMAL sync (crash safe). */
  readonly fsync: boolean;
  /** Redis queue: how long a claimed delivery stays locked to an instance that stopped renewing it (it died). */
  readonly lockMs: number;
}

/** DELIVERY_SEAL_KEY: 32 bytes as 64 hex digits or base64; the error never repeats the value (it is a secret). */
function sealKey(raw: string | undefined): { sealKey?: Buffer } {
  const text = raw?.trim() ?? '';
  if (text === '') return {};
  const key = /^[\da-f]{64}$/i.test(text)
    ? Buffer.from(text, 'hex')
    : /^[A-Za-z0-9+/_-]{43}=?$/.test(text)
      ? Buffer.from(text, 'base64')
      : undefined;
  if (key?.length !== 32)
    throw new ConfigError(
      'DELIVERY_SEAL_KEY must be 32 random bytes as 64 hex digits or base64 (e.g. the output of `openssl rand -base64 32`); the value given is not (not shown: it is a secret)',
    );
  return { sealKey: key };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads and checks the gateway's variables; every error names the variable. */
function redisPrefix(raw: string): string {
  try {
    return normalizeRedisPrefix(raw);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

export function readConfig(environment: Environment): GatewayConfig {
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = environment[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
    }
    return value;
  };
  const logLevel = (environment.LOG_LEVEL || 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  const flag = (name: string): boolean => {
    const raw = (environment[name] ?? '').trim().toLowerCase();
    if (raw === '' || raw === 'false' || raw === '0') return false;
    if (raw === 'true' || raw === '1') return true;
    throw new ConfigError(`${name} must be true or false (got "${environment[name]}")`);
  };
  const host = environment.HOST || '127.0.0.1';
  const inboundKeys = readInboundKeys(environment, (message) => new ConfigError(message));
  if (inboundKeys.length === 0 && !isLoopback(host) && !flag('GATEWAY_ALLOW_ANONYMOUS')) {
    throw new ConfigError(
      `HOST is ${host} but no GATEWAY_API_KEYS are set: anyone who reaches the gateway could use its upstream credentials. Set GATEWAY_API_KEYS (or GATEWAY_API_KEYS_FILE), or GATEWAY_ALLOW_ANONYMOUS=true to accept that.`,
    );
  }
  const duration = (name: string, fallback: number, minMs: number): number => {
    const raw = (environment[name] ?? '').trim();
    if (raw === '') return fallback;
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(raw);
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match?.[2] ?? 'ms'] ?? 1;
    const value = match ? Math.round(Number(match[1]) * unit) : Number.NaN;
    if (!Number.isFinite(value) || value < minMs || value > 366 * 86_400_000) {
      throw new ConfigError(
        `${name} must be a duration such as 90s, 30m, 24h or 7d (a bare number is milliseconds), at least ${minMs} ms (got "${raw}")`,
      );
    }
    return value;
  };
  const bytes = (name: string, fallback: number): number => {
    const raw = (environment[name] ?? '').trim();
    if (raw === '') return fallback;
    const match = /^(\d+)\s*(b|kb|mb|gb)?$/i.exec(raw);
    const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(match?.[2] ?? 'b').toLowerCase() as 'b'] ?? 1;
    const value = match ? Number(match[1]) * unit : Number.NaN;
    if (!Number.isSafeInteger(value) || value < 1024) {
      throw new ConfigError(`${name} must be a size such as 512kb, 256mb or 2gb (a bare number is bytes), at least 1kb (got "${raw}")`);
    }
    return value;
  };
  const deliveryMode = (environment.DELIVERY_MODE || 'sync').trim().toLowerCase();
  if (deliveryMode !== 'sync' && deliveryMode !== 'queue')
    throw new ConfigError(`DELIVERY_MODE must be sync or queue (got "${environment.DELIVERY_MODE}")`);
  const list = (name: string) =>
    (environment[name] ?? '')
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
  // PLUGINS=none loads no configured plugin (e.g. only the Naftiko capabilities given with --capability).
  const plugins = (environment.PLUGINS || 'gainsight-px')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '' && name !== 'none');
  const maxQueued = integer('DELIVERY_MAX_QUEUED', 1_000_000, 1, 1_000_000_000);
  return {
    host,
    inboundKeys,
    metricsPublic: flag('METRICS_PUBLIC'),
    inboundRateLimit: integer('INBOUND_RATE_LIMIT', 600, 0, 10_000_000),
    corsOrigins: list('CORS_ORIGINS'),
    trustProxy: integer('TRUST_PROXY', 0, 0, 10),
    shutdownTimeoutMs: integer('SHUTDOWN_TIMEOUT_MS', 15_000, 0, 600_000),
    port: integer('PORT', 8080, 0, 65535),
    mcpPort: integer('MCP_PORT', 9090, 0, 65535),
    mcpSessions: flag('MCP_SESSIONS'),
    allowedHosts: [...new Set([...list('ALLOWED_HOSTS'), ...list('MCP_ALLOWED_HOSTS')])],
    mcpSessionsPerClient: integer('MCP_SESSIONS_PER_CLIENT', 100, 1, 10_000),
    production: environment.NODE_ENV === 'production',
    logLevel,
    upstreamTimeoutMs: integer('UPSTREAM_TIMEOUT_MS', 10_000, 1, 600_000),
    upstreamRetries: integer('UPSTREAM_RETRIES', 2, 0, 10),
    upstreamRetryBaseMs: integer('UPSTREAM_RETRY_BASE_MS', 200, 1, 60_000),
    upstreamRateLimit: integer('UPSTREAM_RATE_LIMIT', 150, 0, 100_000),
    bodyLimitBytes: integer('BODY_LIMIT', 1024 * 1024, 1, 100 * 1024 * 1024),
    idempotency: {
      maxRecords: integer('IDEMPOTENCY_MAX_RECORDS', DEFAULT_IDEMPOTENCY_LIMITS.maxRecords, 1, 100_000_000),
      maxRecordsPerClient: integer('IDEMPOTENCY_MAX_RECORDS_PER_CLIENT', DEFAULT_IDEMPOTENCY_LIMITS.maxRecordsPerClient, 1, 100_000_000),
    },
    plugins,
    redisUrl: environment.REDIS_URL?.trim() || undefined,
    redisPrefix: redisPrefix(environment.REDIS_PREFIX ?? 'gateway:'),
    delivery: {
      dataDir: environment.DATA_DIR || './data',
      mode: deliveryMode,
      concurrency: integer('DELIVERY_CONCURRENCY', 8, 1, 256),
      retryWindowMs: duration('DELIVERY_RETRY_WINDOW', 24 * 3_600_000, 1000),
      retryBaseMs: integer('DELIVERY_RETRY_BASE_MS', 1000, 1, 600_000),
      retryMaxMs: integer('DELIVERY_RETRY_MAX_MS', 600_000, 1, 86_400_000),
      maxQueued,
      maxQueuedPerClient: integer('DELIVERY_MAX_QUEUED_PER_CLIENT', Math.max(1, Math.floor(maxQueued / 4)), 1, 1_000_000_000),
      maxBytesPerClient: bytes('DELIVERY_MAX_BYTES_PER_CLIENT', 256 * 1024 * 1024),
      retentionMs: duration('DELIVERY_RETENTION', 7 * 86_400_000, 1000),
      deadRetentionMs: duration('DELIVERY_DEAD_RETENTION', 30 * 86_400_000, 1000),
      ...sealKey(environment.DELIVERY_SEAL_KEY),
      fsync: flag('DELIVERY_FSYNC'),
      lockMs: integer('DELIVERY_LOCK_MS', 30_000, 1000, 600_000),
    },
    environment,
  };
}
