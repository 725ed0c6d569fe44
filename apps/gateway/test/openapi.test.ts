import { createSchemaCompiler, type JsonSchema } from '@gateway/core';
import { customEventSchema } from '@gateway/plugin-gainsight-px';
import type { OpenAPIObject, OperationObject, ResponseObject } from 'openapi3-ts/oas31';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startCaptureServer } from './support/capture-server.ts';
import { liveEnvironment, postJson, startTestGateway, TEST_PX_KEY, type TestGateway } from './support/test-gateway.ts';

const LISTED = ['201', '400', '401', '413', '415', '422', '429', '502', '504'];

async function fetchDocument(gateway: TestGateway, headers: Record<string, string> = {}): Promise<OpenAPIObject> {
  const response = await fetch(`${gateway.restUrl}/openapi.json`, { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return (await response.json()) as OpenAPIObject;
}

const sendCustomEvent = (doc: OpenAPIObject) => doc.paths?.['/v1/custom-events']?.post as OperationObject;
const requestBody = (doc: OpenAPIObject) =>
  (sendCustomEvent(doc).requestBody as { required: boolean; content: Record<string, { schema: { $ref: string }; example: unknown }> })
    .content['application/json'];

describe('GET /openapi.json and /openapi.yaml (sandbox mode)', () => {
  let gateway: TestGateway;
  let doc: OpenAPIObject;

  beforeAll(async () => {
    gateway = await startTestGateway({ BODY_LIMIT: '512', UPSTREAM_RETRIES: '0' });
    doc = await fetchDocument(gateway);
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('serves an OpenAPI 3.1 document with info and the host it was fetched from as server', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toBeTruthy();
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(doc.info.description).toContain('Sandbox mode');
    expect(doc.info.contact).toBeDefined();
    expect(doc.info.license?.name).toBeTruthy();
    expect(doc.servers?.[0]?.url).toBe(gateway.restUrl);
  });

  it('points servers at the public host when a trusted reverse proxy (TRUST_PROXY) forwards X-Forwarded-Proto/-Host', async () => {
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.example.org' };
    const proxiedGateway = await startTestGateway({ TRUST_PROXY: '1' });
    try {
      expect((await fetchDocument(proxiedGateway, forwarded)).servers?.[0]?.url).toBe('https://api.example.org');
      expect((await fetchDocument(proxiedGateway)).servers?.[0]?.url).toBe(proxiedGateway.restUrl);
    } finally {
      await proxiedGateway.close();
    }
  });

  it('ignores X-Forwarded-Proto/-Host without TRUST_PROXY: any caller could send them', async () => {
    expect((await fetchDocument(gateway, { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' })).servers?.[0]?.url).toBe(
      gateway.restUrl,
    );
  });

  it('serves the same document as YAML', async () => {
    const response = await fetch(`${gateway.restUrl}/openapi.yaml`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/yaml/);
    const text = await response.text();
    expect(text).not.toMatch(/[&*]a\d+\b/); // no YAML anchors/aliases: any OpenAPI tool reads it
    expect(parse(text)).toEqual(doc);
  });

  it('has POST /v1/custom-events with operationId, summary, description, a plugin tag and a sandbox link', () => {
    const operation = sendCustomEvent(doc);
    expect(operation).toMatchObject({ operationId: 'sendCustomEvent', summary: expect.any(String), tags: ['Gainsight PX'] });
    expect(operation.description).toContain('[GET /sandbox/v1/events/custom](/sandbox/v1/events/custom)');
    expect(doc.tags?.map((tag) => tag.name)).toEqual(['Gainsight PX', 'Deliveries', 'Gateway']);
  });

  it('documents every CustomEvent field with the schema the validator uses', () => {
    const body = requestBody(doc);
    expect(body?.schema).toEqual({ $ref: '#/components/schemas/CustomEvent' });
    const served = doc.components?.schemas?.CustomEvent as JsonSchema;
    const input = gateway.plugins[0]?.descriptor.operations[0]?.input;
    const loaded = (input?.properties as Record<string, JsonSchema> | undefined)?.body;
    expect(loaded).toBeDefined();
    expect(served).toEqual(JSON.parse(JSON.stringify(loaded)));
    const fields = Object.keys(customEventSchema({ propertyKeyRequired: true }).properties as object);
    expect(fields.length).toBeGreaterThanOrEqual(12);
    const properties = served.properties as Record<string, JsonSchema>;
    expect(Object.keys(properties).sort()).toEqual([...fields].sort());
    for (const field of fields) expect(properties[field]?.description, field).toEqual(expect.any(String));
  });

  it('lists every answer the route can give, errors as the shared Problem, with X-Request-Id and Retry-After', () => {
    const responses = sendCustomEvent(doc).responses as Record<string, ResponseObject>;
    for (const status of LISTED) expect(responses[status], status).toBeDefined();
    for (const [status, response] of Object.entries(responses)) {
      expect(response.headers?.['X-Request-Id'], status).toEqual({ $ref: '#/components/headers/XRequestId' });
      if (status.startsWith('2')) continue;
      expect(response.content?.['application/problem+json']?.schema, status).toEqual({ $ref: '#/components/schemas/Problem' });
    }
    expect(responses['429']?.headers?.['Retry-After']).toEqual({ $ref: '#/components/headers/RetryAfter' });
    expect(doc.components?.schemas?.Problem).toMatchObject({ required: ['type', 'title', 'status', 'detail'] });
    expect(doc.components?.headers).toHaveProperty('XRequestId');
    expect(doc.components?.headers).toHaveProperty('RetryAfter');
  });

  it('prefills an example that validates against the served schema, and the sandbox accepts it with 201', async () => {
    const example = requestBody(doc)?.example;
    expect(example).toMatchObject({ eventName: expect.any(String), identifyId: expect.any(String) });
    const validate = createSchemaCompiler()(doc.components?.schemas?.CustomEvent as JsonSchema);
    expect(validate(example)).toEqual([]);
    expect(validate({ ...(example as object), unknownField: 1 })).not.toEqual([]); // the check can fail

    const response = await postJson(`${gateway.restUrl}/v1/custom-events`, example);
    expect(response.status).toBe(201);
    const read = await fetch(
      `${gateway.restUrl}/sandbox/v1/events/custom?filter=identifyId==${(example as { identifyId: string }).identifyId}`,
    );
    expect(((await read.json()) as { totalHits: number }).totalHits).toBeGreaterThanOrEqual(1);
  });

  it('describes the errors the gateway really sends: each is documented and matches the Problem schema', async () => {
    const documented = sendCustomEvent(doc).responses as Record<string, ResponseObject>;
    const validProblem = createSchemaCompiler()(doc.components?.schemas?.Problem as JsonSchema);
    const example = requestBody(doc)?.example as Record<string, unknown>;
    const url = `${gateway.restUrl}/v1/custom-events`;
    const sandbox = gateway.plugins[0]?.sandbox as unknown as { script: (...faults: unknown[]) => void };

    const answers: Response[] = [
      await postJson(url, { eventName: 'Signup' }), // 400 invalid-input
      await postJson(url, '{"eventName":'), // 400 malformed-json
      await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' }), // 415
      await postJson(url, { ...example, attributes: { padding: 'x'.repeat(1024) } }), // 413 (BODY_LIMIT 512)
      await postJson(url, example, { 'idempotency-key': 'openapi-test-key-1' }),
      await postJson(url, { ...example, eventName: 'Other' }, { 'idempotency-key': 'openapi-test-key-1' }), // 422
    ];
    sandbox.script({ status: 500 });
    answers.push(await postJson(url, example)); // 502

    const statuses = answers.map((answer) => answer.status);
    expect(statuses).toEqual([400, 400, 415, 413, 201, 422, 502]);
    for (const answer of answers) {
      expect(documented[String(answer.status)], String(answer.status)).toBeDefined();
      expect(answer.headers.get('x-request-id')).toBeTruthy();
      if (answer.status < 400) continue;
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(validProblem(await answer.json()), String(answer.status)).toEqual([]);
    }
  });
});

describe('the document in live mode', () => {
  it('names no sandbox and never contains the upstream API key', async () => {
    const upstream = await startCaptureServer();
    const gateway = await startTestGateway(liveEnvironment(upstream.url));
    try {
      const json = await (await fetch(`${gateway.restUrl}/openapi.json`)).text();
      const yaml = await (await fetch(`${gateway.restUrl}/openapi.yaml`)).text();
      for (const text of [json, yaml]) {
        expect(text).not.toContain(TEST_PX_KEY);
        expect(text).not.toContain('/sandbox/');
      }
      const doc = JSON.parse(json) as OpenAPIObject;
      expect(doc.info.description).not.toContain('Sandbox mode');
      expect(sendCustomEvent(doc).operationId).toBe('sendCustomEvent');
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});
