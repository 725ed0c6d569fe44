import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type ProgrammableUpstream, startProgrammableUpstream } from './support/programmable-upstream.ts';
import { TEST_PX_KEY } from './support/secrets.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

const EVENT = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' };
const PROTOCOL = '2025-11-25';

let gateway: TestGateway | undefined;
let upstream: ProgrammableUpstream | undefined;
afterEach(async () => {
  await gateway?.close();
  await upstream?.close();
  gateway = undefined;
  upstream = undefined;
});

/** A POST whose answer headers are read raw: each header line as sent, repeated ones not folded together. */
function postRaw(url: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; rawHeaders: string[] }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, rawHeaders: response.rawHeaders }));
    });
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}

const linesOf = (rawHeaders: string[], name: string) =>
  rawHeaders.filter((_, index) => index % 2 === 0 && rawHeaders[index]?.toLowerCase() === name);

describe('one RateLimit pair per HTTP answer', () => {
  it('a JSON-RPC batch of 100 messages answers one RateLimit and one RateLimit-Policy line, counting all 100', async () => {
    upstream = await startProgrammableUpstream();
    gateway = await startTestGateway({
      GAINSIGHT_API_KEY: TEST_PX_KEY,
      GAINSIGHT_PX_BASE_URL: `${upstream.url}/v1`,
      INBOUND_RATE_LIMIT: '1000',
    });
    const batch = Array.from({ length: 100 }, (_, index) => ({ jsonrpc: '2.0', id: index + 1, method: 'tools/list' }));
    const { status, rawHeaders } = await postRaw(gateway.mcpUrl, batch, {
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': PROTOCOL,
    });
    expect(status).toBe(200);
    expect(linesOf(rawHeaders, 'ratelimit')).toHaveLength(1);
    expect(linesOf(rawHeaders, 'ratelimit-policy')).toHaveLength(1);
    const value = rawHeaders[rawHeaders.findIndex((header) => header.toLowerCase() === 'ratelimit') + 1];
    expect(value).toMatch(/r=900\b/);
  });
});

describe('too-many-pending says what happened', () => {
  it('the 429 for one event says it was not queued', async () => {
    upstream = await startProgrammableUpstream(() => ({ status: 503 }));
    gateway = await startTestGateway({
      GAINSIGHT_API_KEY: TEST_PX_KEY,
      GAINSIGHT_PX_BASE_URL: `${upstream.url}/v1`,
      DELIVERY_MAX_QUEUED_PER_CLIENT: '1',
      DELIVERY_RETRY_BASE_MS: '60000',
    });
    const send = () =>
      fetch(`${gateway?.restUrl}/v1/custom-events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', prefer: 'respond-async' },
        body: JSON.stringify(EVENT),
      });
    expect((await send()).status).toBe(202);
    const refused = await send();
    expect(refused.status).toBe(429);
    const { detail } = (await refused.json()) as { detail: string };
    expect(detail).toContain('the event was not queued');
    expect(detail).not.toMatch(/the event was queued/);
  });
});
