import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runValidate } from '../src/capabilities/validate-command.ts';
import { type CapabilityGateway, connectMcp, fixture, startCapabilityGateway } from './fixtures/capability-gateway.ts';
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';

/** Each construct `validate` accepts as servable, served as written: what the capture upstream received. */
describe('Ikanos constructs served as written', () => {
  let upstream: CaptureServer;
  let gateway: CapabilityGateway;
  let mcp: Client;

  beforeAll(async () => {
    upstream = await startCaptureServer({ status: 200, body: '{"ok":true}' });
    gateway = await startCapabilityGateway([fixture('ikanos/constructs.yaml')], {
      TEST_MATRIX_REGION: 'eu-west',
      CAPABILITY_BASE_URI_MATRIX_API: `${upstream.url}/api`,
      UPSTREAM_RETRIES: '0',
    });
    mcp = await connectMcp(gateway.mcpUrl);
  });
  afterEach(() => {
    upstream.requests.length = 0;
  });
  afterAll(async () => {
    await mcp?.close();
    await gateway?.close();
    await upstream?.close();
  });

  it('validate: servable, and it warns that the JSONPath value of a query input is ignored', () => {
    let stdout = '';
    const write = (text: string): void => {
      stdout += text;
    };
    const code = runValidate([fixture('ikanos/constructs.yaml')], {
      stdout: write,
      stderr: write,
      environment: { TEST_MATRIX_REGION: 'x' },
      cwd: process.cwd(),
    });
    expect(stdout).toMatch(/put-thing\.inputParameters\.level\.value: a JSONPath "value" reads the request body/);
    expect(stdout).toMatch(/ok, can be served/);
    expect(code).toBe(0);
  });

  it('REST: static header, cookie from a header input, templated query, static input by "with", in: body without a template', async () => {
    const response = await fetch(`${gateway.restUrl}/v1/things/t%201?level=high`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', session: 's-1' },
      body: JSON.stringify({ payload: { colour: 'red', size: 3 } }),
    });
    expect(response.status).toBe(200);
    const [sent] = upstream.requests;
    expect(sent?.method).toBe('PUT');
    const url = new URL(sent?.url ?? '', 'http://x');
    expect(url.pathname).toBe('/api/things/t%201');
    expect(Object.fromEntries(url.searchParams)).toEqual({ verbose: 'high', origin: 'gateway' });
    expect(sent?.headers['x-tenant']).toBe('acme');
    expect(sent?.headers.cookie).toBe('session=s-1');
    expect(JSON.parse(sent?.body ?? '')).toEqual({ colour: 'red', size: 3 });
  });

  it('REST: an in: environment parameter (bound) read by a body template', async () => {
    const response = await fetch(`${gateway.restUrl}/v1/things/t1/tags`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tag: 'blue' }),
    });
    expect(response.status).toBe(200);
    const [sent] = upstream.requests;
    expect(`${sent?.method} ${sent?.url}`).toBe('POST /api/things/t1/tags');
    expect(JSON.parse(sent?.body ?? '')).toEqual({ region: 'eu-west', tag: 'blue' });
  });

  it('MCP: the same consumed operation from tool arguments', async () => {
    const result = await mcp.callTool({
      name: 'matrix-put-thing',
      arguments: { thingId: 't1', session: 's-2', level: 'low', payload: { colour: 'blue' } },
    });
    expect(result.isError).not.toBe(true);
    const [sent] = upstream.requests;
    const url = new URL(sent?.url ?? '', 'http://x');
    expect(`${sent?.method} ${url.pathname}`).toBe('PUT /api/things/t1');
    expect(url.searchParams.get('verbose')).toBe('low');
    expect(sent?.headers['x-tenant']).toBe('acme');
    expect(sent?.headers.cookie).toBe('session=s-2');
    expect(JSON.parse(sent?.body ?? '')).toEqual({ colour: 'blue' });
  });
});
