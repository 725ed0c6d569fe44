import { readFileSync } from 'node:fs';
import type { Environment } from '@gateway/core';

/** Inbound keys from GATEWAY_API_KEYS (comma-separated) and GATEWAY_API_KEYS_FILE (one per line, # comments). */
export function readInboundKeys(environment: Environment, fail: (message: string) => Error): string[] {
  const keys = (environment.GATEWAY_API_KEYS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const file = environment.GATEWAY_API_KEYS_FILE;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw fail(`GATEWAY_API_KEYS_FILE cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}): ${file}`);
    }
    for (const line of text.split(/\r?\n/)) {
      const key = line.replace(/#.*/, '').trim();
      if (key) keys.push(key);
    }
  }
  for (const key of keys) {
    if (key.length < 16) throw fail('GATEWAY_API_KEYS: every key must be at least 16 characters long');
    if (/\s/.test(key)) throw fail('GATEWAY_API_KEYS: keys must not contain whitespace');
  }
  return keys;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
