import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, TEST_CLIENT_KEY, type TestGateway } from './support/test-gateway.ts';

// A person's trial call in Swagger UI, in a real (Debian) Chromium: /docs, expand the operation, Try it out,
// Execute, see 201, and the event arrives in the sandbox. Outside CI a missing Chromium skips; in CI it fails.
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const inCi = ['true', '1'].includes((process.env.CI ?? '').toLowerCase());
const installed = existsSync(CHROMIUM);
const skip = !installed && !inCi;
if (skip) process.stdout.write('skipped: chromium not installed (apt-get install -y chromium)\n');

/** A gateway started with `environment` and a fresh Chromium profile, for the tests of one describe block. */
function gatewayAndProfile(environment: Record<string, string>): { gateway: TestGateway; userDataDir: string } {
  const setup = { gateway: undefined as unknown as TestGateway, userDataDir: '' };
  beforeAll(async () => {
    setup.gateway = await startTestGateway(environment);
    setup.userDataDir = mkdtempSync(join(tmpdir(), 'gateway-docs-chromium-'));
  });
  afterAll(async () => {
    await setup.gateway?.close();
    if (setup.userDataDir) rmSync(setup.userDataDir, { recursive: true, force: true });
  });
  return setup;
}

/** Chromium on a profile; in CI a missing Chromium fails the test rather than skipping it. */
async function launchChromium(userDataDir: string): Promise<BrowserContext> {
  if (!installed) throw new Error(`chromium not installed at ${CHROMIUM}: CI must install it (apt-get install -y chromium)`);
  return chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: ARGS });
}

/** Swagger UI's element ids: `operations-<tag>-<operationId>` (the batch route is under two tags). */
const SEND_CUSTOM_EVENT = '#operations-Gainsight_PX-sendCustomEvent';
const SEND_BATCH = '#operations-Gainsight_PX-sendCustomEventBatch';

interface SandboxPage {
  readonly customEvents: Record<string, unknown>[];
  readonly totalHits: number;
}

describe.skipIf(skip)('Swagger UI at /docs in Chromium (sandbox mode)', () => {
  const setup = gatewayAndProfile({});

  it('makes a trial call: Try it out, Execute, 201, and the sandbox received the event', { timeout: 90_000 }, async () => {
    const { gateway } = setup;
    const context = await launchChromium(setup.userDataDir);
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
      });

      await page.goto(`${gateway.restUrl}/docs`);
      expect(new URL(page.url()).pathname).toBe('/docs/');

      const operation = page.locator(SEND_CUSTOM_EVENT);
      await operation.locator('.opblock-summary').first().click();
      await operation.locator('button.try-out__btn').click();

      const body = operation.locator('textarea.body-param__text');
      const example = JSON.parse(await body.inputValue()) as Record<string, unknown>;
      expect(example).toMatchObject({ eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' });

      await operation.locator('button.execute').click();
      const status = operation.locator('.live-responses-table tbody .response-col_status').first();
      await expect.poll(async () => (await status.textContent())?.trim(), { timeout: 20_000 }).toBe('201');

      const read = await fetch(`${gateway.restUrl}/sandbox/v1/events/custom`);
      expect(read.status).toBe(200);
      const events = (await read.json()) as SandboxPage;
      expect(events.totalHits).toBe(1);
      expect(events.customEvents[0]).toMatchObject({ eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' });

      // The description links to the sandbox's list: the person follows it and sees the event.
      const link = operation.locator('a[href="/sandbox/v1/events/custom"]');
      await expect.poll(() => link.count()).toBe(1);
      const opened = context.waitForEvent('page'); // Swagger UI opens description links in a new tab
      await link.click();
      const list = await opened;
      await list.waitForLoadState();
      expect(new URL(list.url()).pathname).toBe('/sandbox/v1/events/custom');
      expect(await list.textContent('body')).toContain('"identifyId":"u-1"');

      // Helmet's CSP must not have blocked anything Swagger UI needs.
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe.skipIf(skip)('Swagger UI trial calls of queued delivery (sandbox mode)', () => {
  const setup = gatewayAndProfile({});

  it('queues with Prefer: respond-async and through the batch route: 202 each, and the sandbox receives both events', {
    timeout: 90_000,
  }, async () => {
    const { gateway } = setup;
    const context = await launchChromium(setup.userDataDir);
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      await page.goto(`${gateway.restUrl}/docs/`);

      const single = page.locator(SEND_CUSTOM_EVENT);
      await single.locator('.opblock-summary').first().click();
      await single.locator('button.try-out__btn').click();
      await single.locator('tr[data-param-name="Prefer"] input').fill('respond-async');
      await single.locator('button.execute').click();
      const singleStatus = single.locator('.live-responses-table tbody .response-col_status').first();
      await expect.poll(async () => (await singleStatus.textContent())?.trim(), { timeout: 20_000 }).toBe('202');

      const batch = page.locator(SEND_BATCH);
      await batch.locator('.opblock-summary').first().click();
      await batch.locator('button.try-out__btn').click();
      const example = JSON.parse(await batch.locator('textarea.body-param__text').inputValue()) as { events: unknown[] };
      expect(example.events).toHaveLength(1);
      await batch.locator('button.execute').click();
      const batchStatus = batch.locator('.live-responses-table tbody .response-col_status').first();
      await expect.poll(async () => (await batchStatus.textContent())?.trim(), { timeout: 20_000 }).toBe('202');
      await expect
        .poll(async () => await batch.locator('.live-responses-table').first().textContent(), { timeout: 5_000 })
        .toMatch(/"accepted":\s*1/);

      await expect
        .poll(async () => ((await (await fetch(`${gateway.restUrl}/sandbox/v1/events/custom`)).json()) as SandboxPage).totalHits, {
          timeout: 20_000,
        })
        .toBe(2);
    } finally {
      await context.close();
    }
  });
});

describe.skipIf(skip)('Swagger UI with inbound keys: the Authorize button', () => {
  const setup = gatewayAndProfile({ GATEWAY_API_KEYS: TEST_CLIENT_KEY });

  it('answers 401 before Authorize and 201 after entering the key', { timeout: 90_000 }, async () => {
    const { gateway } = setup;
    const context = await launchChromium(setup.userDataDir);
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      await page.goto(`${gateway.restUrl}/docs/`);
      const operation = page.locator(SEND_CUSTOM_EVENT);
      await operation.locator('.opblock-summary').first().click();
      await operation.locator('button.try-out__btn').click();
      const status = operation.locator('.live-responses-table tbody .response-col_status').first();

      await operation.locator('button.execute').click();
      await expect.poll(async () => (await status.textContent())?.trim(), { timeout: 20_000 }).toBe('401');

      await page.locator('.scheme-container button.authorize').click();
      const apiKeyForm = page.locator('.modal-ux .auth-container').filter({ hasText: 'X-API-Key' });
      await apiKeyForm.locator('input').fill(TEST_CLIENT_KEY);
      await apiKeyForm.locator('button.authorize').click();
      await page.locator('.modal-ux button.btn-done').first().click();

      await operation.locator('button.execute').click();
      await expect.poll(async () => (await status.textContent())?.trim(), { timeout: 20_000 }).toBe('201');
      const read = await fetch(`${gateway.restUrl}/sandbox/v1/events/custom`, { headers: { 'x-api-key': TEST_CLIENT_KEY } });
      expect(((await read.json()) as SandboxPage).totalHits).toBe(1);
    } finally {
      await context.close();
    }
  });
});

describe.skipIf(skip)('Swagger UI shows PX users and accounts and reads one back (sandbox mode)', () => {
  const setup = gatewayAndProfile({});

  it('lists every users and accounts operation, and a trial GET of a user created over REST answers 200 with it', {
    timeout: 90_000,
  }, async () => {
    const { gateway } = setup;
    const identifyId = 'ada@example.com';
    const created = await fetch(`${gateway.restUrl}/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identifyId, email: 'ada@example.com', firstName: 'Ada', propertyKeys: ['AP-TEST-1'] }),
    });
    expect(created.status).toBe(201);
    const context = await launchChromium(setup.userDataDir);
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      await page.goto(`${gateway.restUrl}/docs`);
      const operations = [
        'getUser',
        'listUsers',
        'createUser',
        'updateUser',
        'deleteUser',
        'getAccount',
        'listAccounts',
        'createAccount',
        'updateAccount',
      ];
      for (const id of operations)
        await expect.poll(() => page.locator(`#operations-Gainsight_PX-${id}`).count(), { timeout: 20_000 }).toBe(1);

      const getUser = page.locator('#operations-Gainsight_PX-getUser');
      await getUser.locator('.opblock-summary').first().click();
      await getUser.locator('button.try-out__btn').click();
      const idInput = getUser.locator('tr[data-param-name="identifyId"] input');
      await idInput.fill(identifyId);
      await getUser.locator('button.execute').click();
      const status = getUser.locator('.live-responses-table tbody .response-col_status').first();
      await expect.poll(async () => (await status.textContent())?.trim(), { timeout: 20_000 }).toBe('200');
      const body = await getUser.locator('.live-responses-table .response-col_description pre').first().textContent();
      expect(JSON.parse(body ?? '{}')).toMatchObject({ identifyId, email: 'ada@example.com', firstName: 'Ada' });
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
