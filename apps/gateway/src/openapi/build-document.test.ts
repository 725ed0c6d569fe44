import { createSchemaCompiler, type JsonSchema, type OperationDescriptor, type PluginDescriptor } from '@gateway/core';
import { gainsightPxPlugin, readPxSettings } from '@gateway/plugin-gainsight-px';
import type { OperationObject, ParameterObject, ReferenceObject, ResponseObject } from 'openapi3-ts/oas31';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from './build-document.ts';
import { DEFAULT_INFO } from './document-info.ts';
import type { DocumentPlugin, InboundSecurity } from './types.ts';

const thingSchema: JsonSchema = {
  title: 'Thing',
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', description: 'Its name.' } },
  examples: [{ name: 'from-schema' }],
};
const thingIdSchema: JsonSchema = { type: 'string', description: 'The thing id.' };
const resultSchema: JsonSchema = { title: 'ThingResult', type: 'object', properties: { id: { type: 'string' } } };

const operation = (overrides: Partial<OperationDescriptor>): OperationDescriptor => ({
  id: 'sendThing',
  title: 'Send a thing',
  description: 'Sends one thing.',
  input: { type: 'object', required: ['body'], properties: { body: thingSchema } },
  example: { body: { name: 'from-descriptor' } },
  upstream: { method: 'POST', path: '/things' },
  rest: { method: 'POST', path: '/v1/things' },
  mcp: false,
  ...overrides,
});

const plugin = (descriptor: Partial<PluginDescriptor>, mode: DocumentPlugin['mode'] = 'live'): DocumentPlugin => ({
  descriptor: {
    id: 'things',
    title: 'Things',
    version: '1.2.3',
    description: 'Things upstream.',
    upstream: { baseUrl: 'https://things.example.org' },
    operations: [],
    ...descriptor,
  },
  mode,
  ...(mode === 'sandbox' ? { sandbox: { readRoutes: ['/v1/received'] } } : {}),
});

const things = plugin(
  {
    operations: [
      operation({}),
      operation({
        id: 'getThing',
        title: 'Get a thing',
        input: {
          type: 'object',
          required: ['thingId'],
          properties: { thingId: thingIdSchema, verbose: { type: 'boolean' } },
        },
        output: resultSchema,
        example: { thingId: 't-1' },
        upstream: { method: 'GET', path: '/things/{thingId}' },
        rest: { method: 'GET', path: '/v1/things/:thingId', parameters: { thingId: 'path', verbose: 'query' } },
      }),
      operation({ id: 'mcpOnly', rest: false }),
    ],
  },
  'sandbox',
);
// Another plugin reusing the operation id and the schema title, with a different schema object.
const otherThingSchema: JsonSchema = { ...thingSchema, description: 'Another thing.' };
const others = plugin({
  id: 'others',
  title: 'Others',
  operations: [
    operation({
      input: { type: 'object', properties: { body: otherThingSchema } },
      example: undefined,
      rest: { method: 'POST', path: '/v2/things' },
    }),
  ],
});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

const build = (plugins: readonly DocumentPlugin[], security?: InboundSecurity) =>
  buildOpenApiDocument(deepFreeze({ plugins }), { info: DEFAULT_INFO, bodyLimitBytes: 2048, ...(security ? { security } : {}) });

type Operation = OperationObject & { responses: Record<string, ResponseObject> };
const op = (doc: ReturnType<typeof build>, path: string, method: string) => doc.paths?.[path]?.[method as 'get'] as Operation;

describe('buildOpenApiDocument', () => {
  it('is OpenAPI 3.1 with info, a relative default server, and never modifies its (frozen) input', () => {
    const doc = build([things, others]);
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({
      title: DEFAULT_INFO.title,
      version: DEFAULT_INFO.version,
      contact: DEFAULT_INFO.contact,
      license: DEFAULT_INFO.license,
    });
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(() => JSON.stringify(doc)).not.toThrow();
  });

  it('has one operation per REST exposure, with operationId, summary, description and the plugin tag', () => {
    const doc = build([things, others]);
    expect(Object.keys(doc.paths ?? {}).sort()).toEqual(['/sandbox/v1/received', '/v1/things', '/v1/things/{thingId}', '/v2/things']);
    expect(op(doc, '/v1/things', 'post')).toMatchObject({ operationId: 'things.sendThing', summary: 'Send a thing', tags: ['Things'] });
    expect(op(doc, '/v2/things', 'post')).toMatchObject({ operationId: 'others.sendThing', tags: ['Others'] });
    expect(op(doc, '/v1/things/{thingId}', 'get').operationId).toBe('getThing');
    expect(doc.tags?.map((tag) => tag.name)).toEqual(['Things', 'Others']);
    expect(JSON.stringify(doc)).not.toContain('mcpOnly');
  });

  it('puts the very schema objects of the descriptors in the document, never copies', () => {
    const doc = build([things, others]);
    expect(doc.components?.schemas?.Thing).toBe(thingSchema);
    expect(doc.components?.schemas?.Thing2).toBe(otherThingSchema);
    expect(doc.components?.schemas?.ThingResult).toBe(resultSchema);
    const get = op(doc, '/v1/things/{thingId}', 'get');
    const [thingId, verbose] = get.parameters as ParameterObject[];
    expect(thingId).toMatchObject({ name: 'thingId', in: 'path', required: true, description: 'The thing id.', example: 't-1' });
    expect(thingId?.schema).toBe(thingIdSchema);
    expect(verbose).toMatchObject({ name: 'verbose', in: 'query', required: false });
    expect(get.responses['200']?.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/ThingResult' });
  });

  it('gives the body the descriptor example (else the schema example), which validates against the schema', () => {
    const doc = build([things, others]);
    const body = (operation: OperationObject) =>
      (operation.requestBody as { content: Record<string, { example?: unknown; schema: ReferenceObject }> }).content['application/json'];
    expect(body(op(doc, '/v1/things', 'post'))).toEqual({
      schema: { $ref: '#/components/schemas/Thing' },
      example: { name: 'from-descriptor' },
    });
    expect(body(op(doc, '/v2/things', 'post'))?.example).toEqual({ name: 'from-schema' });
    expect(createSchemaCompiler()(thingSchema)(body(op(doc, '/v1/things', 'post'))?.example)).toEqual([]);
  });

  it('lists every answer of a body route as a Problem, with X-Request-Id, and Retry-After on 409, 429 and 503', () => {
    const post = op(build([things]), '/v1/things', 'post');
    // Its successStatus is undeclared, so both 2xx a POST's upstream may answer (and REST relays) are listed.
    expect(Object.keys(post.responses)).toEqual([
      '200',
      '201',
      '400',
      '401',
      '409',
      '413',
      '415',
      '422',
      '429',
      '500',
      '502',
      '503',
      '504',
    ]);
    for (const [status, response] of Object.entries(post.responses)) {
      expect(response.headers?.['X-Request-Id'], status).toEqual({ $ref: '#/components/headers/XRequestId' });
      if (status.startsWith('2')) continue;
      expect(response.content?.['application/problem+json']?.schema, status).toEqual({ $ref: '#/components/schemas/Problem' });
    }
    expect(Object.keys(post.responses['409']?.headers ?? {})).toContain('Retry-After');
    expect(Object.keys(post.responses['429']?.headers ?? {})).toContain('Retry-After');
    expect(Object.keys(post.responses['503']?.headers ?? {})).toContain('Retry-After');
    // The inbound limit's own 429 and the IETF RateLimit headers it puts on every answer are documented too.
    expect(Object.keys(post.responses['429']?.content?.['application/problem+json']?.examples ?? {})).toContain('rate-limited');
    for (const [status, response] of Object.entries(post.responses)) {
      expect(Object.keys(response.headers ?? {}), status).toEqual(expect.arrayContaining(['RateLimit', 'RateLimit-Policy']));
    }
    expect(post.responses['413']?.description).toContain('2048 bytes');
  });

  it('leaves 413 and 415 out where no body is read', () => {
    const get = op(build([things]), '/v1/things/{thingId}', 'get');
    expect(Object.keys(get.responses)).not.toContain('413');
    expect(Object.keys(get.responses)).not.toContain('415');
    expect(get.requestBody).toBeUndefined();
  });

  it('links the sandbox read routes from operations of sandboxed plugins only', () => {
    const doc = build([things, others]);
    expect(op(doc, '/v1/things', 'post').description).toContain('[GET /sandbox/v1/received](/sandbox/v1/received)');
    expect(op(doc, '/v2/things', 'post').description).not.toContain('sandbox');
    expect(doc.info.description).toContain('**Sandbox mode** for Things');
  });

  it('documents the sandbox read routes it serves (sandbox mode only)', () => {
    const doc = build([things, others]);
    expect(Object.keys(doc.paths ?? {}).filter((path) => path.startsWith('/sandbox'))).toEqual(['/sandbox/v1/received']);
    expect(Object.keys(op(doc, '/sandbox/v1/received', 'get').responses)).toEqual(['200', '400']);
  });

  it('gives the Idempotency-Key and X-Request-Id parameters no example a tool would send with every request', () => {
    const doc = build([things]);
    for (const name of ['IdempotencyKey', 'XRequestId'])
      expect(JSON.stringify(doc.components?.parameters?.[name]), name).not.toContain('example');
  });

  it('declares no security until inbound auth passes its schemes (the seam), then declares them', () => {
    const open = build([things]);
    expect(open.security).toEqual([]);
    expect(open.components?.securitySchemes).toBeUndefined();
    const secured = build([things], {
      schemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
      requirements: [{ apiKey: [] }],
    });
    expect(secured.components?.securitySchemes).toEqual({ apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } });
    expect(secured.security).toEqual([{ apiKey: [] }]);
    expect(op(secured, '/v1/things', 'post').responses['401']?.description).toContain('security schemes');
  });

  it('documents the PX plugin with its own CustomEvent schema object', () => {
    const px = gainsightPxPlugin(readPxSettings({}));
    const sendCustomEvent = px.operations[0] as OperationDescriptor;
    const doc = build([{ descriptor: px, mode: 'live' }]);
    const body = (sendCustomEvent.input.properties as Record<string, JsonSchema>).body;
    expect(doc.components?.schemas?.CustomEvent).toBe(body);
    expect(op(doc, '/v1/custom-events', 'post')).toMatchObject({ operationId: 'sendCustomEvent', tags: ['Gainsight PX'] });
  });
});
