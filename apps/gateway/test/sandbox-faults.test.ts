import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

// `npm start` without a PX key runs the embedded sandbox: its SANDBOX_* fault variables apply there too, so a
// newcomer can watch a retry and a dead letter without starting a second process.
const event = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' };
const ASYNC = { 'content-type': 'application/json', prefer: 'respond-async' };

let gateway: TestGateway | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

async function queueOne(environment: Record<string, string>): Promise<{ gateway: TestGateway; id: string }> {
  gateway = await startTestGateway({ DELIVERY_RETRY_BASE_MS: '50', DELIVERY_RETRY_MAX_MS: '100', ...environment });
  const response = await fetch(`${gateway.restUrl}/v1/custom-events`, { method: 'POST', headers: ASYNC, body: JSON.stringify(event) });
  expect(response.status).toBe(202);
  const { id } = (await response.json()) as { id: string };
  return { gateway, id };
}

async function deliveryUntil(gateway: TestGateway, id: string, done: (delivery: any) => boolean): Promise<any> {
  const until = Date.now() + 20_000;
  for (;;) {
    const delivery = await (await fetch(`${gateway.restUrl}/v1/deliveries/${id}`)).json();
    if (done(delivery)) return delivery;
    if (Date.now() > until) throw new Error(`delivery did not reach the expected state: ${JSON.stringify(delivery)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sandboxHits = async (gateway: TestGateway): Promise<number> =>
  ((await (await fetch(`${gateway.restUrl}/sandbox/v1/events/custom`)).json()) as { totalHits: number }).totalHits;

describe('the embedded sandbox honours its fault variables', () => {
  it('SANDBOX_FAULT_RATE=1 with SANDBOX_FAULT_STATUSES=400: a queued event becomes a dead letter with the 400', async () => {
    const { gateway, id } = await queueOne({ SANDBOX_FAULT_RATE: '1', SANDBOX_FAULT_STATUSES: '400' });
    const dead = await deliveryUntil(gateway, id, (d) => d.status === 'dead');
    expect(dead).toMatchObject({ status: 'dead', attempts: 1, lastError: { status: 400 } });
    expect(await sandboxHits(gateway)).toBe(0);
    expect(gateway.logs.some((line) => line.includes('injected faults: 100% of events answered 400'))).toBe(true);
  });

  it('SANDBOX_FAULT_RATE=1 with 503: the event is retried, never recorded', async () => {
    const { gateway, id } = await queueOne({ SANDBOX_FAULT_RATE: '1', SANDBOX_FAULT_STATUSES: '503' });
    const retried = await deliveryUntil(gateway, id, (d) => d.attempts >= 2);
    expect(retried.status).not.toBe('delivered');
    expect(retried.lastError).toMatchObject({ status: 503 });
    expect(await sandboxHits(gateway)).toBe(0);
  });

  it('SANDBOX_DROP_RATE=1 (the upstream is down): a synchronous call answers a gateway error and nothing is recorded', async () => {
    gateway = await startTestGateway({ SANDBOX_DROP_RATE: '1', UPSTREAM_RETRIES: '0' });
    const response = await fetch(`${gateway.restUrl}/v1/custom-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    expect(response.status).toBe(502);
    expect(await sandboxHits(gateway)).toBe(0);
  });

  it('SANDBOX_DELAY_MS: the event is still recorded (slow, not failing)', async () => {
    const { gateway, id } = await queueOne({ SANDBOX_DELAY_MS: '300' });
    await deliveryUntil(gateway, id, (d) => d.status === 'delivered');
    expect(await sandboxHits(gateway)).toBe(1);
  });

  it('a bad fault value stops the start with an error naming the variable', async () => {
    await expect(startTestGateway({ SANDBOX_FAULT_RATE: '2' })).rejects.toThrow(
      'SANDBOX_FAULT_RATE must be a number from 0 to 1 (got "2")',
    );
    await expect(startTestGateway({ SANDBOX_FAULT_STATUSES: '200' })).rejects.toThrow('SANDBOX_FAULT_STATUSES');
  });
});
