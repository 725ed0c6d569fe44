import http from 'node:http';
import https from 'node:https';
import { hasDotSegment, type UpstreamResponse } from '@gateway/core';
import axios, { type AxiosAdapter, type AxiosInstance, type AxiosRequestConfig, isAxiosError } from 'axios';
import { Agent } from 'undici';
import { parseLeniently } from './parse-body.ts';
import { undiciAdapter } from './undici-adapter.ts';
import { type OutgoingCall, type UpstreamTransport, UpstreamTransportError } from './upstream-transport.ts';

/** Up to this many connections per upstream origin, each kept alive between calls. */
const CONNECTIONS_PER_ORIGIN = 256;

export interface TransportOptions {
  /** The instance-wide deadline; every call sets its own `timeoutMs`. */
  readonly timeoutMs: number;
  /** Certificate authorities to trust instead of Node's store (a test upstream's own certificate, for one). */
  readonly ca?: string | Buffer;
}

/** What the two transports differ in: the axios adapter that moves the bytes and the connections it keeps. */
export interface Connections {
  readonly adapter: AxiosAdapter | 'http';
  readonly httpAgent?: http.Agent;
  readonly httpsAgent?: https.Agent;
  close(): Promise<void>;
}

/** The production connections: the undici adapter over one undici keep-alive pool per origin. */
export function undiciConnections(options: TransportOptions): Connections {
  const dispatcher = new Agent({ connections: CONNECTIONS_PER_ORIGIN, ...(options.ca ? { connect: { ca: options.ca } } : {}) });
  return { adapter: undiciAdapter(dispatcher), close: () => dispatcher.destroy() };
}

/** axios's own `http` adapter over node:http(s) keep-alive agents: the reference the undici adapter is tested against. */
export function stockHttpConnections(options: TransportOptions): Connections {
  const agent = { keepAlive: true, maxSockets: CONNECTIONS_PER_ORIGIN };
  const httpAgent = new http.Agent(agent);
  const httpsAgent = new https.Agent({ ...agent, ...(options.ca ? { ca: options.ca } : {}) });
  return {
    adapter: 'http',
    httpAgent,
    httpsAgent,
    close: async () => {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

/** The one axios configuration every transport shares; `connections` (the adapter) is all that tells them apart. */
export function upstreamAxios(connections: Connections, options: TransportOptions): AxiosInstance {
  return axios.create({
    adapter: connections.adapter,
    // Only when there are agents: axios merges every key of the defaults into each request's config.
    ...(connections.httpAgent ? { httpAgent: connections.httpAgent, httpsAgent: connections.httpsAgent } : {}),
    timeout: options.timeoutMs,
    maxRedirects: 0,
    proxy: false,
    responseType: 'text',
    // The body is already JSON text: axios's default would parse it again only to check it.
    transformRequest: [(data: unknown) => data],
    transformResponse: [(data: unknown) => data],
    transitional: { clarifyTimeoutError: true },
    validateStatus: () => true,
  });
}

/**
 * Drops axios defaults no upstream call reads but axios merges into every request config all the same (less
 * work per call). axios-internals.test.ts checks that the requests on the wire stay identical without them.
 */
export function withoutUnusedDefaults(http: AxiosInstance): AxiosInstance {
  // The instance-wide default headers (`Accept: application/json, text/plain, */*` and empty per-method sets):
  // every header they hold is overridden by the ones axiosRequestOf sets.
  http.defaults.headers = {} as AxiosInstance['defaults']['headers'];
  // `env` (FormData and Blob classes, for the default transformRequest replaced above, and data: URLs), the XSRF
  // names (browsers only) and maxBodyLength (the http adapter's body limit: unlimited when unset, as when -1).
  http.defaults.env = undefined;
  for (const unused of ['xsrfCookieName', 'xsrfHeaderName', 'maxBodyLength'] as const) delete http.defaults[unused];
  return http;
}

/** The axios request config for one call. */
export function axiosRequestOf(http: AxiosInstance, call: OutgoingCall): AxiosRequestConfig<string | undefined> {
  const { request } = call;
  const hasBody = request.body !== undefined;
  const url = call.baseUrl + request.path;
  const params = hasKeys(request.query) || hasKeys(call.query) ? { ...request.query, ...call.query } : undefined;
  return {
    method: request.method,
    // The query, when there is one, is encoded by axios itself (getUri), as `params` would be.
    url: params ? http.getUri({ url, params, paramsSerializer: REPEATED_PARAMS }) : url,
    headers: withContentType(
      {
        accept: 'application/json',
        ...(hasBody ? { 'content-type': 'application/json' } : {}),
        ...request.headers,
        ...call.headers,
      },
      hasBody,
    ),
    data: hasBody ? JSON.stringify(request.body) : undefined,
    timeout: call.timeoutMs,
    signal: call.signal,
  };
}

/** Calls upstreams with axios as configured by upstreamAxios; every status is an answer, never a throw. */
export class AxiosTransport implements UpstreamTransport {
  private readonly http: AxiosInstance;

  constructor(
    private readonly connections: Connections,
    options: TransportOptions,
  ) {
    this.http = withoutUnusedDefaults(upstreamAxios(connections, options));
  }

  async send(call: OutgoingCall): Promise<UpstreamResponse> {
    // Path values are filled by fillPathTemplate, which refuses dot segments; a plugin's own toRequest might not.
    if (hasDotSegment(call.request.path)) throw new Error('refused to send an upstream request whose path has a "." or ".." segment');
    try {
      const response = await this.http.request<string>(axiosRequestOf(this.http, call));
      const headers: Record<string, string> = {};
      // undici gives a repeated header as an array; joined as node:http joins them (`a, b`).
      for (const [name, value] of Object.entries(response.headers))
        if (value != null) headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
      return { status: response.status, headers, body: parseLeniently(response.data, headers['content-type']) };
    } catch (error) {
      throw toTransportError(error);
    }
  }

  close(): Promise<void> {
    return this.connections.close();
  }
}

/** A list value repeats its parameter (`filter=a&filter=b`), not axios's default `filter[]=a&filter[]=b`. */
const REPEATED_PARAMS = { indexes: null } as const;

/**
 * axios gives a POST/PUT/PATCH without a content type `application/x-www-form-urlencoded`; `false` tells it to send
 * none, so a body-less call carries no content type at all (one the plugin set itself is kept).
 */
function withContentType(headers: Record<string, string>, hasBody: boolean): Record<string, string | false> {
  if (hasBody || Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) return headers;
  return { ...headers, 'content-type': false };
}

function hasKeys(record: Readonly<Record<string, unknown>> | undefined): boolean {
  for (const _ in record) return true;
  return false;
}

function toTransportError(error: unknown): UpstreamTransportError {
  const code = isAxiosError(error) ? error.code : (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ETIMEDOUT':
    case 'ECONNABORTED':
    case 'ERR_CANCELED':
      return new UpstreamTransportError('timeout', code);
    case 'ECONNREFUSED':
      return new UpstreamTransportError('refused', code);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ERR_BAD_RESPONSE':
      return new UpstreamTransportError('reset', code);
    default:
      // An HTTP answer came but cannot be read: its compressed body does not decode (zlib's Z_… codes, brotli's
      // ERR__ERROR_…) or its headers exceed 16 KiB. The upstream may have acted on the request, as with a connection
      // lost mid-answer. (Bytes that are not HTTP at all stay "unreachable": not an HTTP server.)
      if (code && /^(?:Z_|ERR__ERROR_|HPE_HEADER_OVERFLOW$)/.test(code)) return new UpstreamTransportError('reset', code);
      return new UpstreamTransportError('unreachable', code);
  }
}
