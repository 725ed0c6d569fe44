import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../src/config.ts';
import { recordPrinted, TEST_PX_KEY } from './support/secrets.ts';
import { startTestGateway } from './support/test-gateway.ts';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** Runs the built gateway (what `npm start` runs) until `until` matches its output or it exits. */
function runGateway(environment: Record<string, string>, until?: RegExp): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', PORT: '0', MCP_PORT: '0', ...environment },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let signalled = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (!signalled && until?.test(output)) {
        signalled = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      recordPrinted(output);
      resolve({ code, output });
    });
  });
}

describe('start-up', () => {
  it('has a built entry point (npm test builds it first)', () => {
    expect(existsSync(MAIN)).toBe(true);
  });

  it('without a key outside production, starts on the sandbox with a loud banner and stops cleanly on SIGTERM', async () => {
    const { code, output } = await runGateway({}, /See what the sandbox received/);
    expect(output).toContain('SANDBOX MODE');
    expect(output).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/sandbox\/v1\/events\/custom/);
    expect(code).toBe(0);
  });

  it('in production without GAINSIGHT_API_KEY, exits non-zero naming the variable', async () => {
    const { code, output } = await runGateway({ NODE_ENV: 'production' });
    expect(code).not.toBe(0);
    expect(output).toContain('GAINSIGHT_API_KEY');
    expect(output).not.toContain('SANDBOX MODE');
  });

  it('rejects a bad region, naming the variable', async () => {
    const { code, output } = await runGateway({ GAINSIGHT_PX_REGION: 'mars' });
    expect(code).toBe(1);
    expect(output).toContain('GAINSIGHT_PX_REGION must be one of us, eu, us2');
  });

  it('reads PORT, HOST and UPSTREAM_TIMEOUT_MS with defaults, naming a bad variable', () => {
    expect(readConfig({})).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      mcpPort: 9090,
      upstreamTimeoutMs: 10_000,
      plugins: ['gainsight-px'],
    });
    expect(() => readConfig({ PORT: 'eighty' })).toThrow(/PORT must be an integer/);
    expect(() => readConfig({ UPSTREAM_TIMEOUT_MS: '0' })).toThrow(/UPSTREAM_TIMEOUT_MS/);
  });

  it('live mode uses the region base URL when GAINSIGHT_PX_BASE_URL is not set', async () => {
    const gateway = await startTestGateway({ GAINSIGHT_API_KEY: 'k', GAINSIGHT_PX_REGION: 'eu' });
    try {
      expect(gateway.plugins[0]?.mode).toBe('live');
      expect(gateway.plugins[0]?.baseUrl).toBe('https://api-eu.aptrinsic.com/v1');
    } finally {
      await gateway.close();
    }
  });

  it('rejects an unknown plugin name, listing the built-in ones', async () => {
    await expect(startTestGateway({ PLUGINS: 'no-such-plugin' })).rejects.toThrow(
      /PLUGINS: cannot load "no-such-plugin" \(built-in plugins: gainsight-px\)/,
    );
  });
});

describe('SIGTERM on the running process', () => {
  it('lets a slow in-flight request complete with 201, then exits 0', async () => {
    const { startCaptureServer } = await import('./support/capture-server.ts');
    const upstream = await startCaptureServer({ status: 201, delayMs: 800 });
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        PORT: '0',
        MCP_PORT: '0',
        GAINSIGHT_API_KEY: TEST_PX_KEY,
        GAINSIGHT_PX_BASE_URL: `${upstream.url}/v1`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      const restUrl = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          const match = /Gateway REST API: (http:\/\/\S+)/.exec(output);
          if (match?.[1]) resolve(match[1]);
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('exit', () => reject(new Error(`gateway exited early: ${output}`)));
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const inFlight = fetch(`${restUrl}/v1/custom-events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ eventName: 'Drain', identifyId: 'u-9', propertyKey: 'AP-TEST-1' }),
      });
      while (upstream.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      child.kill('SIGTERM');
      expect((await inFlight).status).toBe(201);
      expect(await exited).toBe(0);
      expect(upstream.requests).toHaveLength(1);
      recordPrinted(output);
    } finally {
      child.kill('SIGKILL');
      await upstream.close();
    }
  });
});
