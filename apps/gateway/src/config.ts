import type { Environment } from '@gateway/core';

export interface GatewayConfig {
  readonly host: string;
  readonly port: number;
  readonly mcpPort: number;
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
  /** Plugin names or package specifiers, in load order. */
  readonly plugins: readonly string[];
  /** The environment plugins read their own variables from. */
  readonly environment: Environment;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads and checks the gateway's variables; every error names the variable. */
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
  const plugins = (environment.PLUGINS || 'gainsight-px').split(',').map((name) => name.trim()).filter(Boolean);
  return {
    host: environment.HOST || '127.0.0.1',
    port: integer('PORT', 8080, 0, 65535),
    mcpPort: integer('MCP_PORT', 9090, 0, 65535),
    production: environment.NODE_ENV === 'production',
    logLevel,
    upstreamTimeoutMs: integer('UPSTREAM_TIMEOUT_MS', 10_000, 1, 600_000),
    upstreamRetries: integer('UPSTREAM_RETRIES', 2, 0, 10),
    upstreamRetryBaseMs: integer('UPSTREAM_RETRY_BASE_MS', 200, 1, 60_000),
    upstreamRateLimit: integer('UPSTREAM_RATE_LIMIT', 150, 0, 100_000),
    bodyLimitBytes: integer('BODY_LIMIT', 1024 * 1024, 1, 100 * 1024 * 1024),
    plugins,
    environment,
  };
}
