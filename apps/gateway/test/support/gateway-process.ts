import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { recordPrinted } from './secrets.ts';

/** The built gateway (`apps/gateway/dist/main.js`, what `npm start` runs), started as a real process. */
export const GATEWAY_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly restUrl: string;
  readonly mcpUrl: string;
  /** Everything it printed so far. */
  output(): string;
  /** SIGKILL: no drain, no cleanup (a crash). */
  kill(): Promise<void>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<number | null>;
}

/** Starts the gateway with `environment` (plus free ports, loopback, info logs) and resolves once it listens. */
export function startGatewayProcess(environment: Record<string, string>): Promise<GatewayProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [GATEWAY_MAIN], {
      env: { PATH: process.env.PATH ?? '', PORT: '0', MCP_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...environment },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let printed = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not listen within 20 s: ${printed.slice(-800)}`));
    }, 20_000);
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      recordPrinted(text);
      printed += text;
      const rest = /"url":"(http:\/\/[^"]+)","plugins".*"msg":"gateway listening"/.exec(printed)?.[1];
      const mcp = /"url":"(http:\/\/[^"]+\/mcp)"/.exec(printed)?.[1];
      if (rest && mcp) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.on('data', (more: Buffer) => {
          recordPrinted(more.toString());
          printed += more.toString();
        });
        resolve({
          child,
          restUrl: rest,
          mcpUrl: mcp,
          output: () => printed,
          kill: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
            await exited;
          },
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            return exited;
          },
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      recordPrinted(chunk.toString());
      printed += chunk.toString();
    });
    child.on('error', reject);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}) before listening: ${printed.slice(-800)}`));
    });
  });
}
