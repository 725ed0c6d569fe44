import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Stops accepting connections, lets in-flight requests finish (idle keep-alive connections are closed as
 * they go idle), and after `timeoutMs` cuts whatever is left. Resolves true when everything finished in time.
 */
export async function drainServer(server: Server, timeoutMs: number): Promise<boolean> {
  if (!server.listening) return true;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  const abort = new AbortController();
  const finished = await Promise.race([closed.then(() => true), sleep(timeoutMs, false, { signal: abort.signal }).catch(() => false)]);
  abort.abort();
  clearInterval(sweep);
  if (!finished) {
    server.closeAllConnections();
    await closed;
  }
  return finished;
}
