import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostmanCollection, PostmanItem } from '../src/openapi/postman-collection.ts';
import { TEST_CLIENT_KEY } from './support/secrets.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

const requests = (collection: PostmanCollection): PostmanItem[] => collection.item.flatMap((folder) => folder.item);
const byName = (collection: PostmanCollection, name: string) => requests(collection).find((r) => r.name === name) as PostmanItem;

/** GET /postman.json: the collection people import or hand to newman (the newman run itself is in `npm run test:clients`). */
describe('GET /postman.json', () => {
  let gateway: TestGateway;
  let collection: PostmanCollection;

  beforeAll(async () => {
    gateway = await startTestGateway({ UPSTREAM_RETRIES: '0' });
    const response = await fetch(`${gateway.restUrl}/postman.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    collection = (await response.json()) as PostmanCollection;
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('is a v2.1 collection with baseUrl (this gateway) and inboundKey variables, one request per documented operation', async () => {
    expect(collection.info.schema).toBe('https://schema.getpostman.com/json/collection/v2.1.0/collection.json');
    expect(collection.variable).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'baseUrl', value: gateway.restUrl }),
        expect.objectContaining({ key: 'inboundKey', value: '' }),
      ]),
    );
    const document = (await (await fetch(`${gateway.restUrl}/openapi.json`)).json()) as { paths: Record<string, object> };
    const operations = Object.values(document.paths).flatMap((item) => Object.keys(item).filter((k) => k !== 'parameters'));
    expect(requests(collection)).toHaveLength(operations.length);
  });

  it('every request has tests: a documented status, and problem+json on errors', () => {
    for (const request of requests(collection)) {
      const script = request.event.find((e) => e.listen === 'test')?.script.exec.join('\n') ?? '';
      expect(script, request.name).toContain("pm.test('answers a documented status");
      expect(script, request.name).toContain('application/problem+json');
    }
  });

  it('"Send a custom event": a fresh {{$guid}} Idempotency-Key, no Prefer, and a body the gateway records (twice, twice recorded)', async () => {
    const send = byName(collection, 'Send a custom event');
    const enabled = send.request.header.filter((h) => !h.disabled);
    expect(enabled).toContainEqual(expect.objectContaining({ key: 'Idempotency-Key', value: '{{$guid}}' }));
    expect(enabled.map((h) => h.key)).not.toContain('Prefer');
    const body = JSON.parse(send.request.body?.raw ?? '');
    expect(body).not.toHaveProperty('date');
    const count = async () =>
      ((await (await fetch(`${gateway.restUrl}/sandbox/v1/events/custom?pageSize=1`)).json()) as { totalHits: number }).totalHits;
    const before = await count();
    for (const _ of [1, 2]) {
      const headers = Object.fromEntries(enabled.map((h) => [h.key, h.value === '{{$guid}}' ? randomUUID() : h.value]));
      const url = send.request.url.raw.replace('{{baseUrl}}', gateway.restUrl);
      const answer = await fetch(url, { method: send.request.method, headers, body: send.request.body?.raw });
      expect(answer.status).toBe(201);
      expect(answer.headers.get('idempotent-replayed')).toBeNull();
    }
    expect(await count()).toBe(before + 2);
  });

  it('/docs links it: Swagger UI in Chromium shows a link whose target is the collection', { timeout: 60_000 }, async () => {
    const document = (await (await fetch(`${gateway.restUrl}/openapi.json`)).json()) as { info: { description: string } };
    expect(document.info.description).toContain('[/postman.json](/postman.json)');
    const inCi = ['true', '1'].includes((process.env.CI ?? '').toLowerCase());
    if (!existsSync('/usr/bin/chromium') && !inCi) return;
    const profile = mkdtempSync(join(tmpdir(), 'gateway-postman-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      await page.goto(`${gateway.restUrl}/docs/`);
      const link = page.locator('.info a[href="/postman.json"]');
      await link.waitFor({ state: 'visible' });
      const href = await link.evaluate((a) => (a as unknown as { href: string }).href);
      expect(href).toBe(`${gateway.restUrl}/postman.json`);
      const answer = await page.request.get(href);
      expect(((await answer.json()) as PostmanCollection).info.schema).toContain('collection/v2.1.0');
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });

  it('with GATEWAY_API_KEYS: the collection authenticates with X-API-Key {{inboundKey}} and never holds a key', async () => {
    const secured = await startTestGateway({ GATEWAY_API_KEYS: TEST_CLIENT_KEY });
    try {
      const text = await (await fetch(`${secured.restUrl}/postman.json`)).text();
      expect(text).not.toContain(TEST_CLIENT_KEY);
      expect((JSON.parse(text) as PostmanCollection).auth).toEqual({
        type: 'apikey',
        apikey: [
          { key: 'key', value: 'X-API-Key', type: 'string' },
          { key: 'value', value: '{{inboundKey}}', type: 'string' },
          { key: 'in', value: 'header', type: 'string' },
        ],
      });
    } finally {
      await secured.close();
    }
  });
});
