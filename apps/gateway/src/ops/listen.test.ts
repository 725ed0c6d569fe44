import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { listenExpress } from './listen.ts';

describe('listenExpress', () => {
  const servers: { close(): void }[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
  });

  it('hands Express requests and responses that already have the app’s prototypes', async () => {
    const app = express();
    app.post('/echo', express.json(), (request, response) => {
      response.status(201).json({ got: request.body, type: request.get('content-type') });
    });
    const server = await listenExpress(app, 0, '127.0.0.1');
    servers.push(server);
    const prototypes: boolean[] = [];
    // Runs before the app: what Node built, before Express's own Object.setPrototypeOf.
    server.prependListener('request', (request, response) => {
      prototypes.push(Object.getPrototypeOf(request) === app.request, Object.getPrototypeOf(response) === app.response);
    });
    const { port } = server.address() as AddressInfo;
    const answer = await fetch(`http://127.0.0.1:${port}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(answer.status).toBe(201);
    expect(await answer.json()).toEqual({ got: { a: 1 }, type: 'application/json' });
    expect(prototypes).toEqual([true, true]);
  });

  // What listen.ts assumes of Express: on a plain node:http server, Express itself gives every request and response
  // exactly app.request and app.response as prototypes (so pre-installing them changes nothing it does), and
  // those inherit from Node's IncomingMessage and ServerResponse (whose constructors listen.ts calls on them).
  it('relies on Express giving requests and responses app.request and app.response as prototypes', async () => {
    const app = express();
    const prototypes: boolean[] = [];
    app.get('/', (request, response) => {
      prototypes.push(Object.getPrototypeOf(request) === app.request, Object.getPrototypeOf(response) === app.response);
      response.end();
    });
    const server = createServer(app);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    expect(prototypes).toEqual([true, true]);
    expect(app.request).toBeInstanceOf(IncomingMessage);
    expect(app.response).toBeInstanceOf(ServerResponse);
  });

  it('rejects when the port is taken', async () => {
    const first = await listenExpress(express(), 0, '127.0.0.1');
    servers.push(first);
    const { port } = first.address() as AddressInfo;
    await expect(listenExpress(express(), port, '127.0.0.1')).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
