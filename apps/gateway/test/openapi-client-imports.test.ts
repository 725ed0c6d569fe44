import type { OpenAPIObject, ParameterObject, ReferenceObject, ResponseObject } from 'openapi3-ts/oas31';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

/** What importers (Bruno, Postman, Insomnia) turn into requests: the document must not make them send something else. */
describe('the OpenAPI document as clients import it', () => {
  let gateway: TestGateway;
  let doc: OpenAPIObject;
  const resolve = <T>(item: T | ReferenceObject): T => {
    if (!('$ref' in (item as object))) return item as T;
    const [, , kind, name] = (item as ReferenceObject).$ref.split('/');
    return (doc.components as Record<string, Record<string, T>>)[kind as string]?.[name as string] as T;
  };
  const operations = () =>
    Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
      (['get', 'post', 'put', 'patch', 'delete'] as const).flatMap((method) =>
        item[method] ? [{ path, method, operation: item[method] }] : [],
      ),
    );

  beforeAll(async () => {
    gateway = await startTestGateway({ UPSTREAM_RETRIES: '0' });
    doc = (await (await fetch(`${gateway.restUrl}/openapi.json`)).json()) as OpenAPIObject;
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('Prefer documents respond-async but pre-fills nothing (no example, enum or default an importer would send)', () => {
    const prefers = operations()
      .flatMap(({ operation }) => (operation.parameters ?? []).map((p) => resolve<ParameterObject>(p)))
      .filter((p) => p.name === 'Prefer');
    expect(prefers.length).toBeGreaterThan(0);
    for (const prefer of prefers) {
      expect(prefer.required).not.toBe(true);
      expect(prefer.description).toContain('respond-async');
      expect(prefer).not.toHaveProperty('example');
      expect(prefer).not.toHaveProperty('examples');
      expect(prefer.schema).toEqual({ type: 'string' });
    }
  });

  it('every 503 answer has an example', () => {
    const unavailable = operations().flatMap(({ operation }) =>
      operation.responses?.['503'] ? [resolve<ResponseObject>(operation.responses['503'])] : [],
    );
    expect(unavailable.length).toBeGreaterThan(0);
    for (const response of unavailable) {
      const examples = Object.values(response.content?.['application/problem+json']?.examples ?? {}) as { value: { status: number } }[];
      expect(examples.length).toBeGreaterThan(0);
      expect(examples[0]?.value.status).toBe(503);
    }
  });

  it('servers has a short description (importers name their environment after it)', () => {
    for (const server of doc.servers ?? []) expect(server.description?.length ?? 0).toBeLessThanOrEqual(20);
  });
});
