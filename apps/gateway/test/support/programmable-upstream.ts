import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How the upstream answers one request. `recordThenDrop`: it keeps the request, then loses the answer. */
export type UpstreamReply =
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string; readonly delayMs?: number }
  | { readonly recordThenDrop: true };

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface ProgrammableUpstream {
  readonly url: string;
  /** Every request that reached it, in order. */
  readonly received: ReceivedRequest[];
  /** Requests it kept (answered 2xx, or recorded before the answer was lost): what PX would have stored. */
  readonly recorded: ReceivedRequest[];
  /** Stops listening and cuts open connections: the upstream is unreachable (connection refused) until `resume`. */
  suspend(): Promise<void>;
  /** Listens again on the same port. */
  resume(): Promise<void>;
  close(): Promise<void>;
}

/** A real upstream stand-in on loopback whose every answer is decided by `decide` (the nth request, from 1). */
export async function startProgrammableUpstream(
  decide: (request: ReceivedRequest, n: number) => UpstreamReply = () => ({ status: 201 }),
): Promise<ProgrammableUpstream> {
  const received: ReceivedRequest[] = [];
  const recorded: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(entry);
      const reply = decide(entry, received.length);
      if ('recordThenDrop' in reply) {
        recorded.push(entry);
        return void request.socket.destroy();
      }
      if (reply.status >= 200 && reply.status < 300) recorded.push(entry);
      const answer = () => {
        response.writeHead(reply.status, reply.headers ?? (reply.body ? { 'content-type': 'application/json' } : {}));
        response.end(reply.body ?? '');
      };
      if (reply.delayMs) setTimeout(answer, reply.delayMs);
      else answer();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  await listen(0);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    recorded,
    suspend: stop,
    resume: () => listen(port),
    close: () => (server.listening ? stop() : Promise.resolve()),
  };
}
