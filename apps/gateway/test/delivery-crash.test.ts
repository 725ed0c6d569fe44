import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { recordedEvents, sendBatches, waitUntil } from './support/delivery-load.ts';
import { type ProgrammableUpstream, startProgrammableUpstream } from './support/programmable-upstream.ts';
import { recordPrinted, TEST_PX_KEY } from './support/secrets.ts';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** The built gateway (what `npm start` runs) as a real process; resolves once it listens. */
function startProcess(environment: Record<string, string>): Promise<{ child: ChildProcess; restUrl: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', PORT: '0', MCP_PORT: '0', HOST: '127.0.0.1', ...environment },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => reject(new Error(`gateway did not listen within 15 s: ${output.slice(-500)}`)), 15_000);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      recordPrinted(text);
      output += text;
      const url = /"msg":"gateway listening"/.test(output) ? /"url":"(http:\/\/[^"]+)","plugins"/.exec(output)?.[1] : undefined;
      if (url) {
        clearTimeout(timer);
        resolve({ child, restUrl: url });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`gateway exited (${code}) before listening: ${output.slice(-500)}`)));
  });
}

let upstream: ProgrammableUpstream | undefined;
const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await upstream?.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('durable delivery across a crash', () => {
  it('2,000 events queued, the gateway killed with SIGKILL mid-delivery, restarted on the same DATA_DIR: all 2,000 delivered, none lost', {
    timeout: 120_000,
  }, async () => {
    upstream = await startProgrammableUpstream(() => ({ status: 201, delayMs: 50 }));
    const dataDir = mkdtempSync(join(tmpdir(), 'gateway-crash-'));
    dirs.push(dataDir);
    const environment = {
      GAINSIGHT_API_KEY: TEST_PX_KEY,
      GAINSIGHT_PX_BASE_URL: `${upstream.url}/v1`,
      DATA_DIR: dataDir,
      INBOUND_RATE_LIMIT: '0',
      LOG_LEVEL: 'info',
    };
    const first = await startProcess(environment);
    children.push(first.child);
    const ids = await sendBatches(first.restUrl, 2000, 500);
    expect(ids).toHaveLength(2000);
    // Some deliveries are in flight (the upstream takes 50 ms to answer) when the process dies.
    await waitUntil(() => upstream?.received.length !== undefined && upstream.received.length >= 50, 'deliveries under way', 20_000);
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    const beforeRestart = recordedEvents(upstream).distinct.size;
    expect(beforeRestart).toBeLessThan(2000);

    const second = await startProcess(environment);
    children.push(second.child);
    await waitUntil(
      () => recordedEvents(upstream as ProgrammableUpstream).distinct.size === 2000,
      'all 2,000 events recorded after the restart',
      60_000,
    );
    // Every accepted id is delivered according to the restarted gateway's own records.
    await waitUntil(
      async () => {
        const page = (await (await fetch(`${second.restUrl}/v1/deliveries?status=delivered&limit=1000`)).json()) as { items: unknown[] };
        const next = (await (await fetch(`${second.restUrl}/v1/deliveries?limit=1&status=queued`)).json()) as { items: unknown[] };
        return page.items.length === 1000 && next.items.length === 0;
      },
      'the status records',
      30_000,
    );
  });
});
