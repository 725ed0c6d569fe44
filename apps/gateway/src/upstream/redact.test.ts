import { describe, expect, it } from 'vitest';
import { redactJson, redactText } from './redact.ts';

const SECRETS = ['s3cr3t-value', 'quote"and\\slash', ''];

describe('redactText', () => {
  it('replaces every occurrence of every secret, and ignores empty ones', () => {
    expect(redactText('key s3cr3t-value, again s3cr3t-value', SECRETS)).toBe('key [redacted], again [redacted]');
    expect(redactText('nothing here', SECRETS)).toBe('nothing here');
  });
});

describe('redactJson', () => {
  it('returns the same value untouched when no secret appears', () => {
    const body = { error: 'bad input', items: [1, 2] };
    expect(redactJson(body, SECRETS)).toBe(body);
    expect(redactJson(undefined, SECRETS)).toBeUndefined();
  });

  it('redacts secrets in nested strings and keys, including ones JSON escapes', () => {
    const body = { error: 'key s3cr3t-value rejected', nested: [{ note: 'quote"and\\slash seen' }], 's3cr3t-value': true };
    expect(redactJson(body, SECRETS)).toEqual({
      error: 'key [redacted] rejected',
      nested: [{ note: '[redacted] seen' }],
      '[redacted]': true,
    });
  });

  it('treats a string body as text', () => {
    expect(redactJson('api_key=s3cr3t-value is revoked', SECRETS)).toBe('api_key=[redacted] is revoked');
  });
});
