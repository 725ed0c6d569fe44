import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

describe('Swagger UI at /docs (over HTTP)', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({});
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('redirects /docs to /docs/ (its assets are relative), keeping the query', async () => {
    for (const [path, location] of [
      ['/docs', 'docs/'],
      ['/docs?x=1', 'docs/?x=1'],
    ]) {
      const response = await fetch(`${gateway.restUrl}${path}`, { redirect: 'manual' });
      expect(response.status).toBe(301);
      expect(response.headers.get('location')).toBe(location);
    }
  });

  it('serves the page under a CSP that allows only the gateway’s own scripts', async () => {
    const response = await fetch(`${gateway.restUrl}/docs/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await response.text();
    expect(html).toContain('swagger-ui-bundle.js');
    expect(html).not.toMatch(/<script>(?!\s*<\/script>)/); // no inline script: the CSP would block it
  });

  it('binds Swagger UI to /openapi.json and serves its assets', async () => {
    const init = await fetch(`${gateway.restUrl}/docs/swagger-ui-init.js`);
    expect(init.status).toBe(200);
    expect(await init.text()).toContain('"url": "/openapi.json"');
    const bundle = await fetch(`${gateway.restUrl}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);
    await bundle.arrayBuffer();
  });

  it('does not serve swagger-ui-dist’s other files (its Petstore index, package.json)', async () => {
    for (const path of ['/docs/index.html', '/docs/swagger-initializer.js', '/docs/package.json']) {
      const response = await fetch(`${gateway.restUrl}${path}`);
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
  });

  it('adds the security headers to API answers too', async () => {
    const response = await fetch(`${gateway.restUrl}/openapi.json`);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('x-request-id')).toBeTruthy();
    await response.arrayBuffer();
  });
});
