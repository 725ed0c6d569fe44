import { describe, expect, it } from 'vitest';
import { allowedHostnames } from './host-guard.ts';

describe('allowedHostnames', () => {
  it('serves the loopback names by default, plus a specific bind address', () => {
    expect([...(allowedHostnames('127.0.0.1', []) ?? [])].sort()).toEqual(['127.0.0.1', '[::1]', 'localhost']);
    expect(allowedHostnames('10.0.0.5', [])?.has('10.0.0.5')).toBe(true);
    expect(allowedHostnames('::1', [])?.has('[::1]')).toBe(true);
  });

  it('does not serve every name when bound to all interfaces', () => {
    const names = allowedHostnames('0.0.0.0', []);
    expect(names?.has('0.0.0.0')).toBe(false);
    expect(names?.size).toBe(3);
  });

  it('adds ALLOWED_HOSTS entries, lower-cased, ports and schemes dropped', () => {
    const names = allowedHostnames('0.0.0.0', ['MCP.Example.com', 'other.example.org:8443', 'https://third.example.net']);
    expect(names?.has('mcp.example.com')).toBe(true);
    expect(names?.has('other.example.org')).toBe(true);
    expect(names?.has('third.example.net')).toBe(true);
  });

  it('turns the check off only for an explicit *', () => {
    expect(allowedHostnames('0.0.0.0', ['*'])).toBeUndefined();
  });
});
