import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { PRINTED_DIR, TEST_SECRETS } from './secrets.ts';

/** Vitest global setup: starts with an empty capture, and after the run scans all of it for secrets. */
export function setup(): void {
  rmSync(PRINTED_DIR, { recursive: true, force: true });
}

export function teardown(): void {
  if (!existsSync(PRINTED_DIR)) return;
  const files = readdirSync(PRINTED_DIR);
  let lines = 0;
  for (const file of files) {
    const text = readFileSync(`${PRINTED_DIR}/${file}`, 'utf8');
    lines += text.split('\n').length - 1;
    for (const secret of TEST_SECRETS) {
      if (text.includes(secret)) throw new Error(`secret scan: a test secret appeared in gateway output (${file})`);
    }
  }
  process.stdout.write(`secret scan: ${lines} lines of gateway output checked, no secret found\n`);
}
