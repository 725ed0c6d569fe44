import { afterEach, describe, expect, it } from 'vitest';
import { recordedEvents, sendAsyncPaced, waitUntil } from './support/delivery-load.ts';
import { type ProgrammableUpstream, startProgrammableUpstream } from './support/programmable-upstream.ts';
import { TEST_PX_KEY } from './support/secrets.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

let gateway: TestGateway | undefined;
let upstream: ProgrammableUpstream | undefined;
afterEach(async () => {
  await gateway?.close();
  await upstream?.close();
});

describe('durable delivery at the upstream pace', () => {
  it('400 events/s for 10 s against an upstream enforcing 200/s: none lost, no upstream 429 at the default UPSTREAM_RATE_LIMIT', {
    timeout: 120_000,
  }, async () => {
    // PX allows about 200 requests a second per key: a fixed one-second window, 429 beyond it.
    let window = { second: 0, count: 0 };
    let refused = 0;
    upstream = await startProgrammableUpstream(() => {
      const second = Math.floor(Date.now() / 1000);
      if (window.second !== second) window = { second, count: 0 };
      window.count += 1;
      if (window.count > 200) {
        refused += 1;
        return { status: 429 };
      }
      return { status: 201 };
    });
    gateway = await startTestGateway({
      GAINSIGHT_API_KEY: TEST_PX_KEY,
      GAINSIGHT_PX_BASE_URL: `${upstream.url}/v1`,
      INBOUND_RATE_LIMIT: '0',
      LOG_LEVEL: 'warn',
    });
    const statuses = await sendAsyncPaced(gateway.restUrl, 4000, 400);
    expect(statuses.filter((status) => status !== 202)).toEqual([]);
    const current = upstream;
    await waitUntil(() => recordedEvents(current).distinct.size === 4000, 'all 4,000 events recorded', 90_000);
    expect(refused).toBe(0);
    expect(recordedEvents(current).duplicates).toBe(0);
  });
});
