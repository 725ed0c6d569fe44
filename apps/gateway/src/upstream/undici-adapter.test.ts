import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { undiciAdapter } from './undici-adapter.ts';

// A self-signed certificate for 127.0.0.1, made for these tests only.
const TLS = new URL('../../test/fixtures/tls/', import.meta.url);
const cert = readFileSync(new URL('localhost-test-only.cert.pem', TLS));
const key = readFileSync(new URL('localhost-test-only.key.pem', TLS));

describe('undici adapter over TLS (real PX is https)', () => {
  let server: Server;
  let url: string;
  const seen: { method?: string; url?: string; body: string }[] = [];

  beforeAll(async () => {
    server = createServer({ key, cert }, (request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      request.on('end', () => {
        seen.push({ method: request.method, url: request.url, body });
        response.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const client = (dispatcher: Agent) =>
    axios.create({ adapter: undiciAdapter(dispatcher), proxy: false, maxRedirects: 0, responseType: 'text' });

  it('sends over https to a server the trust store accepts', async () => {
    const answer = await client(new Agent({ connect: { ca: cert } })).post(`${url}/v1/events/custom`, '{"a":1}', {
      headers: { 'content-type': 'application/json' },
    });
    expect(answer.status).toBe(201);
    expect(answer.data).toBe('{"ok":true}');
    expect(seen.at(-1)).toEqual({ method: 'POST', url: '/v1/events/custom', body: '{"a":1}' });
  });

  it('refuses a certificate the default trust store does not know, sending nothing', async () => {
    const before = seen.length;
    const error = await client(new Agent())
      .post(`${url}/v1/events/custom`, '{}')
      .catch((e: unknown) => e);
    expect(axios.isAxiosError(error)).toBe(true);
    expect((error as { code?: string }).code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(seen).toHaveLength(before);
  });
});
