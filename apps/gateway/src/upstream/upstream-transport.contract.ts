import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import axios from 'axios';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type OutgoingCall, type UpstreamTransport, UpstreamTransportError } from './upstream-transport.ts';

/** Builds the transport under test; `ca`: the certificate authorities it trusts instead of Node's store. */
export type MakeTransport = (trust: { readonly ca?: Buffer }) => UpstreamTransport;

/**
 * Where the transports legitimately differ, each case named with what it does. None of them reaches the gateway's
 * own requests or PX's answers; they are malformed input at the edges, stated here so a change is still caught.
 */
export interface KnownDifferences {
  /**
   * A header value with characters HTTP/1.1 cannot carry (`€`): `refused` fails the call and sends nothing (undici);
   * `stripped` sends the value without them (axios's http adapter sanitises byte-string headers).
   */
  readonly unencodableHeaderValue: 'refused' | 'stripped';
  /**
   * A header node:http keeps once (content-type, retry-after, location, …) answered twice: `first` keeps the first
   * (node:http's parser), `joined` joins both like any repeated header (undici keeps every value).
   */
  readonly repeatedSingletonHeader: 'first' | 'joined';
  /**
   * A gzip body cut short: `refused` fails as a reset (the undici adapter decodes the whole body at once and
   * treats a truncated one as unreadable); `partial` answers with what decoded (axios's streams flush with
   * Z_SYNC_FLUSH, so a truncated body ends quietly).
   */
  readonly truncatedCompressedBody: 'refused' | 'partial';
}

// A self-signed certificate for 127.0.0.1, made for these tests only.
const TLS = new URL('../../test/fixtures/tls/', import.meta.url);
const cert = readFileSync(new URL('localhost-test-only.cert.pem', TLS));
const key = readFileSync(new URL('localhost-test-only.key.pem', TLS));

// What axios's http adapter puts on every request (Node 20 has no zstd; axios advertises it only when asked to).
const AXIOS_USER_AGENT = `axios/${axios.VERSION}`;
const AXIOS_ACCEPT_ENCODING = 'gzip, compress, deflate, br';

const EVENT = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1', attributes: { plan: 'pro', näme: 'Zoë ✓' } };

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

type Answer = (request: IncomingMessage, response: ServerResponse) => void;
const CREATED: Answer = (_request, response) => void response.writeHead(201).end();

/** A loopback upstream (http, or https with the test certificate) that records requests and counts connections. */
async function startUpstream(tls = false) {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  let answer = CREATED;
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      seen.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      answer(request, response);
    });
  };
  const server = tls ? https.createServer({ key, cert }, handle) : http.createServer(handle);
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    connections: () => connections,
    answer: (handler: Answer) => {
      answer = handler;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
type Upstream = Awaited<ReturnType<typeof startUpstream>>;

/**
 * What the gateway relies on from an UpstreamTransport, over real sockets. Every transport runs all of it: the
 * production one (axios over the undici adapter) and axios's stock http adapter, so an axios, undici or Node
 * upgrade that changes what goes on the wire or how a failure is classified fails here for the one that changed.
 */
export function upstreamTransportContract(name: string, makeTransport: MakeTransport, differences: KnownDifferences): void {
  describe(`UpstreamTransport contract: ${name}`, () => {
    let upstream: Upstream;
    let transport: UpstreamTransport;

    beforeAll(async () => {
      upstream = await startUpstream();
      transport = makeTransport({});
    });
    afterEach(() => {
      upstream.seen.length = 0;
      upstream.answer(CREATED);
    });
    afterAll(async () => {
      await transport.close();
      await upstream.close();
    });

    const call = (overrides: Partial<OutgoingCall> = {}): OutgoingCall => ({
      baseUrl: `${upstream.url}/v1`,
      request: { method: 'POST', path: '/events/custom', body: EVENT },
      headers: { 'x-request-id': 'req-1', 'X-APTRINSIC-API-KEY': 'px-key' },
      query: {},
      timeoutMs: 5_000,
      ...overrides,
    });
    const failureOf = (outgoing: OutgoingCall) =>
      transport.send(outgoing).then(
        (answer) => expect.unreachable(`answered ${answer.status}`),
        (error: unknown) => {
          expect(error).toBeInstanceOf(UpstreamTransportError);
          return error as UpstreamTransportError;
        },
      );

    describe('the request on the wire', () => {
      it('sends a JSON body byte for byte with exactly these headers (axios’s user-agent and accept-encoding)', async () => {
        await transport.send(call());
        const [seen] = upstream.seen;
        const body = JSON.stringify(EVENT);
        expect(seen?.method).toBe('POST');
        expect(seen?.url).toBe('/v1/events/custom');
        expect(seen?.body).toBe(body);
        expect(seen?.headers).toEqual({
          host: upstream.url.slice('http://'.length),
          connection: 'keep-alive',
          accept: 'application/json',
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': AXIOS_USER_AGENT,
          'accept-encoding': AXIOS_ACCEPT_ENCODING,
          'x-request-id': 'req-1',
          'x-aptrinsic-api-key': 'px-key',
        });
      });

      it('encodes the query as axios does: lists repeat their name, reserved characters escaped, credentials last', async () => {
        const query = { a: ['1', '2'], q: 'x:y,$z', 'a b': 'one&two=three', odd: "/?#[]@!'()*+;%", é: 'ü', n: 3, on: true };
        await transport.send(call({ request: { method: 'GET', path: '/users', query }, query: { key: 'k 1' } }));
        expect(upstream.seen[0]?.url).toBe(
          '/v1/users?a=1&a=2&q=x:y,$z&a+b=one%26two%3Dthree&odd=%2F%3F%23%5B%5D%40!%27()*%2B%3B%25&%C3%A9=%C3%BC&n=3&on=true&key=k+1',
        );
      });

      it('keeps a path’s percent-encoding as the plugin built it', async () => {
        await transport.send(call({ request: { method: 'GET', path: '/users/a%2Fb%20c%3F' } }));
        expect(upstream.seen[0]?.url).toBe('/v1/users/a%2Fb%20c%3F');
      });

      it('refuses a path with a dot segment, sending nothing', async () => {
        await expect(transport.send(call({ request: { method: 'GET', path: '/users/../admin' } }))).rejects.toThrow(/dot|"\."/);
        expect(upstream.seen).toHaveLength(0);
      });

      it('sends a GET without a body, content type or content length', async () => {
        await transport.send(call({ request: { method: 'GET', path: '/events/custom' } }));
        const [seen] = upstream.seen;
        expect(seen).toMatchObject({ method: 'GET', body: '' });
        expect(seen?.headers['content-type']).toBeUndefined();
        expect(seen?.headers['content-length']).toBeUndefined();
        expect(seen?.headers).toMatchObject({
          accept: 'application/json',
          'user-agent': AXIOS_USER_AGENT,
          'accept-encoding': AXIOS_ACCEPT_ENCODING,
        });
      });

      it.each(['POST', 'PUT', 'PATCH', 'DELETE'] as const)('sends a body-less %s with no content type', async (method) => {
        await transport.send(call({ request: { method, path: '/users/u-1' } }));
        const [seen] = upstream.seen;
        expect(seen).toMatchObject({ method, body: '' });
        expect(seen?.headers['content-type']).toBeUndefined();
      });

      it('keeps a content type the plugin set on a body-less call', async () => {
        await transport.send(call({ request: { method: 'POST', path: '/users', headers: { 'Content-Type': 'text/plain' } } }));
        expect(upstream.seen[0]?.headers['content-type']).toBe('text/plain');
      });

      it('sends a DELETE with a body when the plugin gives one', async () => {
        await transport.send(call({ request: { method: 'DELETE', path: '/users', body: { ids: ['a'] } } }));
        expect(upstream.seen[0]).toMatchObject({ method: 'DELETE', body: '{"ids":["a"]}' });
        expect(upstream.seen[0]?.headers['content-type']).toBe('application/json');
      });

      it('never lets a header value split into two headers (axios strips CR and LF)', async () => {
        await transport.send(call({ headers: { 'x-request-id': 'req-1\r\nx-injected: yes' } }));
        expect(upstream.seen[0]?.headers['x-injected']).toBeUndefined();
        expect(upstream.seen[0]?.headers['x-request-id']).toBe('req-1x-injected: yes');
      });

      if (differences.unencodableHeaderValue === 'refused') {
        it('fails a header value HTTP/1.1 cannot carry as a transport error, sending nothing', async () => {
          await failureOf(call({ headers: { 'x-request-id': 'req-€' } }));
          expect(upstream.seen).toHaveLength(0);
        });
      } else {
        it('strips from a header value the characters HTTP/1.1 cannot carry', async () => {
          await transport.send(call({ headers: { 'x-request-id': 'req-€' } }));
          expect(upstream.seen[0]?.headers['x-request-id']).toBe('req-');
        });
      }
    });

    describe('answers', () => {
      it.each([200, 201, 202, 204, 301, 302, 304, 307, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503])(
        'answers %i as an answer, redirects not followed',
        async (status) => {
          const withBody = status !== 204 && status !== 304;
          upstream.answer((_request, response) => {
            response.writeHead(status, { 'content-type': 'application/json', location: '/elsewhere', 'retry-after': '3' });
            response.end(withBody ? `{"status":${status}}` : undefined);
          });
          const answer = await transport.send(call());
          expect(answer.status).toBe(status);
          expect(answer.headers).toMatchObject({ location: '/elsewhere', 'retry-after': '3' });
          expect(answer.body).toEqual(withBody ? { status } : undefined);
          expect(upstream.seen.map((seen) => seen.url)).toEqual(['/v1/events/custom']);
        },
      );

      it.each([
        ['an HTML error page', 'text/html', '<html><title>Bad gateway</title></html>', '<html><title>Bad gateway</title></html>'],
        ['JSON that does not parse', 'application/json', '{"cut', '{"cut'],
        ['JSON labelled as text', 'text/plain', '{"a":1}', { a: 1 }],
        ['plain text', 'text/plain', 'no', 'no'],
        ['nothing', 'application/json', '', undefined],
        ['a UTF-8 byte order mark', 'application/json', '\uFEFF{"a":"é"}', { a: 'é' }],
      ])('parses %s leniently', async (_what, contentType, sent, expected) => {
        upstream.answer((_request, response) => void response.writeHead(502, { 'content-type': contentType }).end(sent));
        const answer = await transport.send(call());
        expect(answer).toMatchObject({ status: 502 });
        expect(answer.body).toEqual(expected);
      });

      it('joins a repeated response header as node:http does', async () => {
        upstream.answer(
          (_request, response) =>
            void response
              .writeHead(200, [
                ['x-tag', 'a'],
                ['x-tag', 'b'],
                ['set-cookie', 'a=1'],
                ['set-cookie', 'b=2'],
              ])
              .end(),
        );
        const answer = await transport.send(call());
        expect(answer.headers['x-tag']).toBe('a, b');
        expect(answer.headers['set-cookie']).toBe('a=1, b=2');
      });

      it(`keeps a header node:http allows once, answered twice: ${differences.repeatedSingletonHeader}`, async () => {
        upstream.answer(
          (_request, response) =>
            void response
              .writeHead(200, [
                ['retry-after', '3'],
                ['retry-after', '5'],
              ])
              .end(),
        );
        const answer = await transport.send(call());
        expect(answer.headers['retry-after']).toBe(differences.repeatedSingletonHeader === 'first' ? '3' : '3, 5');
      });

      it.each([
        ['gzip', gzipSync],
        ['x-gzip', gzipSync],
        ['deflate', deflateSync],
        ['deflate', deflateRawSync],
        ['br', brotliCompressSync],
      ] as const)('decodes a %s body and drops Content-Encoding', async (encoding, compress) => {
        const body = compress(Buffer.from('{"ok":true}'));
        upstream.answer(
          (_request, response) =>
            void response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': encoding }).end(body),
        );
        const answer = await transport.send(call());
        expect(answer.body).toEqual({ ok: true });
        expect(answer.headers['content-encoding']).toBeUndefined();
      });

      it('leaves an unknown content encoding alone', async () => {
        upstream.answer(
          (_request, response) => void response.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'identity' }).end('x'),
        );
        const answer = await transport.send(call());
        expect(answer.body).toBe('x');
        expect(answer.headers['content-encoding']).toBe('identity');
      });
    });

    describe('connections', () => {
      it('reuses one keep-alive connection for calls in sequence', async () => {
        const before = upstream.connections();
        for (let i = 0; i < 5; i++) await transport.send(call());
        expect(upstream.connections() - before).toBeLessThanOrEqual(1);
      });

      it('sends each call to its own upstream when several are in use', async () => {
        const other = await startUpstream();
        try {
          for (const target of [upstream, other, upstream]) await transport.send(call({ baseUrl: `${target.url}/v1` }));
          expect(upstream.seen.map((seen) => seen.url)).toEqual(['/v1/events/custom', '/v1/events/custom']);
          expect(other.seen.map((seen) => seen.url)).toEqual(['/v1/events/custom']);
          await transport.send(call({ baseUrl: `${other.url}/v2`, request: { method: 'POST', path: '/other', body: EVENT } }));
          expect(other.seen.at(-1)?.url).toBe('/v2/other');
        } finally {
          await other.close();
        }
      });
    });

    describe('no HTTP answer', () => {
      it('gives up at timeoutMs as a timeout', async () => {
        upstream.answer(() => {});
        expect(await failureOf(call({ timeoutMs: 100 }))).toMatchObject({ failure: 'timeout', code: 'ETIMEDOUT' });
      });

      it('counts the deadline over the whole answer, not only until the headers', async () => {
        upstream.answer((_request, response) => void response.writeHead(200, { 'content-type': 'application/json' }).write('{"slow":'));
        expect(await failureOf(call({ timeoutMs: 150 }))).toMatchObject({ failure: 'timeout', code: 'ETIMEDOUT' });
      });

      it('stops when the signal aborts', async () => {
        upstream.answer(() => {});
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 50);
        expect(await failureOf(call({ signal: controller.signal }))).toMatchObject({ failure: 'timeout', code: 'ERR_CANCELED' });
      });

      it('sends nothing when the signal has already aborted', async () => {
        expect(await failureOf(call({ signal: AbortSignal.abort() }))).toMatchObject({ failure: 'timeout', code: 'ERR_CANCELED' });
        expect(upstream.seen).toHaveLength(0);
      });

      it('reports a refused connection', async () => {
        const closed = await startUpstream();
        await closed.close();
        expect(await failureOf(call({ baseUrl: `${closed.url}/v1` }))).toMatchObject({ failure: 'refused', code: 'ECONNREFUSED' });
      });

      it('reports a connection dropped before the answer as a reset', async () => {
        upstream.answer((request) => void request.socket.destroy());
        expect(await failureOf(call())).toMatchObject({ failure: 'reset' });
      });

      it('reports a connection dropped in the middle of the answer as a reset', async () => {
        upstream.answer((request, response) => {
          response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
          response.write('{"partial":', () => request.socket.destroy());
        });
        expect(await failureOf(call())).toMatchObject({ failure: 'reset' });
      });

      it.each([
        ['gzip', 'Z_DATA_ERROR'],
        ['deflate', 'Z_DATA_ERROR'],
        ['br', expect.stringMatching(/^ERR__ERROR_/)],
      ])('reports a %s body that does not decode as a reset (the answer came but cannot be read)', async (encoding, code) => {
        upstream.answer(
          (_request, response) => void response.writeHead(200, { 'content-encoding': encoding }).end('not compressed at all'),
        );
        expect(await failureOf(call())).toMatchObject({ failure: 'reset', code });
      });

      const truncated = `a gzip body cut short: ${differences.truncatedCompressedBody}`;
      it(truncated, async () => {
        upstream.answer(
          (_request, response) =>
            void response.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync('{"hello":"world"}').subarray(0, 20)),
        );
        if (differences.truncatedCompressedBody === 'refused')
          expect(await failureOf(call())).toMatchObject({ failure: 'reset', code: 'Z_BUF_ERROR' });
        else expect(await transport.send(call())).toMatchObject({ status: 200, body: '{"hello":' });
      });

      it('fails an answer that is not HTTP as unreachable', async () => {
        upstream.answer((request) => void request.socket.end('SMTP ready\r\n\r\n'));
        expect(await failureOf(call())).toMatchObject({ failure: 'unreachable' });
      });

      it('fails an answer whose headers exceed 16 KiB as a reset (the upstream got the request and answered)', async () => {
        upstream.answer((_request, response) => void response.writeHead(200, { 'x-big': 'x'.repeat(20_000) }).end());
        expect(await failureOf(call())).toMatchObject({ failure: 'reset', code: 'HPE_HEADER_OVERFLOW' });
      });

      it('fails calls in flight as resets when closed', async () => {
        const closing = makeTransport({});
        upstream.answer(() => {});
        const inFlight = closing.send(call()).catch((error: unknown) => error);
        while (upstream.seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        await closing.close();
        expect(await inFlight).toMatchObject({ failure: 'reset' });
      });
    });

    describe('TLS (real PX is https)', () => {
      let secure: Upstream;
      beforeAll(async () => {
        secure = await startUpstream(true);
      });
      afterAll(() => secure.close());

      it('sends over https to a server whose certificate it trusts', async () => {
        const trusting = makeTransport({ ca: cert });
        try {
          const answer = await trusting.send(call({ baseUrl: `${secure.url}/v1` }));
          expect(answer.status).toBe(201);
          expect(secure.seen.at(-1)).toMatchObject({ method: 'POST', url: '/v1/events/custom', body: JSON.stringify(EVENT) });
        } finally {
          await trusting.close();
        }
      });

      it('refuses a certificate its trust store does not know, sending nothing', async () => {
        const before = secure.seen.length;
        expect(await failureOf(call({ baseUrl: `${secure.url}/v1` }))).toMatchObject({
          failure: 'unreachable',
          code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
        });
        expect(secure.seen).toHaveLength(before);
      });
    });
  });
}
