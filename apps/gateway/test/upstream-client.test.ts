import http, { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import axios from 'axios';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../src/config.ts';
import { type OutgoingCall, UpstreamClient, UpstreamTransportError } from '../src/upstream/upstream-client.ts';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** A loopback upstream that records requests and counts connections; `answer` decides each reply. */
async function startUpstream() {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  let answer: (request: IncomingMessage, response: ServerResponse) => void = (_request, response) => void response.writeHead(201).end();
  const server: Server = createServer((request, response) => {
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
  });
  server.on('connection', (socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    connections: () => connections,
    answer: (handler: typeof answer) => {
      answer = handler;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const CONFIG = { upstreamTimeoutMs: 5_000 } as GatewayConfig;
const EVENT = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' };

describe('upstream client (axios over the undici adapter)', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let client: UpstreamClient;

  beforeAll(async () => {
    upstream = await startUpstream();
    client = new UpstreamClient(CONFIG);
  });
  afterEach(() => {
    upstream.seen.length = 0;
    upstream.answer((_request, response) => void response.writeHead(201).end());
  });
  afterAll(async () => {
    await client.close();
    await upstream.close();
  });

  const call = (overrides: Partial<OutgoingCall> = {}): OutgoingCall => ({
    baseUrl: `${upstream.url}/v1`,
    request: { method: 'POST', path: '/events/custom', body: EVENT },
    headers: { 'x-request-id': 'req-1', 'X-APTRINSIC-API-KEY': 'px-key' },
    query: {},
    timeoutMs: 2_000,
    ...overrides,
  });

  it('puts on the wire what axios’s own http adapter puts there', async () => {
    const query = { 'a b': 'x:y,$z', list: 'one&two', n: 3 };
    await client.send(call({ request: { method: 'POST', path: '/events/custom', query, body: EVENT } }));
    const stock = axios.create({ adapter: 'http', maxRedirects: 0, proxy: false, httpAgent: new http.Agent({ keepAlive: true }) });
    await stock.request({
      method: 'POST',
      url: `${upstream.url}/v1/events/custom`,
      params: query,
      headers: { accept: 'application/json', 'content-type': 'application/json', 'x-request-id': 'req-1', 'X-APTRINSIC-API-KEY': 'px-key' },
      data: JSON.stringify(EVENT),
    });
    const [ours, theirs] = upstream.seen;
    expect(ours?.method).toBe(theirs?.method);
    expect(ours?.url).toBe(theirs?.url);
    expect(ours?.body).toBe(theirs?.body);
    expect(ours?.headers).toEqual(theirs?.headers);
  });

  it('sends a GET without a body or content type', async () => {
    await client.send(call({ request: { method: 'GET', path: '/events/custom' } }));
    const [seen] = upstream.seen;
    expect(seen?.method).toBe('GET');
    expect(seen?.body).toBe('');
    expect(seen?.headers['content-type']).toBeUndefined();
    expect(seen?.headers['content-length']).toBeUndefined();
  });

  it('answers every status (non-2xx included) with its headers and leniently parsed body', async () => {
    upstream.answer(
      (_request, response) =>
        void response.writeHead(422, { 'content-type': 'application/json', 'retry-after': '3' }).end('{"message":"bad"}'),
    );
    const answer = await client.send(call());
    expect(answer).toMatchObject({ status: 422, body: { message: 'bad' } });
    expect(answer.headers['retry-after']).toBe('3');
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['deflate', deflateRawSync],
    ['br', brotliCompressSync],
  ] as const)('decodes a %s body and drops Content-Encoding', async (encoding, compress) => {
    const body = compress(Buffer.from('{"ok":true}'));
    upstream.answer(
      (_request, response) => void response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': encoding }).end(body),
    );
    const answer = await client.send(call());
    expect(answer.body).toEqual({ ok: true });
    expect(answer.headers['content-encoding']).toBeUndefined();
  });

  it('sends each call to its own upstream when several are in use', async () => {
    const other = await startUpstream();
    try {
      for (const target of [upstream, other, upstream]) await client.send(call({ baseUrl: `${target.url}/v1` }));
      expect(upstream.seen.map((seen) => seen.url)).toEqual(['/v1/events/custom', '/v1/events/custom']);
      expect(other.seen.map((seen) => seen.url)).toEqual(['/v1/events/custom']);
      await client.send(call({ baseUrl: `${other.url}/v2`, request: { method: 'POST', path: '/other', body: EVENT } }));
      expect(other.seen.at(-1)?.url).toBe('/v2/other');
    } finally {
      await other.close();
    }
  });

  it('reuses one keep-alive connection for calls in sequence', async () => {
    const before = upstream.connections();
    for (let i = 0; i < 5; i++) await client.send(call());
    expect(upstream.connections() - before).toBeLessThanOrEqual(1);
  });

  it('gives up at timeoutMs as a timeout', async () => {
    upstream.answer(() => {});
    const started = performance.now();
    const error = await client.send(call({ timeoutMs: 150 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamTransportError);
    expect(error).toMatchObject({ failure: 'timeout', code: 'ETIMEDOUT' });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('stops when the signal aborts', async () => {
    upstream.answer(() => {});
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await client.send(call({ signal: controller.signal })).catch((e: unknown) => e);
    expect(error).toMatchObject({ failure: 'timeout', code: 'ERR_CANCELED' });
  });

  it('reports a connection dropped before the answer as a reset', async () => {
    upstream.answer((request) => void request.socket.destroy());
    const error = await client.send(call()).catch((e: unknown) => e);
    expect(error).toMatchObject({ failure: 'reset' });
  });

  it('never lets a header value split into two headers (axios strips CR and LF)', async () => {
    await client.send(call({ headers: { 'x-request-id': 'req-1\r\nx-injected: yes' } }));
    expect(upstream.seen[0]?.headers['x-injected']).toBeUndefined();
    expect(upstream.seen[0]?.headers['x-request-id']).toBe('req-1x-injected: yes');
  });

  it('fails a header value HTTP/1.1 cannot carry as a transport error, sending nothing', async () => {
    const error = await client.send(call({ headers: { 'x-request-id': 'req-€' } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamTransportError);
    expect(upstream.seen).toHaveLength(0);
  });

  it('reports a refused connection', async () => {
    const closed = await startUpstream();
    await closed.close();
    const error = await client.send(call({ baseUrl: `${closed.url}/v1` })).catch((e: unknown) => e);
    expect(error).toMatchObject({ failure: 'refused', code: 'ECONNREFUSED' });
  });
});
