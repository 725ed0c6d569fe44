import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProgrammableUpstream, startProgrammableUpstream } from './support/programmable-upstream.ts';
import { TEST_PX_KEY } from './support/secrets.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

const event = (n: number) => ({ eventName: 'Signup', identifyId: `u-${n}`, propertyKey: 'AP-TEST-1' });

let gateway: TestGateway;
let upstream: ProgrammableUpstream;
beforeAll(async () => {
  upstream = await startProgrammableUpstream();
  gateway = await startTestGateway({ GAINSIGHT_API_KEY: TEST_PX_KEY, GAINSIGHT_PX_BASE_URL: `${upstream.url}/v1` });
});
afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

/**
 * Sends `chunks` as a batch body and never ends it: an answer can only come from a gateway that stops reading at
 * a limit. A gateway that reads to the end first never answers (the test times out).
 */
function sendUnended(contentType: string, chunks: readonly (string | Buffer)[]): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${gateway.restUrl}/v1/custom-events/batch`, {
      method: 'POST',
      headers: { 'content-type': contentType, 'transfer-encoding': 'chunked' },
    });
    request.on('error', () => undefined);
    request.on('response', (response) => {
      const parts: Buffer[] = [];
      response.on('data', (chunk: Buffer) => parts.push(chunk));
      response.on('end', () => {
        request.destroy();
        resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString('utf8')) });
      });
      response.on('error', reject);
    });
    for (const chunk of chunks) request.write(chunk);
  });
}

describe('batch bodies are read only as far as their limits', () => {
  it('NDJSON: the line after the 1000th item ends the reading with 400, before the body ends', { timeout: 15_000 }, async () => {
    const lines = Array.from({ length: 1001 }, (_, n) => `${JSON.stringify(event(n))}\n`);
    const { status, body } = await sendUnended('application/x-ndjson', [lines.join('')]);
    expect(status).toBe(400);
    expect(body.detail).toContain('more than 1000 items');
    expect(upstream.received).toHaveLength(0);
  });

  it('JSON: the element after the 1000th ends the reading with 400, before the body ends', { timeout: 15_000 }, async () => {
    const items = Array.from({ length: 1001 }, (_, n) => JSON.stringify(event(n)));
    const { status, body } = await sendUnended('application/json', [`{"events": [${items.join(',')},`]);
    expect(status).toBe(400);
    expect(body.errors).toEqual([{ pointer: '/events', detail: expect.stringContaining('more than 1000 items') }]);
  });

  it('an item over the per-item byte limit ends the reading with 413, in NDJSON and in JSON', { timeout: 15_000 }, async () => {
    const long = `{"eventName":"${'x'.repeat(70 * 1024)}`;
    const ndjson = await sendUnended('application/x-ndjson', [`${JSON.stringify(event(1))}\n`, long]);
    expect(ndjson.status).toBe(413);
    expect(ndjson.body.errors).toEqual([{ pointer: '/1', detail: expect.stringContaining('Item 1 is larger than the 65536 bytes') }]);
    const json = await sendUnended('application/json', [`{"events":[${JSON.stringify(event(1))},`, long]);
    expect(json.status).toBe(413);
    expect(json.body.errors[0].pointer).toBe('/events/1');
  });

  it('a 1 KB gzip of 524,000 one-character lines is a 400 naming the item limit, and the gateway stays responsive', async () => {
    const bomb = gzipSync('x\n'.repeat(524_000), { level: 9 });
    expect(bomb.length).toBeLessThan(2048);
    const response = await fetch(`${gateway.restUrl}/v1/custom-events/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
      body: bomb,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toBe(
      'The batch has more than 1000 items; at most 1000 are accepted at once.',
    );
    expect((await fetch(`${gateway.restUrl}/healthz`)).status).toBe(200);
  });

  it('gzip JSON and NDJSON batches within the limits are accepted', async () => {
    const json = await fetch(`${gateway.restUrl}/v1/custom-events/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify({ events: [event(1), event(2)] })),
    });
    expect(json.status).toBe(202);
    expect(await json.json()).toMatchObject({ accepted: 2, rejected: 0 });
    const ndjson = await fetch(`${gateway.restUrl}/v1/custom-events/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
      body: gzipSync(`${JSON.stringify(event(3))}\r\n\n${JSON.stringify(event(4))}`),
    });
    expect(ndjson.status).toBe(202);
    expect(await ndjson.json()).toMatchObject({ accepted: 2, rejected: 0 });
  });
});

describe('batch items are read exactly', () => {
  it('structural characters inside strings, escapes and multi-byte text split across chunks', { timeout: 15_000 }, async () => {
    const tricky = [
      { eventName: 'a,]}"[{\\', identifyId: 'u-ß', propertyKey: 'AP-TEST-1' },
      { eventName: 'Ünïcode ✓ 😀', identifyId: 'u-2', propertyKey: 'AP-TEST-1', attributes: { nested: [1, { deep: ']' }] } },
    ];
    const body = Buffer.from(JSON.stringify({ events: tricky }));
    const response = await new Promise<{ status: number; body: any }>((resolve, reject) => {
      const request = httpRequest(`${gateway.restUrl}/v1/custom-events/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      });
      request.on('response', (answer) => {
        const parts: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => parts.push(chunk));
        answer.on('end', () => resolve({ status: answer.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString('utf8')) }));
      });
      request.on('error', reject);
      // Three bytes at a time: every string, escape and UTF-8 sequence is cut somewhere.
      for (let at = 0; at < body.length; at += 3) request.write(body.subarray(at, at + 3));
      request.end();
    });
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ accepted: 2, rejected: 0 });
    const until = Date.now() + 20_000;
    while (upstream.recorded.filter((r) => r.body.includes('u-ß') || r.body.includes('Ünïcode')).length < 2 && Date.now() < until)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const names = upstream.recorded.map((r) => JSON.parse(r.body).eventName as string);
    expect(names).toEqual(expect.arrayContaining(['a,]}"[{\\', 'Ünïcode ✓ 😀']));
  });
});

describe('batch answers stay bounded', () => {
  it('1 valid and 999 empty lines: the answer lists 20 problems in all and counts the rest', async () => {
    const body = [JSON.stringify(event(1)), ...Array.from({ length: 999 }, () => '{}')].join('\n');
    const response = await fetch(`${gateway.restUrl}/v1/custom-events/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body,
    });
    expect(response.status).toBe(202);
    const text = await response.text();
    expect(text.length).toBeLessThan(6 * 1024);
    const answer = JSON.parse(text);
    expect(answer).toMatchObject({ accepted: 1, rejected: 999 });
    expect(answer.results[0]).toEqual({ index: 0, id: expect.any(String) });
    const listed = answer.results.flatMap((result: { errors?: unknown[] }) => result.errors ?? []);
    expect(listed).toHaveLength(20);
    expect(answer.omittedErrors).toBeGreaterThan(0);
  });
});
