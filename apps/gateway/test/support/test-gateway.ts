import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { PRINTED_DIR } from './secrets.ts';
import type { Environment, PluginDescriptor } from '@gateway/core';
import { type RunningGateway, startGateway } from '../../src/gateway.ts';

export interface TestGateway extends RunningGateway {
  /** Every JSON log line the gateway wrote. */
  readonly logs: string[];
}

/** A real gateway on ephemeral loopback ports, its logs captured in memory. */
export async function startTestGateway(
  environment: Environment = {},
  extraPlugins: readonly PluginDescriptor[] = [],
): Promise<TestGateway> {
  const logs: string[] = [];
  mkdirSync(PRINTED_DIR, { recursive: true });
  const printed = `${PRINTED_DIR}/${process.pid}.log`;
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString('utf8');
      logs.push(...text.split('\n').filter(Boolean));
      appendFileSync(printed, text);
      done();
    },
  });
  // Each gateway gets its own delivery queue unless the test hands one over (e.g. to restart on the same file).
  const dataDir = environment.DATA_DIR === undefined ? mkdtempSync(join(tmpdir(), 'gateway-test-data-')) : undefined;
  const gateway = await startGateway({
    environment: {
      PORT: '0',
      MCP_PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'debug',
      ...(dataDir ? { DATA_DIR: dataDir } : {}),
      ...environment,
    },
    logDestination: destination,
    extraPlugins,
  });
  return {
    ...gateway,
    logs,
    close: async () => {
      await gateway.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Live mode against a loopback upstream with a known key. */
export function liveEnvironment(upstreamUrl: string, extra: Environment = {}): Environment {
  return { GAINSIGHT_API_KEY: TEST_PX_KEY, GAINSIGHT_PX_BASE_URL: `${upstreamUrl}/v1`, ...extra };
}

export { TEST_CLIENT_KEY, TEST_OTHER_CLIENT_KEY, TEST_PX_KEY } from './secrets.ts';
import { TEST_PX_KEY } from './secrets.ts';

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
