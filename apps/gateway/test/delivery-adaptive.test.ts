import { afterEach, describe, expect, it } from 'vitest';
import { sendBatches, waitUntil } from './support/delivery-load.ts';
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';
import { liveEnvironment, startTestGateway, type TestGateway } from './support/test-gateway.ts';

let gateway: TestGateway | undefined;
let upstream: CaptureServer | undefined;
afterEach(async () => {
  await gateway?.close();
  await upstream?.close();
  gateway = upstream = undefined;
});

const delivered = async (restUrl: string) =>
  Number(
    (await (await fetch(`${restUrl}/metrics`)).text()).match(
      /^gateway_deliveries_total\{plugin="gainsight-px",outcome="delivered"\} (\d+)$/m,
    )?.[1] ?? 0,
  );

describe('delivery concurrency that follows the upstream', () => {
  it('150 events against a PX answering in 2–5 s: in flight grows well past DELIVERY_CONCURRENCY and all arrive within 30 s', {
    timeout: 60_000,
  }, async () => {
    upstream = await startCaptureServer({ status: 201, delayMs: [2000, 5000] });
    gateway = await startTestGateway(liveEnvironment(upstream.url, { INBOUND_RATE_LIMIT: '0', LOG_LEVEL: 'warn' }));
    await sendBatches(gateway.restUrl, 150, 150);
    const restUrl = gateway.restUrl;
    // 8 in flight at 3.5 s each would take over a minute; the budget (150/s) times the latency allows them all at once.
    await waitUntil(async () => (await delivered(restUrl)) === 150, 'all 150 delivered', 30_000);
    expect(upstream.maxConcurrent()).toBeGreaterThanOrEqual(40);
    const numbers = upstream.requests.map((r) => (JSON.parse(r.body) as { attributes: { n: number } }).attributes.n);
    expect(new Set(numbers).size).toBe(150);
    expect(numbers).toHaveLength(150);
    expect(await (await fetch(`${restUrl}/metrics`)).text()).toMatch(/^gateway_delivery_concurrency (\d+)$/m);
  });

  it('PX answering 429 to the first 40 attempts: in flight shrinks instead of growing, and the backlog drains with none dead', {
    timeout: 60_000,
  }, async () => {
    upstream = await startCaptureServer({ status: 201, delayMs: [200, 400] });
    // The first 40 answers say "too many requests" (at once, no Retry-After): in flight shrinks instead of growing.
    upstream.reply(...Array.from({ length: 40 }, () => ({ status: 429 })));
    gateway = await startTestGateway(
      liveEnvironment(upstream.url, {
        INBOUND_RATE_LIMIT: '0',
        LOG_LEVEL: 'warn',
        DELIVERY_RETRY_BASE_MS: '100',
        DELIVERY_RETRY_MAX_MS: '500',
      }),
    );
    await sendBatches(gateway.restUrl, 100, 100);
    const restUrl = gateway.restUrl;
    await waitUntil(async () => (await delivered(restUrl)) === 100, 'all 100 delivered', 40_000);
    const deadLettered = (await (await fetch(`${restUrl}/v1/deliveries?status=dead&limit=1000`)).json()) as { items: unknown[] };
    expect(deadLettered.items).toEqual([]);
  });
});
