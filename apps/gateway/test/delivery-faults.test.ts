import { afterEach, describe, expect, it } from 'vitest';
import { recordedEvents, sendAsyncPaced, sendBatches, waitUntil } from './support/delivery-load.ts';
import { type ProgrammableUpstream, startProgrammableUpstream, type UpstreamReply } from './support/programmable-upstream.ts';
import { TEST_PX_KEY } from './support/secrets.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

/**
 * Durable delivery against an upstream that misbehaves, over real sockets and a real SQLite file. Retry backoff is
 * capped at 2 s (DELIVERY_RETRY_MAX_MS) so that recovery is observed within the test; everything else is default.
 */
let gateway: TestGateway | undefined;
let upstream: ProgrammableUpstream | undefined;
afterEach(async () => {
  await gateway?.close();
  await upstream?.close();
  gateway = undefined;
  upstream = undefined;
});

async function start(decide: (n: number) => UpstreamReply, environment: Record<string, string> = {}) {
  upstream = await startProgrammableUpstream((_request, n) => decide(n));
  gateway = await startTestGateway({
    GAINSIGHT_API_KEY: TEST_PX_KEY,
    GAINSIGHT_PX_BASE_URL: `${upstream.url}/v1`,
    INBOUND_RATE_LIMIT: '0',
    LOG_LEVEL: 'warn',
    DELIVERY_RETRY_MAX_MS: '2000',
    ...environment,
  });
  return { gateway, upstream };
}

const deadCount = async (restUrl: string) =>
  ((await (await fetch(`${restUrl}/v1/deliveries?status=dead&limit=1000`)).json()) as { items: unknown[] }).items.length;

describe('durable delivery under faults', () => {
  it('PX unreachable for 20 s while 1,000 events arrive: all 1,000 delivered after it returns, none lost', {
    timeout: 120_000,
  }, async () => {
    const { gateway, upstream } = await start(() => ({ status: 201 }));
    await upstream.suspend();
    const statuses = await sendAsyncPaced(gateway.restUrl, 1000, 50);
    expect(statuses.every((status) => status === 202)).toBe(true);
    expect(upstream.received).toHaveLength(0);
    await upstream.resume();
    await waitUntil(() => recordedEvents(upstream).distinct.size === 1000, 'all 1,000 events recorded', 60_000);
    expect(await deadCount(gateway.restUrl)).toBe(0);
  });

  it('5% of PX answers lost after recording: none lost, duplicates no more than the lost answers', { timeout: 120_000 }, async () => {
    const { gateway, upstream } = await start((n) => (n % 20 === 0 ? { recordThenDrop: true } : { status: 201 }), {
      UPSTREAM_RATE_LIMIT: '0',
    });
    await sendBatches(gateway.restUrl, 1000, 250);
    await waitUntil(() => recordedEvents(upstream).distinct.size === 1000, 'all 1,000 events recorded', 60_000);
    // Every delivery settles (the lost answers are retried) before duplicates are counted.
    await waitUntil(
      async () => ((await (await fetch(`${gateway.restUrl}/metrics`)).text()).match(/^gateway_delivery_queued (\d+)$/m)?.[1] ?? '') === '0',
      'queue empty',
      30_000,
    );
    const lostAnswers = upstream.received.filter((_, i) => (i + 1) % 20 === 0).length;
    const { duplicates } = recordedEvents(upstream);
    expect(lostAnswers).toBeGreaterThan(0);
    expect(duplicates).toBeLessThanOrEqual(lostAnswers);
    expect(await deadCount(gateway.restUrl)).toBe(0);
  });

  it('PX 401 for 30 s: nothing is dead, deliveries pause (readyz and metrics say so), probe gently, then resume by themselves', {
    timeout: 120_000,
  }, async () => {
    let refusing = true;
    const { gateway, upstream } = await start(() =>
      refusing
        ? { status: 401, body: JSON.stringify({ externalapierror: { status: 'UNAUTHORIZED', message: 'Missing or invalid API key' } }) }
        : { status: 201 },
    );
    await sendBatches(gateway.restUrl, 200, 100);
    await waitUntil(
      async () => (await (await fetch(`${gateway.restUrl}/metrics`)).text()).includes('gateway_delivery_paused{plugin="gainsight-px"} 1'),
      'the pause',
      10_000,
    );
    const ready = (await (await fetch(`${gateway.restUrl}/readyz`)).json()) as { deliveryPaused?: string[] };
    expect(ready.deliveryPaused).toEqual(['gainsight-px']);
    const refusedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 30_000 - (Date.now() - refusedAt)));
    expect(await deadCount(gateway.restUrl)).toBe(0);
    // While paused, one probe at a time, at most one a second (so that they resume within a second of PX accepting
    // the key), not a retry storm: the first deliveries in flight, then about 30 probes.
    expect(upstream.received.length).toBeLessThan(60);
    refusing = false;
    await waitUntil(() => recordedEvents(upstream).distinct.size === 200, 'all 200 delivered after the key is accepted again', 60_000);
    expect(await deadCount(gateway.restUrl)).toBe(0);
    expect(await (await fetch(`${gateway.restUrl}/metrics`)).text()).toContain('gateway_delivery_paused{plugin="gainsight-px"} 0');
  });

  it('an undated event delivered late keeps the time the gateway accepted it, not the time PX finally received it', {
    timeout: 60_000,
  }, async () => {
    const { gateway, upstream } = await start(() => ({ status: 201 }));
    await upstream.suspend();
    const event = (name: string, extra: Record<string, unknown> = {}) => ({
      eventName: name,
      identifyId: 'u-1',
      propertyKey: 'AP-TEST-1',
      ...extra,
    });
    const acceptedFrom = Date.now();
    const single = await fetch(`${gateway.restUrl}/v1/custom-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'respond-async' },
      body: JSON.stringify(event('undated-single')),
    });
    const batch = await fetch(`${gateway.restUrl}/v1/custom-events/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: [event('undated-batch'), event('dated-batch', { date: 1_700_000_000_000 })] }),
    });
    const acceptedUntil = Date.now();
    expect([single.status, batch.status]).toEqual([202, 202]);
    // PX comes back well after acceptance: its receipt time would be a different, later time.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await upstream.resume();
    await waitUntil(() => upstream.recorded.length >= 3, 'all three delivered', 30_000);
    const dates = Object.fromEntries(
      upstream.recorded
        .map((request) => JSON.parse(request.body) as { eventName: string; date?: number })
        .map((e) => [e.eventName, e.date]),
    );
    expect(dates['dated-batch']).toBe(1_700_000_000_000);
    for (const name of ['undated-single', 'undated-batch']) {
      expect(dates[name], name).toBeGreaterThanOrEqual(acceptedFrom);
      expect(dates[name], name).toBeLessThanOrEqual(acceptedUntil);
    }
  });

  it('a synchronous undated event is sent without a date (PX dates it on receipt, which is the acceptance)', async () => {
    const { gateway, upstream } = await start(() => ({ status: 201 }));
    const response = await fetch(`${gateway.restUrl}/v1/custom-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ eventName: 'undated-sync', identifyId: 'u-1', propertyKey: 'AP-TEST-1' }),
    });
    expect(response.status).toBe(201);
    expect(JSON.parse(upstream.received[0]?.body ?? '{}')).not.toHaveProperty('date');
  });
});
