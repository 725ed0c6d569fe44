/** The one rule for an idempotency key (REST header, MCP argument): 1 to 255 printable ASCII characters, no spaces. */
export const IDEMPOTENCY_KEY_SCHEMA = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' } as const;

const PATTERN = new RegExp(IDEMPOTENCY_KEY_SCHEMA.pattern);

export function isValidIdempotencyKey(key: string): boolean {
  return key.length >= IDEMPOTENCY_KEY_SCHEMA.minLength && key.length <= IDEMPOTENCY_KEY_SCHEMA.maxLength && PATTERN.test(key);
}
