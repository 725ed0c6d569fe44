import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, startTestGateway, type TestGateway } from './support/test-gateway.ts';

describe('REST in sandbox mode (no GAINSIGHT_API_KEY)', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({});
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('runs the PX plugin against the embedded sandbox and says so in the log', () => {
    expect(gateway.plugins.map((p) => [p.descriptor.id, p.mode])).toEqual([['gainsight-px', 'sandbox']]);
    expect(gateway.logs.some((line) => line.includes('GAINSIGHT_API_KEY not set') && line.includes('sandbox'))).toBe(true);
  });

  it('accepts the README curl event with 201 and lists it at /sandbox/v1/events/custom', async () => {
    const response = await postJson(`${gateway.restUrl}/v1/custom-events`, {
      eventName: 'Signup',
      identifyId: 'u-1',
      propertyKey: 'AP-TEST-1',
    });
    expect(response.status).toBe(201);
    const read = await fetch(`${gateway.restUrl}/sandbox/v1/events/custom?filter=identifyId==u-1`);
    expect(read.status).toBe(200);
    const page = (await read.json()) as { customEvents: Record<string, unknown>[]; totalHits: number };
    expect(page.totalHits).toBe(1);
    expect(page.customEvents[0]).toMatchObject({ eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1', userType: 'USER' });
    expect(typeof page.customEvents[0]?.date).toBe('number');
  });

  it('keeps the sandbox read-only on the REST port', async () => {
    const response = await fetch(`${gateway.restUrl}/sandbox/v1/events/custom`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });

  it('passes PX-side validation errors through as 400 with the sandbox message', async () => {
    // The gateway schema accepts this, but the sandbox (like PX) wants a non-empty propertyKey after shaping:
    // use a valid event and check that an upstream 400 is reported with its message by scripting the sandbox.
    const sandbox = gateway.plugins[0]?.sandbox as unknown as { script: (...f: unknown[]) => void };
    sandbox.script({
      status: 400,
      body: JSON.stringify({
        externalapierror: { status: 'BAD_REQUEST', message: 'Validation error', subErrors: [{ field: 'eventName', message: 'too odd' }] },
      }),
    });
    const response = await postJson(`${gateway.restUrl}/v1/custom-events`, { eventName: 'x', identifyId: 'u-2', propertyKey: 'AP-TEST-1' });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { detail: string };
    expect(problem.detail).toContain('Gainsight PX (sandbox) answered 400: Validation error: eventName too odd');
  });
});
