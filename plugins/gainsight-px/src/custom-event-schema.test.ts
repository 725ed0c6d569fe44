import { createSchemaCompiler, type InputProblem, type JsonSchema } from '@gateway/core';
import { describe, expect, it } from 'vitest';
import { customEventSchema, MAX_ATTRIBUTES, USER_TYPES } from './custom-event-schema.ts';
import { gainsightPxPlugin } from './index.ts';
import type { PxSettings } from './settings.ts';

const compile = createSchemaCompiler();

const settings = (productKey?: string): PxSettings => ({
  baseUrl: 'http://127.0.0.1:1/v1',
  apiKey: { source: 'GAINSIGHT_API_KEY', value: 'k' },
  productKey,
});

/** The operation input schema exactly as the gateway compiles it: `{ body: CustomEvent }`. */
function operationInput(productKey?: string): JsonSchema {
  const operation = gainsightPxPlugin(settings(productKey)).operations[0];
  if (!operation) throw new Error('the plugin has no operation');
  return operation.input;
}

const withDefaultKey = compile(operationInput('AP-DEFAULT-1'));
const withoutDefaultKey = compile(operationInput());

const valid = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' };
const check = (body: unknown, validate = withDefaultKey): readonly InputProblem[] => validate({ body });
const pointers = (problems: readonly InputProblem[]) => problems.map((p) => p.pointer);

describe('CustomEvent schema (operation input { body: CustomEvent })', () => {
  it('compiles in strict mode for both configurations', () => {
    expect(() => compile(customEventSchema({ propertyKeyRequired: true }))).not.toThrow();
    expect(() => compile(customEventSchema({ propertyKeyRequired: false, defaultPropertyKey: 'AP-1' }))).not.toThrow();
  });

  it('accepts the minimal event and the example the operation advertises', () => {
    expect(check(valid)).toEqual([]);
    expect(check(valid, withoutDefaultKey)).toEqual([]);
    const operation = gainsightPxPlugin(settings()).operations[0];
    expect(withoutDefaultKey(operation?.example)).toEqual([]);
  });

  it('accepts every documented field', () => {
    const full = {
      ...valid,
      userType: 'LEAD',
      date: 1764151200000,
      accountId: 'acme-corp',
      sessionId: 's-42',
      attributes: { plan: 'pro', seats: 5, trial: false, at: '2026-11-26T10:00:00Z', gone: null, nested: { a: 1 }, list: [1, 2] },
      globalContext: { appVersion: '2.3.1' },
      url: 'https://app.example.com/signup',
      referrer: 'https://www.example.com/',
      remoteHost: '203.0.113.7',
    };
    expect(check(full)).toEqual([]);
  });

  it('accepts each user type', () => {
    for (const userType of USER_TYPES) expect(check({ ...valid, userType })).toEqual([]);
  });

  it('rejects a missing body and a non-object body', () => {
    expect(withDefaultKey({})).toEqual([{ pointer: '/body', message: 'is required' }]);
    expect(check('Signup')).toEqual([{ pointer: '/body', message: 'must be object' }]);
    expect(check([valid])).toEqual([{ pointer: '/body', message: 'must be object' }]);
  });

  it('rejects unknown fields next to body', () => {
    expect(withDefaultKey({ body: valid, extra: 1 })).toEqual([{ pointer: '/extra', message: 'is not a known field' }]);
  });

  it('requires eventName and identifyId, reporting every missing field', () => {
    expect(check({ propertyKey: 'AP-1' })).toEqual([
      { pointer: '/body/eventName', message: 'is required' },
      { pointer: '/body/identifyId', message: 'is required' },
    ]);
  });

  it('requires propertyKey only when no default product key is configured', () => {
    const { propertyKey: _omitted, ...noKey } = valid;
    expect(check(noKey, withDefaultKey)).toEqual([]);
    expect(check(noKey, withoutDefaultKey)).toEqual([{ pointer: '/body/propertyKey', message: 'is required' }]);
  });

  it('describes propertyKey according to the configuration', () => {
    const withDefault = customEventSchema({ propertyKeyRequired: false, defaultPropertyKey: 'AP-1' });
    const without = customEventSchema({ propertyKeyRequired: true });
    expect(withDefault.required).toEqual(['eventName', 'identifyId']);
    expect(without.required).toEqual(['eventName', 'identifyId', 'propertyKey']);
    const description = (schema: JsonSchema) => String((schema.properties as Record<string, JsonSchema>).propertyKey?.description);
    expect(description(withDefault)).toContain('Defaults to the product key');
    expect(description(without)).toContain('Required');
  });

  it('rejects empty strings in the identifying fields', () => {
    const problems = check({ eventName: '', identifyId: '', propertyKey: '' });
    expect(pointers(problems).sort()).toEqual(['/body/eventName', '/body/identifyId', '/body/propertyKey']);
    expect(problems.every((p) => /fewer than 1 character/.test(p.message))).toBe(true);
  });

  it('limits eventName to 2000 characters', () => {
    expect(check({ ...valid, eventName: 'x'.repeat(2000) })).toEqual([]);
    expect(pointers(check({ ...valid, eventName: 'x'.repeat(2001) }))).toEqual(['/body/eventName']);
  });

  it('rejects unknown top-level fields so typos are caught', () => {
    expect(check({ ...valid, eventname: 'Signup' })).toEqual([{ pointer: '/body/eventname', message: 'is not a known field' }]);
    expect(check({ ...valid, eventId: 'e-1' })).toEqual([{ pointer: '/body/eventId', message: 'is not a known field' }]);
  });

  it('rejects wrong types', () => {
    expect(check({ ...valid, identifyId: 42 })).toEqual([{ pointer: '/body/identifyId', message: 'must be string' }]);
    expect(check({ ...valid, accountId: 7 })).toEqual([{ pointer: '/body/accountId', message: 'must be string' }]);
    expect(check({ ...valid, url: null })).toEqual([{ pointer: '/body/url', message: 'must be string' }]);
    expect(check({ ...valid, attributes: ['a'] })).toEqual([{ pointer: '/body/attributes', message: 'must be object' }]);
    expect(check({ ...valid, globalContext: 'x' })).toEqual([{ pointer: '/body/globalContext', message: 'must be object' }]);
  });

  it('rejects an unknown userType, listing the allowed ones', () => {
    expect(check({ ...valid, userType: 'user' })).toEqual([
      { pointer: '/body/userType', message: 'must be one of "USER", "LEAD", "VISITOR", "EMPTY_USER_TYPE"' },
    ]);
  });

  describe('date', () => {
    it('accepts epoch milliseconds and ISO-8601 date-times', () => {
      expect(check({ ...valid, date: 0 })).toEqual([]);
      expect(check({ ...valid, date: 1764151200000 })).toEqual([]);
      expect(check({ ...valid, date: '2026-11-26T10:00:00Z' })).toEqual([]);
      expect(check({ ...valid, date: '2026-11-26T10:00:00.123+01:00' })).toEqual([]);
    });

    it.each([
      ['a fraction', 1.5],
      ['a boolean', true],
      ['null', null],
    ])('rejects %s (no branch has its type) with one readable problem', (_label, date) => {
      expect(check({ ...valid, date })).toEqual([{ pointer: '/body/date', message: 'must be integer or string (date-time)' }]);
    });

    it('rejects a negative integer as the integer it is: below the minimum, not of the wrong type', () => {
      expect(check({ ...valid, date: -1 })).toEqual([{ pointer: '/body/date', message: 'must be >= 0' }]);
    });

    it.each([
      ['a date without time', '2026-11-26'],
      ['a date-time without zone', '2026-11-26T10:00:00'],
      ['free text', 'yesterday'],
    ])('rejects %s as a string that is not a date-time', (_label, date) => {
      expect(check({ ...valid, date })).toEqual([{ pointer: '/body/date', message: 'must match format "date-time"' }]);
    });
  });

  describe('attributes and globalContext', () => {
    it('accepts nested values (they are sent as JSON strings) and nulls', () => {
      expect(check({ ...valid, attributes: { a: { b: 1 }, c: [1], d: null } })).toEqual([]);
    });

    it(`accepts ${MAX_ATTRIBUTES} keys and rejects more`, () => {
      const bag = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
      expect(check({ ...valid, attributes: bag(MAX_ATTRIBUTES) })).toEqual([]);
      expect(check({ ...valid, attributes: bag(MAX_ATTRIBUTES + 1) })).toEqual([
        { pointer: '/body/attributes', message: 'must NOT have more than 50 properties' },
      ]);
      expect(pointers(check({ ...valid, globalContext: bag(MAX_ATTRIBUTES + 1) }))).toEqual(['/body/globalContext']);
    });

    it('rejects empty keys and keys over 1024 characters', () => {
      expect(check({ ...valid, attributes: { ['k'.repeat(1024)]: 1 } })).toEqual([]);
      expect(check({ ...valid, attributes: { '': 1 } })).toEqual([
        { pointer: '/body/attributes/', message: 'key must NOT have fewer than 1 characters' },
      ]);
      expect(pointers(check({ ...valid, attributes: { ['k'.repeat(1025)]: 1 } }))).toEqual([`/body/attributes/${'k'.repeat(1025)}`]);
    });

    it('rejects a "__proto__" key, which JavaScript would drop without a word', () => {
      for (const bag of ['attributes', 'globalContext']) {
        const body = JSON.parse(`{"eventName":"Signup","identifyId":"u-1","propertyKey":"AP-1","${bag}":{"__proto__":{"x":1},"ok":1}}`);
        expect(check(body)).toEqual([{ pointer: `/body/${bag}/__proto__`, message: 'key must not be "__proto__"' }]);
      }
    });
  });

  it('carries descriptions and examples for docs and tools', () => {
    const schema = customEventSchema({ propertyKeyRequired: true });
    expect(schema.title).toBe('CustomEvent');
    expect(schema.additionalProperties).toBe(false);
    for (const [name, property] of Object.entries(schema.properties as Record<string, JsonSchema>)) {
      expect(property.description, name).toEqual(expect.any(String));
    }
    expect(compile(schema)((schema.examples as unknown[])[0])).toEqual([]);
  });
});

describe('property bag values (any JSON value, a shape every tool client keeps)', () => {
  it('accepts scalars, null, objects and arrays (nested ones too)', () => {
    expect(
      check({ ...valid, attributes: { s: 'x', n: 1.5, b: true, z: null, o: { a: 1 }, l: [1, 'a', { b: 2 }, null], m: [[1, 2]] } }),
    ).toEqual([]);
  });

  it('declares values as `additionalProperties: true`: no union for a client to flatten, no type array, no untyped schema', () => {
    const schema = customEventSchema({ propertyKeyRequired: true });
    for (const bag of ['attributes', 'globalContext']) {
      expect((schema.properties as Record<string, JsonSchema>)[bag]?.additionalProperties, bag).toBe(true);
    }
  });

  it('has no `default` that code generators would turn into a required property', () => {
    expect(JSON.stringify(customEventSchema({ propertyKeyRequired: true }))).not.toContain('"default"');
  });
});
