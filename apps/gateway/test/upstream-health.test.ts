import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { recordedEvents, sendBatches, waitUntil } from './support/delivery-load.ts';
import { type ProgrammableUpstream, startProgrammableUpstream } from './support/programmable-upstream.ts';
import { liveEnvironment, postJson, startTestGateway, type TestGateway } from './support/test-gateway.ts';

/** An upstream stand-in that, while down, cuts every connection as it opens (counting them), and answers 201 when up. */
interface DeadUpstream {
  readonly url: string;
  /** Connections opened to it so far (each one a connection attempt of the gateway's). */
  readonly connections: () => number;
  /** Distinct event numbers it accepted while up. */
  readonly accepted: Set<number>;
  up(): void;
  close(): Promise<void>;
}

async function startDeadUpstream(): Promise<DeadUpstream> {
  let down = true;
  let connections = 0;
  const accepted = new Set<number>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const n = (JSON.parse(body) as { attributes?: { n?: number } }).attributes?.n;
      if (n !== undefined) accepted.add(Number(n));
      response.writeHead(201).end();
    });
  });
  server.on('connection', (socket) => {
    connections += 1;
    if (down) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    accepted,
    up: () => {
      down = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const EVENT = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' };

let gateway: TestGateway | undefined;
let dead: DeadUpstream | undefined;
let upstream: ProgrammableUpstream | undefined;
afterEach(async () => {
  await gateway?.close();
  await dead?.close();
  await upstream?.close();
  gateway = dead = upstream = undefined;
});

describe('one health view per upstream (circuit breaker)', () => {
  it('a dead PX gets about one probe a second, sync callers get 503 upstream-unavailable at once, and the queue drains when it answers', {
    timeout: 90_000,
  }, async () => {
    dead = await startDeadUpstream();
    // Delivery retries capped at 2 s: without a breaker, 200 queued deliveries would each try every 2 s at most.
    gateway = await startTestGateway(
      liveEnvironment(dead.url, { INBOUND_RATE_LIMIT: '0', LOG_LEVEL: 'warn', DELIVERY_RETRY_MAX_MS: '2000', UPSTREAM_RETRY_BASE_MS: '5' }),
    );
    await sendBatches(gateway.restUrl, 200, 100);
    const restUrl = gateway.restUrl;
    // The first attempts fail within moments (UPSTREAM_BREAKER_FAILURES in a row open the breaker).
    await sleep(3000);
    // A 12-second window: connection attempts counted by the upstream, while sync callers keep trying.
    const before = dead.connections();
    const answers: { status: number; type: string; retryAfter: string | null }[] = [];
    for (let i = 0; i < 24; i += 1) {
      const response = await postJson(`${restUrl}/v1/custom-events`, EVENT);
      const body = (await response.json()) as { type: string };
      answers.push({ status: response.status, type: body.type, retryAfter: response.headers.get('retry-after') });
      await sleep(500);
    }
    const attempts = dead.connections() - before;
    // Probes back off from 1 s to UPSTREAM_BREAKER_MAX_MS (10 s): at most one a second, whoever sends it.
    expect(attempts).toBeLessThanOrEqual(15);
    expect(answers.map((a) => a.status)).toEqual(Array(24).fill(503));
    expect(new Set(answers.map((a) => a.type))).toEqual(new Set(['urn:gateway:problem:upstream-unavailable']));
    for (const { retryAfter } of answers) expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(await (await fetch(`${restUrl}/metrics`)).text()).toContain('gateway_upstream_unavailable{plugin="gainsight-px"} 1');
    const document = (await (await fetch(`${restUrl}/openapi.json`)).json()) as {
      paths: Record<string, { post: { responses: Record<string, { description: string }> } }>;
    };
    expect(document.paths['/v1/custom-events']?.post.responses['503']?.description).toContain('upstream-unavailable');
    const ready = (await (await fetch(`${restUrl}/readyz`)).json()) as { deliveryPaused?: string[] };
    expect(ready.deliveryPaused).toEqual(['gainsight-px']);

    dead.up();
    const current = dead;
    await waitUntil(() => current.accepted.size === 200, 'all 200 queued events delivered once PX answers', 45_000);
    expect((await postJson(`${restUrl}/v1/custom-events`, EVENT)).status).toBe(201);
    const deadLettered = (await (await fetch(`${restUrl}/v1/deliveries?status=dead&limit=1000`)).json()) as { items: unknown[] };
    expect(deadLettered.items).toEqual([]);
    expect(await (await fetch(`${restUrl}/metrics`)).text()).toContain('gateway_upstream_unavailable{plugin="gainsight-px"} 0');
  });

  it('after a 401 window, deliveries resume within about a second of PX accepting the key again', { timeout: 90_000 }, async () => {
    let firstRefusalAt: number | undefined;
    let acceptedFrom: number | undefined;
    upstream = await startProgrammableUpstream(() => {
      if (acceptedFrom !== undefined) return { status: 201 };
      firstRefusalAt ??= Date.now();
      // PX starts accepting the key right after a refused probe 15 s into the window: a probe backing off
      // exponentially (1, 2, 4, 8 s, …) would next come 8 s or more later.
      if (Date.now() - firstRefusalAt > 15_000) acceptedFrom = Date.now();
      return { status: 401, body: JSON.stringify({ externalapierror: { status: 'UNAUTHORIZED', message: 'Missing or invalid API key' } }) };
    });
    gateway = await startTestGateway(liveEnvironment(upstream.url, { INBOUND_RATE_LIMIT: '0', LOG_LEVEL: 'warn' }));
    await sendBatches(gateway.restUrl, 50, 50);
    await waitUntil(() => acceptedFrom !== undefined, 'PX to accept the key again', 40_000);
    // Counted over the 4 s after PX accepts the key again: the deliveries PX recorded.
    await sleep(4000);
    const current = upstream;
    expect(recordedEvents(current).distinct.size).toBeGreaterThan(0);
    await waitUntil(() => recordedEvents(current).distinct.size === 50, 'all 50 delivered', 30_000);
  });
});
