import { createSchemaCompiler, InputError } from '@gateway/core';
import { describe, expect, it } from 'vitest';
import { EARLIEST_EVENT_DATE_MS, EVENT_DATE_LEEWAY_MS } from './custom-event-schema.ts';
import { gainsightPxPlugin } from './index.ts';
import { pxSchemaViolations } from './sandbox/px-validation.ts';
import { type CustomEventInput, shapeCustomEvent } from './shape-custom-event.ts';

const base: CustomEventInput = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' };

function inputErrorOf(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}

describe('shapeCustomEvent', () => {
  it('defaults userType to USER and keeps the given fields', () => {
    expect(shapeCustomEvent(base, {})).toEqual({ eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1', userType: 'USER' });
  });

  it('keeps an explicit userType', () => {
    expect(shapeCustomEvent({ ...base, userType: 'VISITOR' }, {}).userType).toBe('VISITOR');
  });

  it('uses the default product key only when the event has none', () => {
    const { propertyKey: _omitted, ...noKey } = base;
    expect(shapeCustomEvent(noKey, { propertyKey: 'AP-DEFAULT-1' }).propertyKey).toBe('AP-DEFAULT-1');
    expect(shapeCustomEvent(base, { propertyKey: 'AP-DEFAULT-1' }).propertyKey).toBe('AP-TEST-1');
  });

  it('throws an InputError pointing at /body/propertyKey when there is no key and no default', () => {
    const { propertyKey: _omitted, ...noKey } = base;
    const error = inputErrorOf(() => shapeCustomEvent(noKey, {}));
    expect(error.problems).toEqual([
      { pointer: '/body/propertyKey', message: 'is required: no default product key (GAINSIGHT_PX_PRODUCT_KEY) is configured' },
    ]);
    expect(error.message).toContain('/body/propertyKey');
  });

  describe('date', () => {
    it('passes epoch milliseconds through, from 2000-01-01 to a day from now', () => {
      expect(shapeCustomEvent({ ...base, date: 1764151200000 }, {}).date).toBe(1764151200000);
      expect(shapeCustomEvent({ ...base, date: EARLIEST_EVENT_DATE_MS }, {}).date).toBe(EARLIEST_EVENT_DATE_MS);
      const tomorrow = Date.now() + EVENT_DATE_LEEWAY_MS - 60_000;
      expect(shapeCustomEvent({ ...base, date: tomorrow }, {}).date).toBe(tomorrow);
    });

    it('rejects a date in seconds, saying what it means as milliseconds and what to send instead', () => {
      const [problem] = inputErrorOf(() => shapeCustomEvent({ ...base, date: 1700000000 }, {})).problems;
      expect(problem?.pointer).toBe('/body/date');
      expect(problem?.message).toMatch(/^must be from 2000-01-01T00:00:00Z to 24 hours from now: epoch milliseconds 946684800000 to \d+/);
      expect(problem?.message).toContain('1700000000 milliseconds is 1970-01-20T16:13:20Z; if it is in seconds, send 1700000000000');
    });

    it.each([
      ['zero', 0, /0 milliseconds is 1970-01-01T00:00:00Z\)/],
      ['beyond 2^53', 2 ** 53 + 2, /is beyond 2\^53, so not an exact integer/],
      ['1e300', 1e300, /is beyond 2\^53/],
      ['past the last JavaScript date', 9e15, /past the last date JavaScript can represent/],
      ['two days ahead', Date.now() + 2 * EVENT_DATE_LEEWAY_MS, /milliseconds is \d{4}-/],
      ['an ISO date before 2000', '1999-12-31T23:59:59Z', /\(1999-12-31T23:59:59Z is outside it\)/],
      ['an ISO date two days ahead', new Date(Date.now() + 2 * EVENT_DATE_LEEWAY_MS).toISOString(), /is outside it/],
    ])('rejects %s with the range and the unit', (_label, date, detail) => {
      const [problem] = inputErrorOf(() => shapeCustomEvent({ ...base, date }, {})).problems;
      expect(problem?.pointer).toBe('/body/date');
      expect(problem?.message).toMatch(/^must be from 2000-01-01T00:00:00Z to 24 hours from now/);
      expect(problem?.message).toMatch(detail);
    });

    it('converts ISO-8601 date-times to epoch milliseconds', () => {
      expect(shapeCustomEvent({ ...base, date: '2026-11-26T10:00:00Z' }, {}).date).toBe(Date.UTC(2026, 10, 26, 10, 0, 0));
      expect(shapeCustomEvent({ ...base, date: '2026-11-26T11:00:00.250+01:00' }, {}).date).toBe(Date.UTC(2026, 10, 26, 10, 0, 0, 250));
    });

    it('leaves date out when not given (PX uses the time it receives it)', () => {
      expect(shapeCustomEvent(base, {})).not.toHaveProperty('date');
    });

    it('rejects an unparseable date string with an InputError at /body/date', () => {
      const error = inputErrorOf(() => shapeCustomEvent({ ...base, date: 'not a date' }, {}));
      expect(error.problems).toEqual([{ pointer: '/body/date', message: 'is not a valid ISO-8601 date-time' }]);
    });

    it('rejects an ISO date before the epoch', () => {
      const error = inputErrorOf(() => shapeCustomEvent({ ...base, date: '1969-12-31T23:59:59Z' }, {}));
      expect(error.problems[0]?.message).toMatch(/\(1969-12-31T23:59:59Z is outside it\)$/);
    });
  });

  describe('attributes and globalContext', () => {
    it('keeps scalars, JSON-stringifies objects and arrays and drops nulls', () => {
      const shaped = shapeCustomEvent(
        {
          ...base,
          attributes: {
            plan: 'pro',
            seats: 5,
            trial: false,
            zero: 0,
            empty: '',
            limits: { max: 3, tags: ['a'] },
            list: [1, 'two'],
            gone: null,
          },
          globalContext: { appVersion: '2.3.1', build: { n: 7 }, none: null },
        },
        {},
      );
      expect(shaped.attributes).toEqual({
        plan: 'pro',
        seats: 5,
        trial: false,
        zero: 0,
        empty: '',
        limits: '{"max":3,"tags":["a"]}',
        list: '[1,"two"]',
      });
      expect(shaped.globalContext).toEqual({ appVersion: '2.3.1', build: '{"n":7}' });
    });

    it('leaves the bags out when not given', () => {
      const shaped = shapeCustomEvent(base, {});
      expect(shaped).not.toHaveProperty('attributes');
      expect(shaped).not.toHaveProperty('globalContext');
    });

    it('does not modify the caller’s event', () => {
      const event: CustomEventInput = { ...base, date: '2026-11-26T10:00:00Z', attributes: { a: { b: 1 }, c: null } };
      const copy = structuredClone(event);
      shapeCustomEvent(event, {});
      expect(event).toEqual(copy);
    });
  });

  it('passes the optional context fields through unchanged', () => {
    const context = {
      accountId: 'acme',
      sessionId: 's-1',
      url: 'https://app.example.com/x',
      referrer: 'https://www.example.com/',
      remoteHost: '203.0.113.7',
    };
    expect(shapeCustomEvent({ ...base, ...context }, {})).toEqual({ ...base, ...context, userType: 'USER' });
  });

  it('turns any schema-valid input into a body PX accepts', () => {
    const validate = createSchemaCompiler()(customEventInputSchema());
    const inputs: CustomEventInput[] = [
      { eventName: 'A', identifyId: 'u' },
      { eventName: 'B', identifyId: 'u', date: '2026-01-01T00:00:00Z', attributes: { n: { deep: [1] }, z: null, s: 's' } },
      { eventName: 'C', identifyId: 'u', userType: 'EMPTY_USER_TYPE', globalContext: { v: [1, 2] }, date: 1764151200000 },
    ];
    for (const body of inputs) {
      expect(validate({ body })).toEqual([]);
      expect(pxSchemaViolations(shapeCustomEvent(body, { propertyKey: 'AP-DEFAULT-1' }))).toEqual([]);
    }
  });
});

describe('sendCustomEvent toRequest', () => {
  const settings = { baseUrl: 'http://127.0.0.1:1/v1', apiKey: { source: 'GAINSIGHT_API_KEY', value: 'k' } };

  it('POSTs the shaped event to /events/custom with the configured default key', () => {
    const operation = gainsightPxPlugin({ ...settings, productKey: 'AP-DEFAULT-1' }).operations[0];
    const request = operation?.upstream.toRequest?.(
      { body: { eventName: 'Signup', identifyId: 'u-1' } },
      { requestId: 'r-1', delivery: 'direct', receivedAt: 0 },
    );
    // Only the body: the method and path are the descriptor's upstream ones (POST /events/custom).
    expect(operation?.upstream).toMatchObject({ method: 'POST', path: '/events/custom' });
    expect(request).toEqual({ body: { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-DEFAULT-1', userType: 'USER' } });
  });

  it('dates an undated event with its acceptance time when it is queued, and leaves a given date alone', () => {
    const operation = gainsightPxPlugin({ ...settings, productKey: 'AP-DEFAULT-1' }).operations[0];
    const queued = { requestId: 'r-1', delivery: 'queued', receivedAt: 1_764_000_000_000 } as const;
    expect(operation?.upstream.toRequest?.({ body: { eventName: 'Signup', identifyId: 'u-1' } }, queued)?.body).toMatchObject({
      date: 1_764_000_000_000,
    });
    const dated = { eventName: 'Signup', identifyId: 'u-1', date: '2026-01-02T03:04:05Z' };
    expect(operation?.upstream.toRequest?.({ body: dated }, queued)?.body).toMatchObject({ date: Date.parse('2026-01-02T03:04:05Z') });
  });

  it('throws an InputError when no key is given or configured', () => {
    const operation = gainsightPxPlugin({ ...settings, productKey: undefined }).operations[0];
    const error = inputErrorOf(() =>
      operation?.upstream.toRequest?.(
        { body: { eventName: 'Signup', identifyId: 'u-1' } },
        { requestId: 'r-1', delivery: 'direct', receivedAt: 0 },
      ),
    );
    expect(error.problems[0]?.pointer).toBe('/body/propertyKey');
  });
});

function customEventInputSchema() {
  const operation = gainsightPxPlugin({
    baseUrl: 'http://127.0.0.1:1/v1',
    apiKey: { source: 'GAINSIGHT_API_KEY', value: 'k' },
    productKey: 'AP-DEFAULT-1',
  }).operations[0];
  if (!operation) throw new Error('the plugin has no operation');
  return operation.input;
}
