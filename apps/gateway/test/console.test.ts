import { afterEach, describe, expect, it } from 'vitest';
import { startCaptureServer } from './support/capture-server.ts';
import { liveEnvironment, startTestGateway, TEST_CLIENT_KEY, TEST_PX_KEY, type TestGateway } from './support/test-gateway.ts';

// The console's page and assets at `/`, and `GET /v1/gateway`, over real sockets (the page itself: console-browser.test.ts).
let gateway: TestGateway | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

describe('the console at /', () => {
  it('serves the page and its script and style from the gateway, under the same CSP as /docs, with no inline script or style', async () => {
    gateway = await startTestGateway();
    const page = await fetch(`${gateway.restUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const docs = await fetch(`${gateway.restUrl}/docs/`);
    expect(page.headers.get('content-security-policy')).toBe(docs.headers.get('content-security-policy'));
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    // Every script and stylesheet is a same-origin file; no inline code, no CDN.
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(html).not.toMatch(/https?:\/\//);
    for (const asset of ['/console/console.js', '/console/console.css']) {
      expect(html).toContain(asset);
      const response = await fetch(`${gateway.restUrl}${asset}`);
      expect(response.status, asset).toBe(200);
      expect((await response.text()).length).toBeGreaterThan(100);
    }
  });

  it('needs no key for the page nor for GET /v1/gateway, which says keys are required; the deliveries still need one', async () => {
    gateway = await startTestGateway({ GATEWAY_API_KEYS: TEST_CLIENT_KEY });
    expect((await fetch(`${gateway.restUrl}/`)).status).toBe(200);
    const info = await fetch(`${gateway.restUrl}/v1/gateway`);
    expect(info.status).toBe(200);
    expect(await info.json()).toMatchObject({ inboundKeys: true });
    expect((await fetch(`${gateway.restUrl}/v1/deliveries`)).status).toBe(401);
  });
});

describe('GET /v1/gateway', () => {
  it('says what runs: version, sandbox mode, plugins with operations and their Swagger UI links, the MCP URL, readiness', async () => {
    gateway = await startTestGateway();
    const response = await fetch(`${gateway.restUrl}/v1/gateway`);
    expect(response.status).toBe(200);
    const info = (await response.json()) as any;
    expect(info).toMatchObject({
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      mode: 'sandbox',
      mcp: { url: gateway.mcpUrl },
      ready: true,
      readiness: 'ready',
      pausedPlugins: [],
      inboundKeys: false,
      deliveries: true,
    });
    const px = info.plugins.find((plugin: any) => plugin.id === 'gainsight-px');
    expect(px).toMatchObject({ title: 'Gainsight PX', mode: 'sandbox' });
    expect(px.operations).toContainEqual({
      id: 'sendCustomEvent',
      title: 'Send a custom event',
      method: 'POST',
      path: '/v1/custom-events',
      tool: 'gainsight-send-custom-event',
      docs: '/docs/#/Gainsight%20PX/sendCustomEvent',
    });
    expect(px.operations.find((operation: any) => operation.id === 'getUser').path).toBe('/v1/users/{identifyId}');
    // The route itself is in the document, needing no key, and its answer has only the fields the schema declares.
    const declaredRoute = ((await (await fetch(`${gateway.restUrl}/openapi.json`)).json()) as any).paths['/v1/gateway']?.get;
    expect(declaredRoute).toMatchObject({ operationId: 'getGateway', security: [] });
    // Each link names an operation the OpenAPI document has, under the tag Swagger UI groups it by.
    const document = (await (await fetch(`${gateway.restUrl}/openapi.json`)).json()) as any;
    const schema = document.components.schemas.GatewayInfo;
    expect(Object.keys(info).filter((field) => !(field in schema.properties))).toEqual([]);
    expect(schema.required.filter((field: string) => !(field in info))).toEqual([]);
    const builtIn = info.plugins.find((plugin: any) => plugin.id === 'gateway');
    expect(builtIn).toMatchObject({ builtIn: true, title: 'Gateway deliveries' });
    expect(builtIn.operations).toContainEqual(
      expect.objectContaining({ id: 'retryDeliveries', method: 'POST', path: '/v1/deliveries/retry' }),
    );
    for (const operation of info.plugins.flatMap((plugin: any) => plugin.operations)) {
      const [, tag, operationId] = decodeURIComponent(operation.docs).split('#')[1]?.split('/') ?? [];
      const declared = document.paths[operation.path]?.[operation.method.toLowerCase()];
      expect(declared, operation.id).toMatchObject({ operationId, tags: expect.arrayContaining([tag]) });
    }
  });

  it('says when nothing runs: no plugin, not ready, no delivery queue', async () => {
    gateway = await startTestGateway({ PLUGINS: 'none' });
    expect(await (await fetch(`${gateway.restUrl}/v1/gateway`)).json()).toMatchObject({
      plugins: [],
      ready: false,
      readiness: 'no plugins loaded',
      deliveries: false,
    });
  });

  it('in live mode says live and never shows the upstream key', async () => {
    const upstream = await startCaptureServer();
    try {
      gateway = await startTestGateway(liveEnvironment(upstream.url));
      const text = await (await fetch(`${gateway.restUrl}/v1/gateway`)).text();
      expect(JSON.parse(text)).toMatchObject({
        mode: 'live',
        plugins: expect.arrayContaining([expect.objectContaining({ id: 'gainsight-px', mode: 'live' })]),
      });
      expect(text).not.toContain(TEST_PX_KEY);
    } finally {
      await upstream.close();
    }
  });
});
