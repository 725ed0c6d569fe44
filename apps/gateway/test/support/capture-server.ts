import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface CapturedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** How the capture server answers one request. `delayMs` as `[min, max]`: a random delay in that range. */
export type CaptureReply =
  | {
      readonly status: number;
      readonly body?: string;
      readonly headers?: Record<string, string>;
      readonly delayMs?: number | readonly [number, number];
    }
  | { readonly drop: true }
  | { readonly hang: true };

export interface CaptureServer {
  readonly url: string;
  readonly requests: CapturedRequest[];
  /** The most requests it was answering at the same moment. */
  readonly maxConcurrent: () => number;
  /** Replies used in order; after they run out, `fallback` answers. */
  reply(...replies: CaptureReply[]): void;
  close(): Promise<void>;
}

/** A real upstream stand-in on loopback that records everything it receives. */
export async function startCaptureServer(fallback: CaptureReply = { status: 201 }): Promise<CaptureServer> {
  const requests: CapturedRequest[] = [];
  const queue: CaptureReply[] = [];
  const sockets = new Set<Socket>();
  let concurrent = 0;
  let maxConcurrent = 0;
  const server: Server = createServer((request, response) => {
    concurrent += 1;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    response.on('close', () => {
      concurrent -= 1;
    });
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const reply = queue.shift() ?? fallback;
      if ('drop' in reply) return void request.socket.destroy();
      if ('hang' in reply) return;
      const send = () => {
        response.writeHead(reply.status, reply.headers ?? (reply.body ? { 'content-type': 'application/json' } : {}));
        response.end(reply.body ?? '');
      };
      const delay = Array.isArray(reply.delayMs) ? reply.delayMs[0] + Math.random() * (reply.delayMs[1] - reply.delayMs[0]) : reply.delayMs;
      if (delay) setTimeout(send, delay);
      else send();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    maxConcurrent: () => maxConcurrent,
    reply: (...replies) => void queue.push(...replies),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
