/**
 * REDIS_PREFIX as every Redis key of the gateway starts with it: ending in `:`, so `gw` and `gw:` name the same
 * keys everywhere (idempotency, rate limits, the delivery queue), and `gw` never shares keys with `gwx:`.
 */
export function normalizeRedisPrefix(prefix: string): string {
  const trimmed = prefix.trim();
  if (trimmed === '' || trimmed === ':') throw new Error('REDIS_PREFIX must not be empty (default "gateway:")');
  return trimmed.endsWith(':') ? trimmed : `${trimmed}:`;
}
