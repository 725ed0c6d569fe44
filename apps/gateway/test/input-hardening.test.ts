import { gzipSync } from 'node:zlib';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';
import { liveEnvironment, startTestGateway, TEST_PX_KEY, type TestGateway } from './support/test-gateway.ts';

const TOOL = 'gainsight-send-custom-event';
const EVENT = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' };

type TextResult = { content: { type: string; text: string }[]; isError?: boolean };

/** `levels` objects, each the only value of the one before: nested(1) is `{}`, nested(2) is `{"a":{}}`. */
function nested(levels: number): Record<string, unknown> {
  return JSON.parse(nestedJson(levels, '{"a":', '{}', '}'));
}

/** The JSON text of `levels` nested containers; written out, since JSON.stringify overflows on 10,000 levels too. */
function nestedJson(levels: number, open: string, innermost: string, close: string): string {
  return open.repeat(levels - 1) + innermost + close.repeat(levels - 1);
}

const eventWithAttribute = (name: string, json: string) =>
  `{"eventName":"Signup","identifyId":"u-1","propertyKey":"AP-TEST-1","attributes":{"${name}":${json}}}`;

/** Input the gateway must refuse before anything recursive or unbounded runs: deep nesting, huge error lists, lossy keys, corrupt encodings, implausible dates. */
describe('input hardening (issue 11: 7, 8, 10), REST and MCP, live against a loopback upstream', () => {
  let upstream: CaptureServer;
  let gateway: TestGateway;
  let mcp: Client;
  const printed: string[] = [];

  beforeAll(async () => {
    upstream = await startCaptureServer();
    gateway = await startTestGateway(liveEnvironment(upstream.url, { UPSTREAM_RETRIES: '0', BODY_LIMIT: String(2 * 1024 * 1024) }));
    mcp = new Client({ name: 'input-hardening-test', version: '1.0.0' });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(gateway.mcpUrl)));
  });
  afterEach(() => {
    upstream.requests.length = 0;
  });
  afterAll(async () => {
    await mcp?.close();
    await gateway?.close();
    await upstream?.close();
    expect([...(gateway?.logs ?? []), ...printed].join('\n')).not.toContain(TEST_PX_KEY);
  });

  const post = async (body: string | Buffer, headers: Record<string, string> = {}) => {
    const response = await fetch(`${gateway.restUrl}/v1/custom-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    const text = await response.text();
    printed.push(text);
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      text,
      json: text ? (JSON.parse(text) as Record<string, any>) : undefined,
    };
  };
  const send = (body: unknown) => post(JSON.stringify(body));
  const call = async (args: Record<string, unknown>) => {
    const result = (await mcp.callTool({ name: TOOL, arguments: args })) as TextResult;
    const text = result.content.map((c) => c.text).join('\n');
    printed.push(text);
    return { isError: result.isError, text };
  };

  describe('7: nesting depth', () => {
    it('REST: 10,000 nested objects in attributes are a 400 naming the pointer where the limit is passed; nothing is sent', async () => {
      const { status, type, json } = await post(eventWithAttribute('deep', nestedJson(10_000, '{"a":', '{}', '}')));
      expect(status).toBe(400);
      expect(type).toMatch(/^application\/problem\+json/);
      expect(json?.type).toBe('urn:gateway:problem:invalid-input');
      // The body is level 1, attributes 2, deep 3: the 33rd level is deep plus 30 "a" keys.
      expect(json?.errors).toEqual([
        { pointer: `/attributes/deep${'/a'.repeat(30)}`, detail: 'nests objects and arrays more than 32 levels deep' },
      ]);
      expect(upstream.requests).toHaveLength(0);
    });

    it('REST: arrays count as levels too', async () => {
      const { status, json } = await post(eventWithAttribute('list', nestedJson(10_000, '[', '[]', ']')));
      expect(status).toBe(400);
      expect(json?.errors?.[0]?.pointer).toBe(`/attributes/list${'/0'.repeat(30)}`);
      expect(upstream.requests).toHaveLength(0);
    });

    it('REST: 32 levels are accepted and sent (the nested value as a JSON string)', async () => {
      const { status } = await send({ ...EVENT, attributes: { deep: nested(30) } });
      expect(status).toBe(201);
      expect(JSON.parse(upstream.requests[0]?.body ?? '{}').attributes.deep).toBe(JSON.stringify(nested(30)));
      expect((await send({ ...EVENT, attributes: { deep: nested(31) } })).status).toBe(400);
    });

    it('MCP: the same input is a tool error naming the field, not "gateway failed"; nothing is sent', async () => {
      // Raw JSON-RPC: the SDK client's JSON.stringify cannot write 10,000 levels either.
      const arguments_ = `{"body":${eventWithAttribute('deep', nestedJson(10_000, '{"a":', '{}', '}'))}}`;
      const response = await fetch(gateway.mcpUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-06-18',
        },
        body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"${TOOL}","arguments":${arguments_}}}`,
      });
      const answer = await response.text();
      printed.push(answer);
      expect(response.status).toBe(200);
      const { result } = JSON.parse(answer) as { result: TextResult };
      const { isError } = result;
      const text = result.content.map((c) => c.text).join('\n');
      expect(isError).toBe(true);
      expect(text).toContain('nothing was sent upstream');
      expect(text).toContain(`- body.attributes.deep${'.a'.repeat(30)}: nests objects and arrays more than 32 levels deep`);
      expect(upstream.requests).toHaveLength(0);
    });
  });

  describe('8: error amplification', () => {
    const unknownFields = (count: number) => {
      const body: Record<string, unknown> = { ...EVENT };
      for (let i = 0; i < count; i++) body[`unknownField${i}`] = 1;
      return body;
    };

    it('REST: 60 unknown fields list the first 20 problems and count the other 40', async () => {
      const { status, json } = await send(unknownFields(60));
      expect(status).toBe(400);
      expect(json?.errors).toHaveLength(20);
      expect(json?.errors?.[0]).toEqual({ pointer: '/unknownField0', detail: 'is not a known field' });
      expect(json?.omittedErrors).toBe(40);
      expect(json?.detail).toMatch(/; and 40 more problems \(fix these first\)$/);
      expect(upstream.requests).toHaveLength(0);
    });

    it('REST: a 770 KB body with 60,000 unknown fields gets a small answer', async () => {
      const body = JSON.stringify(unknownFields(60_000));
      expect(body.length).toBeGreaterThan(700_000);
      const { status, text, json } = await post(body);
      expect(status).toBe(400);
      expect(text.length).toBeLessThan(4_000);
      expect(json?.errors).toEqual([
        {
          pointer: '/unknownField0',
          detail: 'is not a known field (only the first problem is reported: the input holds more than 10000 values)',
        },
      ]);
    });

    it('REST: 60,000 attribute values that each fail every alternative get a small answer (no list of 720,000 ajv errors)', async () => {
      const attributes: Record<string, unknown> = {};
      for (let i = 0; i < 60_000; i++) attributes[`k${i}`] = [[i]];
      const { status, text, json } = await send({ ...EVENT, attributes });
      expect(status).toBe(400);
      expect(text.length).toBeLessThan(4_000);
      expect(json?.errors).toHaveLength(1);
      expect(json?.errors?.[0]?.detail).toContain('only the first problem is reported');
      expect(upstream.requests).toHaveLength(0);
    });

    it('MCP: 60 unknown fields list 20 problems and say how many more there are', async () => {
      const { isError, text } = await call({ body: unknownFields(60) });
      expect(isError).toBe(true);
      expect(text.split('\n').filter((line) => line.startsWith('- body.'))).toHaveLength(20);
      expect(text).toContain('- and 40 more problems, not listed: fix these first');
      expect(upstream.requests).toHaveLength(0);
    });
  });

  describe('10: keys JavaScript cannot keep', () => {
    it.each(['attributes', 'globalContext'])(
      'REST: a "__proto__" key in %s is a 400 naming it, not a silently lighter event',
      async (bag) => {
        const { status, json } = await post(
          `{"eventName":"Signup","identifyId":"u-1","propertyKey":"AP-TEST-1","${bag}":{"__proto__":{"x":1},"plan":"pro"}}`,
        );
        expect(status).toBe(400);
        expect(json?.errors).toEqual([{ pointer: `/${bag}/__proto__`, detail: 'key must not be "__proto__"' }]);
        expect(upstream.requests).toHaveLength(0);
      },
    );

    it('REST: "constructor" and "prototype" keys are kept, as are "__proto__" keys inside a nested value', async () => {
      const { status } = await post(
        '{"eventName":"Signup","identifyId":"u-1","propertyKey":"AP-TEST-1","attributes":{"constructor":"c","prototype":"p","n":{"__proto__":1}}}',
      );
      expect(status).toBe(201);
      expect(JSON.parse(upstream.requests[0]?.body ?? '{}').attributes).toEqual({ constructor: 'c', prototype: 'p', n: '{"__proto__":1}' });
    });

    it('MCP: a "__proto__" key is a tool error naming it', async () => {
      const { isError, text } = await call(
        JSON.parse('{"body":{"eventName":"Signup","identifyId":"u-1","propertyKey":"AP-TEST-1","attributes":{"__proto__":"x"}}}'),
      );
      expect(isError).toBe(true);
      expect(text).toContain('- body.attributes.__proto__: key must not be "__proto__"');
      expect(upstream.requests).toHaveLength(0);
    });
  });

  describe('10: corrupt Content-Encoding', () => {
    it.each([
      ['gzip', Buffer.from('certainly not gzip')],
      ['gzip', gzipSync(JSON.stringify(EVENT)).subarray(0, 20)],
      ['deflate', Buffer.from('not deflate')],
      ['br', Buffer.from('not brotli at all')],
    ])('REST: a body that does not decode as %s is a 400 problem, not a 500', async (encoding, body) => {
      const { status, type, json } = await post(body, { 'content-encoding': encoding });
      expect(status).toBe(400);
      expect(type).toMatch(/^application\/problem\+json/);
      expect(json).toMatchObject({ type: 'urn:gateway:problem:malformed-body', status: 400 });
      expect(json?.detail).toContain(`Content-Encoding (${encoding})`);
      expect(upstream.requests).toHaveLength(0);
    });

    it('REST: a correctly gzipped body is still accepted', async () => {
      const { status } = await post(gzipSync(JSON.stringify(EVENT)), { 'content-encoding': 'gzip' });
      expect(status).toBe(201);
      expect(upstream.requests).toHaveLength(1);
    });

    it('MCP: a body that does not decode is a 400 JSON-RPC parse error, not a 500', async () => {
      const response = await fetch(gateway.mcpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-encoding': 'gzip' },
        body: Buffer.from('certainly not gzip'),
      });
      const text = await response.text();
      printed.push(text);
      expect(response.status).toBe(400);
      expect(JSON.parse(text)).toMatchObject({
        jsonrpc: '2.0',
        error: { code: -32700, message: expect.stringContaining('Content-Encoding') },
      });
    });
  });

  describe('10: implausible dates', () => {
    it.each([
      ['a date in seconds', 1700000000, 'if it is in seconds, send 1700000000000'],
      ['a date beyond 2^53', 2 ** 53 + 2, 'is beyond 2^53'],
      ['1e300', 1e300, 'is beyond 2^53'],
      ['zero', 0, '0 milliseconds is 1970-01-01T00:00:00Z'],
      ['an ISO date in 1999', '1999-12-31T23:59:59Z', '1999-12-31T23:59:59Z is outside it'],
      ['an ISO date in 2099', '2099-01-01T00:00:00Z', '2099-01-01T00:00:00Z is outside it'],
    ])('REST: %s is a 400 explaining the range and the unit; nothing is sent', async (_label, date, explanation) => {
      const { status, json } = await post(
        `{"eventName":"Signup","identifyId":"u-1","propertyKey":"AP-TEST-1","date":${JSON.stringify(date)}}`,
      );
      expect(status).toBe(400);
      expect(json?.errors?.[0]?.pointer).toBe('/date');
      expect(json?.errors?.[0]?.detail).toMatch(
        /^must be from 2000-01-01T00:00:00Z to 24 hours from now: epoch milliseconds 946684800000 to \d+, or an ISO-8601 date-time/,
      );
      expect(json?.errors?.[0]?.detail).toContain(explanation);
      expect(upstream.requests).toHaveLength(0);
    });

    it('REST: a recent date in milliseconds or ISO-8601 is sent as epoch milliseconds', async () => {
      const recent = Date.now() - 60_000;
      expect((await send({ ...EVENT, date: recent })).status).toBe(201);
      expect((await send({ ...EVENT, date: '2001-09-09T01:46:40Z' })).status).toBe(201);
      expect(upstream.requests.map((r) => JSON.parse(r.body).date)).toEqual([recent, 1_000_000_000_000]);
    });

    it('MCP: a date in seconds is a tool error explaining the unit', async () => {
      const { isError, text } = await call({ body: { ...EVENT, date: 1700000000 } });
      expect(isError).toBe(true);
      expect(text).toContain('body.date: must be from 2000-01-01T00:00:00Z to 24 hours from now');
      expect(text).toContain('if it is in seconds, send 1700000000000');
      expect(upstream.requests).toHaveLength(0);
    });
  });
});
