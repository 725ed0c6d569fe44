import { describe, expect, it } from 'vitest';
import { serverUrlFrom } from './servers.ts';

describe('serverUrlFrom', () => {
  it('uses the Host header, https when the connection is TLS', () => {
    expect(serverUrlFrom({ host: '127.0.0.1:8080' }, false, false)).toBe('http://127.0.0.1:8080');
    expect(serverUrlFrom({ host: 'gateway.internal' }, true, false)).toBe('https://gateway.internal');
    expect(serverUrlFrom({ host: '[::1]:8080' }, false, false)).toBe('http://[::1]:8080');
  });

  it('prefers a trusted reverse proxy’s X-Forwarded-Proto and X-Forwarded-Host (first hop)', () => {
    const headers = { host: '10.0.0.5:8080', 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'api.example.org, 10.0.0.5' };
    expect(serverUrlFrom(headers, false, true)).toBe('https://api.example.org');
  });

  it('ignores X-Forwarded-Proto and X-Forwarded-Host without a trusted proxy (TRUST_PROXY unset)', () => {
    const headers = { host: '127.0.0.1:8080', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' };
    expect(serverUrlFrom(headers, false, false)).toBe('http://127.0.0.1:8080');
  });

  it('ignores forwarded values that are not a protocol or a host', () => {
    expect(serverUrlFrom({ host: 'gw:8080', 'x-forwarded-proto': 'javascript', 'x-forwarded-host': 'evil/path' }, false, true)).toBe(
      'http://gw:8080',
    );
  });

  it('falls back to the relative "/" without a usable host', () => {
    expect(serverUrlFrom({}, false, false)).toBe('/');
    expect(serverUrlFrom({ host: 'a b' }, false, false)).toBe('/');
  });
});
