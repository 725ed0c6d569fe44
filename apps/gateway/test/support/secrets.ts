import { appendFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Secrets the suite hands the gateway; none may ever appear in what it printed (checked after the run). */
export const TEST_PX_KEY = 'px-secret-key-4f9c2a7e-never-shown';
export const TEST_CLIENT_KEY = 'client-key-0123456789abcdef';
export const TEST_OTHER_CLIENT_KEY = 'other-client-key-fedcba9876543210';
export const TEST_SECRETS = [TEST_PX_KEY, TEST_CLIENT_KEY, TEST_OTHER_CLIENT_KEY];

/** Every gateway started by the suite appends what it printed here (a fresh directory per run, set by the global setup). */
export const PRINTED_DIR = process.env.GATEWAY_TEST_PRINTED_DIR ?? join(tmpdir(), 'gateway-test-printed');

/** Adds output of a gateway the suite ran as a process to the capture. */
export function recordPrinted(text: string): void {
  mkdirSync(PRINTED_DIR, { recursive: true });
  appendFileSync(`${PRINTED_DIR}/${process.pid}-processes.log`, text);
}
