import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real redis-server on an ephemeral loopback port, started and stopped by the test that needs it. It runs as the README advises for the queue (AOF, here fsynced on every write), so a restart after SIGKILL keeps what it had. */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** Stops the server (as an outage would); `start` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const inCi = ['true', '1'].includes((process.env.CI ?? '').toLowerCase());
export const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';
export const redisInstalled = spawnSync(REDIS_SERVER, ['--version'], { stdio: 'ignore' }).status === 0;
/** Outside CI a missing redis-server skips the Redis tests, loudly; in CI it must be there (.ci/run installs it). */
export const skipRedis = !redisInstalled && !inCi;
if (skipRedis) process.stdout.write('skipped: redis-server not installed (apt-get install -y redis-server)\n');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface TestRedisOptions {
  /** AOF fsync policy (default `always`); `everysec` is Redis' own default, for measuring what it gives up. */
  readonly appendfsync?: 'always' | 'everysec';
}

export async function startTestRedis({ appendfsync = 'always' }: TestRedisOptions = {}): Promise<TestRedis> {
  if (!redisInstalled) throw new Error(`${REDIS_SERVER} is not installed: CI must install it (apt-get install -y redis-server)`);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gateway-test-redis-'));
  let child: ChildProcess | undefined;
  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    child = spawn(
      REDIS_SERVER,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', appendfsync, '--dir', dir],
      { stdio: 'ignore' },
    );
    const until = Date.now() + 10_000;
    for (;;) {
      const ping = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
      if (ping.stdout?.trim() === 'PONG') return;
      if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}) on port ${port}`);
      if (Date.now() > until) throw new Error(`redis-server did not answer on port ${port}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const stop = async () => {
    const current = child;
    if (!current || current.exitCode !== null) return;
    const exited = new Promise((resolve) => current.once('exit', resolve));
    current.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    stop,
    start,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
