import axios from 'axios';
import { Agent, type Dispatcher } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AxiosTransport,
  axiosRequestOf,
  type Connections,
  stockHttpConnections,
  undiciConnections,
  upstreamAxios,
  withoutUnusedDefaults,
} from './axios-transport.ts';
import { type CapturedRequest, type CaptureServer, startCaptureServer } from '../../test/support/capture-server.ts';
import { undiciAdapter } from './undici-adapter.ts';
import type { OutgoingCall } from './upstream-transport.ts';

// What axios-transport.ts and undici-adapter.ts lean on in axios itself, checked over real sockets, so an axios
// upgrade that moves one of them fails here rather than in production.

const OPTIONS = { timeoutMs: 5_000 };
const EVENT = { eventName: 'Signup', identifyId: 'u-1' };

describe('the axios behaviour the upstream transports rely on', () => {
  let upstream: CaptureServer;
  let seen: CapturedRequest[];
  let baseUrl: string;
  const opened: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    upstream = await startCaptureServer({ status: 204 });
    seen = upstream.requests;
    baseUrl = `${upstream.url}/v1`;
  });
  afterEach(async () => {
    seen.length = 0;
    for (const connections of opened.splice(0)) await connections.close();
  });
  afterAll(() => upstream.close());

  const track = (connections: Connections): Connections => {
    opened.push(connections);
    return connections;
  };

  /** Every shape of call the executor makes. */
  const calls = (): OutgoingCall[] =>
    [
      { method: 'POST', path: '/events/custom', body: EVENT },
      { method: 'GET', path: '/users', query: { filter: ['a', 'b'], pageSize: 2 } },
      { method: 'PUT', path: '/users/u-1', body: { a: 1 } },
      { method: 'POST', path: '/users/u-1/touch' },
      { method: 'DELETE', path: '/users/u-1' },
    ].map((request) => ({
      baseUrl,
      request: request as OutgoingCall['request'],
      headers: { 'x-request-id': 'req-1', 'X-APTRINSIC-API-KEY': 'px-key' },
      query: request.method === 'GET' ? { key: 'k' } : ({} as Record<string, string>),
      timeoutMs: 5_000,
      signal: new AbortController().signal,
    }));

  it('still has its stock http adapter under the name undici-adapter.ts falls back to', () => {
    expect(typeof axios.getAdapter('http')).toBe('function');
  });

  it('hands every call the gateway makes to the undici adapter’s own path, never its http fallback', async () => {
    const dispatched: string[] = [];
    class RecordingAgent extends Agent {
      override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
        dispatched.push(`${options.method} ${options.path}`);
        return super.dispatch(options, handler);
      }
    }
    const agent = new RecordingAgent();
    const transport = new AxiosTransport(track({ adapter: undiciAdapter(agent), close: () => agent.destroy() }), OPTIONS);
    for (const call of calls()) await transport.send(call);
    expect(seen).toHaveLength(calls().length);
    expect(dispatched).toEqual(seen.map((request) => `${request.method} ${request.url}`));
  });

  it('merges into every call only the defaults the production configuration sets (a new axios default shows here)', async () => {
    const production = withoutUnusedDefaults(upstreamAxios(track(undiciConnections(OPTIONS)), OPTIONS));
    expect(Object.keys(production.defaults).sort()).toEqual([
      'adapter',
      'env', // undefined (withoutUnusedDefaults)
      'headers', // {} (withoutUnusedDefaults)
      'maxContentLength', // -1, read by the undici adapter as by axios's
      'maxRedirects',
      'proxy',
      'responseType',
      'timeout',
      'transformRequest',
      'transformResponse',
      'transitional',
      'validateStatus',
    ]);
  });

  it('gives a body-less POST a form content type unless told `content-type: false` (why axiosRequestOf sets it)', async () => {
    const stock = upstreamAxios(track(stockHttpConnections(OPTIONS)), OPTIONS);
    await stock.request({ method: 'POST', url: `${baseUrl}/a`, headers: { accept: 'application/json' } });
    await stock.request({ method: 'POST', url: `${baseUrl}/b`, headers: { accept: 'application/json', 'content-type': false } });
    expect(seen[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(seen[1]?.headers).not.toHaveProperty('content-type');
  });

  it.each([
    ['axios’s stock http adapter', stockHttpConnections],
    ['the undici adapter', undiciConnections],
  ])('puts the same requests on the wire without the defaults withoutUnusedDefaults drops (%s)', async (_name, connectionsOf) => {
    const untrimmed = upstreamAxios(track(connectionsOf(OPTIONS)), OPTIONS);
    const trimmed = withoutUnusedDefaults(upstreamAxios(track(connectionsOf(OPTIONS)), OPTIONS));
    expect(untrimmed.defaults.headers.common.Accept).toBe('application/json, text/plain, */*');
    for (const call of calls()) await untrimmed.request(axiosRequestOf(untrimmed, call));
    const withDefaults = seen.splice(0);
    for (const call of calls()) await trimmed.request(axiosRequestOf(trimmed, call));
    expect(seen).toEqual(withDefaults);
  });
});
