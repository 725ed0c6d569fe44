import type { ProgrammableUpstream } from './programmable-upstream.ts';

/** Test helpers for delivery fault runs: numbered events, paced senders, and what the upstream recorded. */

export const numberedEvent = (n: number) => ({ eventName: 'Fault Run', identifyId: `u-${n}`, propertyKey: 'AP-TEST-1', attributes: { n } });

const ASYNC = { 'content-type': 'application/json', prefer: 'respond-async' };

/** Sends events 0..count-1 one per request with `Prefer: respond-async`, `perSecond` of them a second; returns the statuses. */
export async function sendAsyncPaced(restUrl: string, count: number, perSecond: number, from = 0): Promise<number[]> {
  const statuses: Promise<number>[] = [];
  const tickMs = 100;
  const perTick = Math.max(1, Math.round((perSecond * tickMs) / 1000));
  for (let sent = 0; sent < count; ) {
    const tickStart = Date.now();
    for (let i = 0; i < perTick && sent < count; i += 1, sent += 1) {
      const n = from + sent;
      statuses.push(
        fetch(`${restUrl}/v1/custom-events`, { method: 'POST', headers: ASYNC, body: JSON.stringify(numberedEvent(n)) }).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        }),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, tickMs - (Date.now() - tickStart))));
  }
  return Promise.all(statuses);
}

/** Queues events from..from+count-1 in batches of `size`; returns the delivery ids in order. */
export async function sendBatches(
  restUrl: string,
  count: number,
  size: number,
  from = 0,
  headers: Record<string, string> = {},
): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += size) {
    const events = Array.from({ length: Math.min(size, count - start) }, (_, i) => numberedEvent(from + start + i));
    const response = await fetch(`${restUrl}/v1/custom-events/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ events }),
    });
    if (response.status !== 202) throw new Error(`batch answered ${response.status}: ${await response.text()}`);
    const body = (await response.json()) as { results: { id: string }[] };
    ids.push(...body.results.map((r) => r.id));
  }
  return ids;
}

/** Distinct event numbers the upstream kept (what PX would have stored), and how many requests carried a repeat. */
export function recordedEvents(upstream: ProgrammableUpstream): { distinct: Set<number>; duplicates: number } {
  const distinct = new Set<number>();
  let duplicates = 0;
  for (const request of upstream.recorded) {
    const n = (JSON.parse(request.body) as { attributes: { n: string } }).attributes.n;
    const value = Number(n);
    if (distinct.has(value)) duplicates += 1;
    distinct.add(value);
  }
  return { distinct, duplicates };
}

export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
