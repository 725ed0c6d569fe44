import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_SECRETS } from './secrets.ts';

let PRINTED_DIR = '';

/** Vitest global setup: a fresh capture directory for the workers, and after the run a scan of all of it for secrets. */
export function setup(): void {
  PRINTED_DIR = mkdtempSync(join(tmpdir(), 'gateway-test-printed-'));
  process.env.GATEWAY_TEST_PRINTED_DIR = PRINTED_DIR;
}

export function teardown(): void {
  if (!existsSync(PRINTED_DIR)) throw new Error('secret scan: the capture directory is gone');
  const files = readdirSync(PRINTED_DIR);
  let lines = 0;
  for (const file of files) {
    const text = readFileSync(`${PRINTED_DIR}/${file}`, 'utf8');
    lines += text.split('\n').length - 1;
    for (const secret of TEST_SECRETS) {
      if (text.includes(secret)) throw new Error(`secret scan: a test secret appeared in gateway output (${file})`);
    }
  }
  rmSync(PRINTED_DIR, { recursive: true, force: true });
  process.stdout.write(`secret scan: ${lines} lines of gateway output in ${files.length} files checked, no secret found\n`);
}
