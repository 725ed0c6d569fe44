import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runValidate } from '../src/capabilities/validate-command.ts';
import { type CapabilityGateway, fixture, json, startCapabilityGateway } from './fixtures/capability-gateway.ts';
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';

function validate(file: string): { code: number; stdout: string } {
  let stdout = '';
  const write = (text: string): void => {
    stdout += text;
  };
  const io = { stdout: write, stderr: write, environment: {}, cwd: process.cwd() };
  const code = runValidate([file], io);
  return { code, stdout };
}

/** REST `in: body` inputs whose `value` is a JSONPath into the request body (the Ikanos engine's HTTP-body example). */
describe('REST in: body inputs with a JSONPath value', () => {
  let upstream: CaptureServer;
  let gateway: CapabilityGateway;

  beforeAll(async () => {
    upstream = await startCaptureServer({ status: 201, body: '{"ok":true}' });
    gateway = await startCapabilityGateway([fixture('ikanos/http-body.yaml')], {
      CAPABILITY_BASE_URI_TESTNS: `${upstream.url}/api`,
      UPSTREAM_RETRIES: '0',
    });
  });
  afterEach(() => {
    upstream.requests.length = 0;
  });
  afterAll(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${gateway.restUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: json(await response.text()) as any };
  };

  it('validate calls the file servable', () => {
    const { code, stdout } = validate(fixture('ikanos/http-body.yaml'));
    expect(stdout).toMatch(/ok, can be served/);
    expect(code).toBe(0);
  });

  it('$.user.id and $.user.name are read from the JSON request body into the consumed body template', async () => {
    const { status } = await post('/users', { user: { id: 'u-7', name: 'Ada' } });
    expect(status).toBe(201);
    const [sent] = upstream.requests;
    expect(`${sent?.method} ${sent?.url}`).toBe('POST /api/create');
    expect(JSON.parse(sent?.body ?? '')).toEqual({ id: 'u-7', name: 'Ada' });
  });

  it('a body without the paths is a 400 naming the missing field; nothing reaches the upstream', async () => {
    const { status, body } = await post('/users', { user: { id: 'u-7' } });
    expect(status).toBe(400);
    expect(JSON.stringify(body)).toMatch(/name/);
    expect(upstream.requests).toHaveLength(0);
  });

  it('an array index, a bracketed key, an object-valued path and a static body value', async () => {
    const { status } = await post('/orders', { lines: [{ sku: 'A-1', qty: 3 }], customer: { id: 'c1', tier: 'gold' } });
    expect(status).toBe(201);
    expect(JSON.parse(upstream.requests[0]?.body ?? '')).toEqual({
      sku: 'A-1',
      quantity: 3,
      customer: { id: 'c1', tier: 'gold' },
      channel: 'web',
    });
  });

  it('OpenAPI documents the request body as the shape the paths read', async () => {
    const document = (await (await fetch(`${gateway.restUrl}/openapi.json`)).json()) as any;
    const schemaOf = (path: string) => {
      const schema = document.paths[path].post.requestBody.content['application/json'].schema;
      return schema.$ref ? document.components.schemas[schema.$ref.split('/').pop()] : schema;
    };
    expect(schemaOf('/users')).toMatchObject({
      type: 'object',
      required: ['user'],
      properties: {
        user: {
          type: 'object',
          required: ['id', 'name'],
          properties: {
            id: { type: 'string', description: 'User ID extracted from request body' },
            name: { type: 'string', description: 'User name extracted from request body' },
          },
        },
      },
    });
    expect(schemaOf('/orders')).toMatchObject({
      type: 'object',
      required: ['lines', 'customer'],
      properties: {
        lines: { type: 'array', minItems: 1, items: { type: 'object', required: ['sku', 'qty'] } },
        customer: { type: 'object' },
      },
    });
  });
});

describe('gateway validate on body paths it cannot serve', () => {
  it('names the "value" keyword for a wildcard, a recursive descent and two inputs reading one place; never "ok"', () => {
    const { code, stdout } = validate(fixture('ikanos/bad/body-paths.yaml'));
    expect(stdout).toMatch(
      /error: capability\.exposes\[0\]\.resources\.users\.operations\.create-user\.inputParameters\.userId\.value: "\$\.users\[\*\]\.id": only definite paths/,
    );
    expect(stdout).toMatch(/inputParameters\.userName\.value: "\$\.\.name": only definite paths/);
    expect(stdout).toMatch(
      /create-order\.inputParameters: the request body cannot be read: "userId" and "userName" both read the same place/,
    );
    expect(stdout).not.toMatch(/ok, can be served/);
    expect(code).toBe(1);
  });
});
