const REDACTED = '[redacted]';

/** `text` with every secret replaced by `[redacted]`. */
export function redactText(text: string, secrets: readonly string[]): string {
  let clean = text;
  for (const secret of secrets) if (secret.length > 0) clean = clean.replaceAll(secret, REDACTED);
  return clean;
}

/**
 * A JSON value (an upstream body, a tool result) with every secret replaced wherever it appears in its strings;
 * the same value, untouched, when no secret appears. A string is treated as text.
 */
export function redactJson<T>(value: T, secrets: readonly string[]): T {
  if (value === undefined || value === null) return value;
  if (typeof value === 'string') return redactText(value, secrets) as T;
  const text = JSON.stringify(value);
  // Secrets as they appear inside JSON strings (quotes and backslashes escaped).
  const present = secrets
    .filter((secret) => secret.length > 0)
    .map((secret) => JSON.stringify(secret).slice(1, -1))
    .filter((escaped) => text.includes(escaped));
  if (present.length === 0) return value;
  return JSON.parse(redactText(text, present)) as T;
}
