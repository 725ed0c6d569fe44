import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type PxSandboxOptions, pxSandbox, type RunningPxSandbox, startPxSandbox } from './px-sandbox.ts';

const KEY = 'write-key';
const READ_ONLY_KEY = 'read-key';
const event = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1', userType: 'USER' };

const running: RunningPxSandbox[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(running.splice(0).map((sandbox) => sandbox.close()));
});

async function start(options: PxSandboxOptions = {}): Promise<RunningPxSandbox> {
  const sandbox = await startPxSandbox({ host: '127.0.0.1', port: 0, apiKeys: [KEY], readOnlyKeys: [READ_ONLY_KEY], ...options });
  running.push(sandbox);
  return sandbox;
}

/** The sandbox root (`http://127.0.0.1:port`), from its `/v1` base URL. */
const root = (sandbox: RunningPxSandbox) => sandbox.baseUrl.replace(/\/v1$/, '');

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: unknown;
}

async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

interface PostOptions {
  readonly key?: string | null;
  readonly contentType?: string | null;
  readonly raw?: string | Uint8Array;
  readonly path?: string;
}

async function post(sandbox: RunningPxSandbox, body: unknown, options: PostOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  const key = options.key === undefined ? KEY : options.key;
  if (key !== null) headers['X-APTRINSIC-API-KEY'] = key;
  const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  const payload = options.raw ?? JSON.stringify(body);
  const response = await fetch(`${root(sandbox)}${options.path ?? '/v1/events/custom'}`, {
    method: 'POST',
    headers,
    body: typeof payload === 'string' ? payload : new Blob([payload]),
  });
  return answer(response);
}

async function get(sandbox: RunningPxSandbox, query = '', key: string | null = KEY, path = '/v1/events/custom'): Promise<Answer> {
  const headers: Record<string, string> = key === null ? {} : { 'X-APTRINSIC-API-KEY': key };
  return answer(await fetch(`${root(sandbox)}${path}${query}`, { headers }));
}

interface Page {
  readonly customEvents: Record<string, unknown>[];
  readonly totalHits: number;
  readonly scrollId?: string;
}

async function page(sandbox: RunningPxSandbox, query = ''): Promise<Page> {
  const result = await get(sandbox, query);
  expect(result.status, result.text).toBe(200);
  return result.json as Page;
}

const apiError = (status: string, subErrors: unknown[] = []) => ({
  externalapierror: { status, message: expect.any(String), debugMessage: null, subErrors },
});

describe('PX sandbox: POST /v1/events/custom', () => {
  it('answers 201 with an empty body, stores the event and returns it from GET', async () => {
    const sandbox = await start();
    const sent = { ...event, date: 1764151200000, attributes: { plan: 'pro', seats: 5, trial: false } };
    const result = await post(sandbox, sent);
    expect(result.status).toBe(201);
    expect(result.text).toBe('');
    expect(sandbox.events).toEqual([sent]);

    const read = await get(sandbox);
    expect(read.status).toBe(200);
    expect(read.headers.get('content-type')).toMatch(/^application\/json/);
    expect(read.json).toEqual({ customEvents: [sent], totalHits: 1 });
  });

  it('stamps the receive time on an event without a date', async () => {
    const sandbox = await start();
    const before = Date.now();
    expect((await post(sandbox, event)).status).toBe(201);
    const after = Date.now();
    const stored = sandbox.events[0]?.date;
    expect(stored).toEqual(expect.any(Number));
    expect(stored as number).toBeGreaterThanOrEqual(before);
    expect(stored as number).toBeLessThanOrEqual(after);
  });

  it('records every request with the headers PX would see, valid or not', async () => {
    const sandbox = await start();
    await post(sandbox, event);
    await post(sandbox, { eventName: 'x' }, { key: 'nope' });
    expect(sandbox.requests).toHaveLength(2);
    expect(sandbox.requests[0]?.headers['x-aptrinsic-api-key']).toBe(KEY);
    expect(JSON.parse(sandbox.requests[0]?.body ?? '')).toEqual(event);
    expect(sandbox.requests[1]?.headers['x-aptrinsic-api-key']).toBe('nope');
    expect(sandbox.events).toHaveLength(1);
  });

  it('ignores unknown top-level fields, as PX does', async () => {
    const sandbox = await start();
    expect((await post(sandbox, { ...event, somethingElse: 1 })).status).toBe(201);
  });

  it('records a repeated POST twice (there is no idempotency key)', async () => {
    const sandbox = await start();
    await post(sandbox, event);
    await post(sandbox, event);
    expect(sandbox.events).toHaveLength(2);
  });

  it.each(['application/json; charset=utf-8', 'application/vnd.api+json', 'APPLICATION/JSON'])(
    'accepts content type %s',
    async (contentType) => {
      const sandbox = await start();
      expect((await post(sandbox, event, { contentType })).status).toBe(201);
    },
  );

  describe('authentication', () => {
    it('answers 401 without a key and stores nothing', async () => {
      const sandbox = await start();
      const result = await post(sandbox, event, { key: null });
      expect(result.status).toBe(401);
      expect(result.json).toEqual(apiError('UNAUTHORIZED'));
      expect(sandbox.events).toEqual([]);
    });

    it('answers 401 for an unknown key, before looking at the body', async () => {
      const sandbox = await start();
      expect((await post(sandbox, event, { key: 'not-a-key' })).status).toBe(401);
      expect((await post(sandbox, { not: 'valid' }, { key: 'not-a-key' })).status).toBe(401);
      expect(sandbox.events).toEqual([]);
    });

    it('answers 403 for a read-only key on POST but lets it read', async () => {
      const sandbox = await start();
      await post(sandbox, event);
      const denied = await post(sandbox, { ...event, eventName: 'Other' }, { key: READ_ONLY_KEY });
      expect(denied.status).toBe(403);
      expect(denied.json).toEqual(apiError('FORBIDDEN'));
      expect(sandbox.events).toHaveLength(1);

      const read = await get(sandbox, '', READ_ONLY_KEY);
      expect(read.status).toBe(200);
      expect((read.json as Page).customEvents.map((e) => e.eventName)).toEqual(['Signup']);
    });

    it('GET needs a key too', async () => {
      const sandbox = await start();
      expect((await get(sandbox, '', null)).status).toBe(401);
      expect((await get(sandbox, '', 'not-a-key')).status).toBe(401);
    });

    it('without configured keys, accepts only the random key it reports', async () => {
      const sandbox = await startPxSandbox({ host: '127.0.0.1', port: 0 });
      running.push(sandbox);
      expect(sandbox.apiKey).toMatch(/^sandbox-[0-9a-f]{24}$/);
      expect((await post(sandbox, event, { key: sandbox.apiKey })).status).toBe(201);
      expect((await post(sandbox, event, { key: 'sandbox-key' })).status).toBe(401);
    });

    it('reports its first configured key', async () => {
      const sandbox = await start({ apiKeys: ['k1', 'k2'] });
      expect(sandbox.apiKey).toBe('k1');
      expect((await post(sandbox, event, { key: 'k2' })).status).toBe(201);
    });
  });

  describe('validation (400 with the externalapierror body)', () => {
    it.each([
      [
        'a missing eventName',
        { ...event, eventName: undefined },
        [{ field: 'eventName', rejectedValue: null, message: 'must not be null' }],
      ],
      ['a missing userType', { ...event, userType: undefined }, [{ field: 'userType', rejectedValue: null, message: 'must not be null' }]],
      ['an empty propertyKey', { ...event, propertyKey: '' }, [{ field: 'propertyKey', rejectedValue: '', message: 'must not be null' }]],
      ['a numeric identifyId', { ...event, identifyId: 42 }, [{ field: 'identifyId', rejectedValue: 42, message: 'must be a string' }]],
      ['a numeric accountId', { ...event, accountId: 7 }, [{ field: 'accountId', rejectedValue: 7, message: 'must be a string' }]],
      [
        'an unknown userType',
        { ...event, userType: 'ADMIN' },
        [{ field: 'userType', rejectedValue: 'ADMIN', message: 'must be one of USER, LEAD, VISITOR, EMPTY_USER_TYPE' }],
      ],
      ['a fractional date', { ...event, date: 1.5 }, [{ field: 'date', rejectedValue: 1.5, message: expect.stringContaining('integer') }]],
      [
        'an ISO date (PX wants epoch ms)',
        { ...event, date: '2026-11-26T10:00:00Z' },
        [{ field: 'date', rejectedValue: '2026-11-26T10:00:00Z', message: expect.stringContaining('integer') }],
      ],
      [
        'a nested attribute value',
        { ...event, attributes: { ok: 'yes', plan: { tier: 'pro' } } },
        [{ field: 'attributes.plan', rejectedValue: { tier: 'pro' }, message: 'must be a string, number or boolean' }],
      ],
      [
        'an array in globalContext',
        { ...event, globalContext: { tags: ['a'] } },
        [{ field: 'globalContext.tags', rejectedValue: ['a'], message: 'must be a string, number or boolean' }],
      ],
      [
        'attributes that are not an object',
        { ...event, attributes: 'plan=pro' },
        [{ field: 'attributes', rejectedValue: 'plan=pro', message: 'must be an object' }],
      ],
      [
        'more than 50 attributes',
        { ...event, attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) },
        [{ field: 'attributes', rejectedValue: 51, message: 'must have at most 50 keys' }],
      ],
      ['a JSON array', [event], [{ field: '', rejectedValue: [event], message: 'must be a JSON object' }]],
    ])('rejects %s', async (_label, body, subErrors) => {
      const sandbox = await start();
      const result = await post(sandbox, body);
      expect(result.status).toBe(400);
      expect(result.headers.get('content-type')).toMatch(/^application\/json/);
      expect(result.json).toEqual(apiError('BAD_REQUEST', subErrors));
      expect(sandbox.events).toEqual([]);
    });

    it('reports every violation at once', async () => {
      const sandbox = await start();
      const result = await post(sandbox, { userType: 'ADMIN', date: 'soon' });
      const fields = (result.json as { externalapierror: { subErrors: { field: string }[] } }).externalapierror.subErrors.map(
        (e) => e.field,
      );
      expect(fields.sort()).toEqual(['date', 'eventName', 'identifyId', 'propertyKey', 'userType']);
    });

    it('answers 400 for malformed JSON', async () => {
      const sandbox = await start();
      const result = await post(sandbox, undefined, { raw: '{"eventName": "Signup",' });
      expect(result.status).toBe(400);
      expect(result.json).toEqual({
        externalapierror: { status: 'BAD_REQUEST', message: 'Malformed JSON request', debugMessage: null, subErrors: [] },
      });
      expect(sandbox.events).toEqual([]);
    });

    it('answers 400 for an empty body', async () => {
      const sandbox = await start();
      expect((await post(sandbox, undefined, { raw: '' })).status).toBe(400);
    });

    it('answers 415 for a non-JSON content type', async () => {
      const sandbox = await start();
      const result = await post(sandbox, event, { contentType: 'text/plain' });
      expect(result.status).toBe(415);
      expect(result.json).toEqual(apiError('UNSUPPORTED_MEDIA_TYPE'));
      expect(sandbox.events).toEqual([]);
    });

    it('answers 415 without a content type', async () => {
      const sandbox = await start();
      const result = await post(sandbox, undefined, { contentType: null, raw: new TextEncoder().encode(JSON.stringify(event)) });
      expect(result.status).toBe(415);
    });

    it('answers 415 for look-alike content types', async () => {
      const sandbox = await start();
      expect((await post(sandbox, event, { contentType: 'application/jsonp' })).status).toBe(415);
      expect((await post(sandbox, event, { contentType: 'text/json' })).status).toBe(415);
    });

    it('answers 413 for a body over 1 MiB', async () => {
      const sandbox = await start();
      const big = JSON.stringify({ ...event, url: 'x'.repeat(1024 * 1024) });
      const result = await post(sandbox, undefined, { raw: big });
      expect(result.status).toBe(413);
      expect(result.json).toEqual(apiError('PAYLOAD_TOO_LARGE'));
      expect(sandbox.events).toEqual([]);
    });
  });

  describe('rate limit', () => {
    it('answers 429 with no body and no rate headers past ratePerSecond, and recovers the next second', async () => {
      // Freeze the clock the limiter reads so the three requests share one one-second window.
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-11-26T10:00:00.100Z'));
      const sandbox = await start({ ratePerSecond: 2 });
      const statuses = [];
      const limited: Answer[] = [];
      for (let i = 0; i < 3; i += 1) {
        const result = await post(sandbox, { ...event, eventName: `E${i}` });
        statuses.push(result.status);
        if (result.status === 429) limited.push(result);
      }
      expect(statuses).toEqual([201, 201, 429]);
      const [tooMany] = limited;
      expect(tooMany?.text).toBe('');
      expect(tooMany?.headers.get('content-type')).toBeNull();
      expect(tooMany?.headers.get('retry-after')).toBeNull();
      expect([...(tooMany?.headers.keys() ?? [])].filter((name) => /rate|retry/i.test(name))).toEqual([]);
      expect(sandbox.events.map((e) => e.eventName)).toEqual(['E0', 'E1']);

      vi.setSystemTime(new Date('2026-11-26T10:00:01.100Z'));
      expect((await post(sandbox, event)).status).toBe(201);
    });

    it('does not limit when ratePerSecond is 0', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-11-26T10:00:00.100Z'));
      const sandbox = await start({ ratePerSecond: 0 });
      const statuses = [];
      for (let i = 0; i < 5; i += 1) statuses.push((await post(sandbox, event)).status);
      expect(statuses).toEqual([201, 201, 201, 201, 201]);
    });
  });

  describe('faults', () => {
    it('plays scripted faults in order, then answers normally', async () => {
      const sandbox = await start();
      sandbox.script({ status: 503 }, { drop: true }, { delayMs: 200 });

      const unavailable = await post(sandbox, { ...event, eventName: 'first' });
      expect(unavailable.status).toBe(503);
      expect(unavailable.json).toEqual(apiError('SERVICE_UNAVAILABLE'));

      await expect(post(sandbox, { ...event, eventName: 'second' })).rejects.toThrow();

      const slow = await post(sandbox, { ...event, eventName: 'third' });
      expect(slow.status).toBe(201);
      expect(slow.text).toBe('');

      expect((await post(sandbox, { ...event, eventName: 'fourth' })).status).toBe(201);
      expect(sandbox.events.map((e) => e.eventName)).toEqual(['third', 'fourth']);
      expect(sandbox.requests.map((r) => JSON.parse(r.body).eventName)).toEqual(['first', 'second', 'third', 'fourth']);
    });

    it('sends a scripted body verbatim', async () => {
      const sandbox = await start();
      sandbox.script({ status: 500, body: '{"oops":true}' });
      const result = await post(sandbox, event);
      expect(result.status).toBe(500);
      expect(result.text).toBe('{"oops":true}');
    });

    it('fails every POST with errorRate 1, using the configured statuses', async () => {
      const sandbox = await start({ faults: { errorRate: 1, statuses: [502] } });
      for (let i = 0; i < 3; i += 1) {
        const result = await post(sandbox, event);
        expect(result.status).toBe(502);
        expect(result.json).toEqual(apiError('BAD_GATEWAY'));
      }
      expect(sandbox.events).toEqual([]);
      expect(sandbox.requests).toHaveLength(3);
    });

    it('draws from 500, 502 and 503 when no statuses are configured', async () => {
      const sandbox = await start({ faults: { errorRate: 1 } });
      for (let i = 0; i < 5; i += 1) expect([500, 502, 503]).toContain((await post(sandbox, event)).status);
    });

    it('drops every connection with dropRate 1', async () => {
      const sandbox = await start({ faults: { dropRate: 1 } });
      await expect(post(sandbox, event)).rejects.toThrow();
      expect(sandbox.events).toEqual([]);
      expect(sandbox.requests).toHaveLength(1);
    });

    it('still answers when every answer is delayed', async () => {
      const sandbox = await start({ faults: { delayMs: 50 } });
      expect((await post(sandbox, event)).status).toBe(201);
      expect(sandbox.events).toHaveLength(1);
    });

    it('does not inject faults into reads', async () => {
      const sandbox = await start({ faults: { errorRate: 1, dropRate: 1 } });
      expect((await get(sandbox)).status).toBe(200);
    });

    it('clear() forgets events, requests and pending scripted faults', async () => {
      const sandbox = await start();
      await post(sandbox, event);
      sandbox.script({ status: 500 });
      sandbox.clear();
      expect(sandbox.events).toEqual([]);
      expect(sandbox.requests).toEqual([]);
      expect((await post(sandbox, event)).status).toBe(201);
    });
  });
});

describe('PX sandbox: routes', () => {
  it('answers 404 for POST /v1/custom_events (the seed spec path PX does not have)', async () => {
    const sandbox = await start();
    const result = await post(sandbox, event, { path: '/v1/custom_events' });
    expect(result.status).toBe(404);
    expect(result.json).toEqual(apiError('NOT_FOUND'));
    expect(sandbox.events).toEqual([]);
    expect(sandbox.requests).toEqual([]);
  });

  it.each(['/events/custom', '/v1/events', '/v1/events/custom/extra', '/'])('answers 404 for %s', async (path) => {
    const sandbox = await start();
    expect((await post(sandbox, event, { path })).status).toBe(404);
  });

  it.each(['PUT', 'DELETE', 'PATCH'])('answers 405 with Allow for %s', async (method) => {
    const sandbox = await start();
    const response = await fetch(`${root(sandbox)}/v1/events/custom`, {
      method,
      headers: { 'X-APTRINSIC-API-KEY': KEY, 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    const result = await answer(response);
    expect(result.status).toBe(405);
    expect(result.headers.get('allow')).toBe('GET, POST');
    expect(result.json).toEqual(apiError('METHOD_NOT_ALLOWED'));
  });

  it('exposes its read route and base URL', async () => {
    const sandbox = await start();
    expect(sandbox.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(sandbox.readRoutes).toEqual(['/v1/events/custom']);
  });

  it('serves requests mounted on another server through handle()', async () => {
    const sandbox = await start();
    await post(sandbox, event);
    const mount: Server = createServer((request, response) => sandbox.handle(request, response));
    await new Promise<void>((resolve) => mount.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = mount.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/v1/events/custom`, { headers: { 'X-APTRINSIC-API-KEY': KEY } });
      expect(response.status).toBe(200);
      expect(((await response.json()) as Page).customEvents).toEqual([expect.objectContaining({ eventName: 'Signup' })]);
    } finally {
      await new Promise<void>((resolve) => mount.close(() => resolve()));
    }
  });

  it('starts through the plugin sandbox factory', async () => {
    const sandbox = (await pxSandbox.start({ host: '127.0.0.1', port: 0 })) as RunningPxSandbox;
    running.push(sandbox);
    expect((await post(sandbox, event, { key: sandbox.apiKey })).status).toBe(201);
  });

  it('close() resolves and the port stops answering', async () => {
    const sandbox = await startPxSandbox({ host: '127.0.0.1', port: 0, apiKeys: [KEY] });
    const url = `${root(sandbox)}/v1/events/custom`;
    expect((await fetch(url, { headers: { 'X-APTRINSIC-API-KEY': KEY } })).status).toBe(200);
    await sandbox.close();
    await expect(fetch(url, { headers: { 'X-APTRINSIC-API-KEY': KEY } })).rejects.toThrow();
  });
});

describe('PX sandbox: GET /v1/events/custom', () => {
  async function seed(sandbox: RunningPxSandbox, events: Record<string, unknown>[]): Promise<void> {
    for (const e of events) expect((await post(sandbox, { ...event, ...e })).status).toBe(201);
  }

  it('answers an empty page when nothing was sent', async () => {
    const sandbox = await start();
    expect(await page(sandbox)).toEqual({ customEvents: [], totalHits: 0 });
  });

  it('pages with pageSize and scrollId, newest first, until there is no scrollId', async () => {
    const sandbox = await start();
    await seed(
      sandbox,
      [1, 2, 3, 4, 5].map((n) => ({ eventName: `E${n}`, date: n * 1000 })),
    );

    const first = await page(sandbox, '?pageSize=2');
    expect(first.customEvents.map((e) => e.eventName)).toEqual(['E5', 'E4']);
    expect(first.totalHits).toBe(5);
    expect(first.scrollId).toEqual(expect.any(String));

    const second = await page(sandbox, `?pageSize=2&scrollId=${first.scrollId}`);
    expect(second.customEvents.map((e) => e.eventName)).toEqual(['E3', 'E2']);
    expect(second.totalHits).toBe(5);

    const last = await page(sandbox, `?pageSize=2&scrollId=${second.scrollId}`);
    expect(last.customEvents.map((e) => e.eventName)).toEqual(['E1']);
    expect(last).not.toHaveProperty('scrollId');
  });

  it('defaults to pages of 25', async () => {
    const sandbox = await start();
    await seed(
      sandbox,
      Array.from({ length: 26 }, (_, i) => ({ eventName: `E${i}` })),
    );
    const first = await page(sandbox);
    expect(first.customEvents).toHaveLength(25);
    expect(first.totalHits).toBe(26);
    expect((await page(sandbox, `?scrollId=${first.scrollId}`)).customEvents).toHaveLength(1);
  });

  it.each(['0', '1001', '2.5', 'ten', ''])('answers 400 for pageSize=%j', async (pageSize) => {
    const sandbox = await start();
    const result = await get(sandbox, `?pageSize=${pageSize}`);
    expect(result.status).toBe(400);
    expect(result.json).toEqual(apiError('BAD_REQUEST'));
  });

  it.each(['garbage!', Buffer.from('-1').toString('base64url'), Buffer.from('1.5').toString('base64url')])(
    'answers 400 for a scrollId it never handed out (%s)',
    async (scrollId) => {
      const sandbox = await start();
      await seed(sandbox, [{ eventName: 'E1' }]);
      expect((await get(sandbox, `?scrollId=${encodeURIComponent(scrollId)}`)).status).toBe(400);
    },
  );

  it('filters with filter=field==value;field==value', async () => {
    const sandbox = await start();
    await seed(sandbox, [
      { eventName: 'Signup', identifyId: 'u-1' },
      { eventName: 'Signup', identifyId: 'u-2' },
      { eventName: 'Login', identifyId: 'u-1' },
    ]);
    const both = await page(sandbox, `?filter=${encodeURIComponent('eventName==Signup;identifyId==u-1')}`);
    expect(both.totalHits).toBe(1);
    expect(both.customEvents).toEqual([expect.objectContaining({ eventName: 'Signup', identifyId: 'u-1' })]);

    const byName = await page(sandbox, `?filter=${encodeURIComponent('eventName==Signup')}`);
    expect(byName.customEvents.map((e) => e.identifyId).sort()).toEqual(['u-1', 'u-2']);

    expect((await page(sandbox, `?filter=${encodeURIComponent('eventName==Nothing')}`)).totalHits).toBe(0);
  });

  it('filters with plain identifyId, eventName and accountId parameters', async () => {
    const sandbox = await start();
    await seed(sandbox, [
      { eventName: 'Signup', identifyId: 'u-1', accountId: 'a-1' },
      { eventName: 'Login', identifyId: 'u-1', accountId: 'a-2' },
      { eventName: 'Login', identifyId: 'u-2', accountId: 'a-2' },
    ]);
    expect((await page(sandbox, '?identifyId=u-1')).totalHits).toBe(2);
    expect((await page(sandbox, '?eventName=Login&identifyId=u-2')).totalHits).toBe(1);
    expect((await page(sandbox, '?accountId=a-2')).customEvents.map((e) => e.identifyId).sort()).toEqual(['u-1', 'u-2']);
  });

  it('filters by dateRangeStart and dateRangeEnd, inclusive', async () => {
    const sandbox = await start();
    await seed(
      sandbox,
      [1000, 2000, 3000, 4000].map((date) => ({ eventName: `at${date}`, date })),
    );
    const range = await page(sandbox, '?dateRangeStart=2000&dateRangeEnd=3000&sort=date');
    expect(range.customEvents.map((e) => e.date)).toEqual([2000, 3000]);
    expect(range.totalHits).toBe(2);
    expect((await page(sandbox, '?dateRangeStart=3500')).customEvents.map((e) => e.date)).toEqual([4000]);
  });

  it('sorts by event date, not by arrival: sort=date oldest first, default and -date newest first', async () => {
    const sandbox = await start();
    await seed(sandbox, [
      { eventName: 'middle', date: 2000 },
      { eventName: 'latest', date: 3000 },
      { eventName: 'earliest', date: 1000 },
    ]);
    const names = async (query: string) => (await page(sandbox, query)).customEvents.map((e) => e.eventName);
    expect(await names('?sort=date')).toEqual(['earliest', 'middle', 'latest']);
    expect(await names('?sort=date,asc')).toEqual(['earliest', 'middle', 'latest']);
    expect(await names('')).toEqual(['latest', 'middle', 'earliest']);
    expect(await names('?sort=-date')).toEqual(['latest', 'middle', 'earliest']);
    expect(await names('?sort=date,desc')).toEqual(['latest', 'middle', 'earliest']);
  });

  it('keeps arrival order between events with the same date', async () => {
    const sandbox = await start();
    await seed(
      sandbox,
      ['a', 'b', 'c'].map((eventName) => ({ eventName, date: 5000 })),
    );
    expect((await page(sandbox, '?sort=date')).customEvents.map((e) => e.eventName)).toEqual(['a', 'b', 'c']);
    expect((await page(sandbox)).customEvents.map((e) => e.eventName)).toEqual(['c', 'b', 'a']);
  });

  it('pages consistently through a sorted, filtered result', async () => {
    const sandbox = await start();
    await seed(sandbox, [
      { eventName: 'X', date: 3000 },
      { eventName: 'Y', date: 1500 },
      { eventName: 'X', date: 1000 },
      { eventName: 'X', date: 2000 },
    ]);
    const query = `?sort=date&pageSize=2&filter=${encodeURIComponent('eventName==X')}`;
    const first = await page(sandbox, query);
    const second = await page(sandbox, `${query}&scrollId=${first.scrollId}`);
    expect([...first.customEvents, ...second.customEvents].map((e) => e.date)).toEqual([1000, 2000, 3000]);
    expect(second).not.toHaveProperty('scrollId');
  });

  it('answers 400 for an unknown sort', async () => {
    const sandbox = await start();
    expect((await get(sandbox, '?sort=eventName')).status).toBe(400);
  });
});

describe('PX sandbox: maxStoredEvents', () => {
  it('forgets the oldest events and requests past the limit', async () => {
    const sandbox = await start({ maxStoredEvents: 3 });
    for (let i = 0; i < 5; i += 1) expect((await post(sandbox, { ...event, eventName: `E${i}` })).status).toBe(201);
    expect(sandbox.events.map((e) => e.eventName)).toEqual(['E2', 'E3', 'E4']);
    expect(sandbox.requests).toHaveLength(3);
    const read = await page(sandbox, '?sort=date');
    expect(read.totalHits).toBe(3);
    expect(read.customEvents.map((e) => e.eventName)).toEqual(['E2', 'E3', 'E4']);
  });

  it('keeps exactly one event with a limit of 1', async () => {
    const sandbox = await start({ maxStoredEvents: 1 });
    await post(sandbox, { ...event, eventName: 'A' });
    await post(sandbox, { ...event, eventName: 'B' });
    expect(sandbox.events.map((e) => e.eventName)).toEqual(['B']);
  });

  it('keeps nothing with a limit of 0, yet still accepts', async () => {
    const sandbox = await start({ maxStoredEvents: 0 });
    expect((await post(sandbox, event)).status).toBe(201);
    expect(sandbox.events).toEqual([]);
    expect(sandbox.requests).toEqual([]);
  });
});
