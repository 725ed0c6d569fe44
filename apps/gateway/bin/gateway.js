#!/usr/bin/env node
// The `gateway` command. Runs the built CLI (dist/cli.js); in a fresh clone it builds it first (esbuild, ~1 s).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const appDirectory = fileURLToPath(new URL('..', import.meta.url));
const cli = new URL('../dist/cli.js', import.meta.url);

if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('gateway: the CLI is not built yet (apps/gateway/dist/cli.js); building it now...\n');
  const build = spawnSync(process.execPath, ['build.mjs'], { cwd: appDirectory, stdio: ['ignore', 2, 2] });
  if (build.status !== 0 || !existsSync(fileURLToPath(cli))) {
    process.stderr.write('gateway: could not build the CLI. Run "npm run build" at the repository root, then try again.\n');
    process.exit(2);
  }
}
await import(cli.href);
