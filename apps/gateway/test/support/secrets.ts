import { appendFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Secrets the suite hands the gateway; none may ever appear in what it printed (checked after the run). */
export const TEST_PX_KEY = 'px-secret-key-4f9c2a7e-never-shown';
export const TEST_CLIENT_KEY = 'client-key-0123456789abcdef';
export const TEST_OTHER_CLIENT_KEY = 'other-client-key-fedcba9876543210';
export const TEST_SECRETS = [TEST_PX_KEY, TEST_CLIENT_KEY, TEST_OTHER_CLIENT_KEY];

/** Every gateway started by the suite appends what it printed here. */
export const PRINTED_DIR = fileURLToPath(new URL('../../../../.tmp/printed', import.meta.url));

/** Adds output of a gateway the suite ran as a process to the capture. */
export function recordPrinted(text: string): void {
  mkdirSync(PRINTED_DIR, { recursive: true });
  appendFileSync(`${PRINTED_DIR}/${process.pid}-processes.log`, text);
}
