import { hasDotSegment, type UpstreamRequest, type UpstreamResponse } from '@gateway/core';
import axios, { type AxiosInstance, isAxiosError } from 'axios';
import { inject, injectable } from 'tsyringe';
import { Agent } from 'undici';
import type { GatewayConfig } from '../config.ts';
import { CONFIG } from '../tokens.ts';
import { undiciAdapter } from './undici-adapter.ts';
import { parseLeniently } from './parse-body.ts';

export type TransportFailure = 'timeout' | 'refused' | 'reset' | 'unreachable';

/** The upstream did not answer with an HTTP response. */
export class UpstreamTransportError extends Error {
  override readonly name = 'UpstreamTransportError';
  constructor(
    readonly failure: TransportFailure,
    readonly code: string | undefined,
  ) {
    super(`upstream ${failure}${code ? ` (${code})` : ''}`);
  }
}

export interface OutgoingCall {
  readonly baseUrl: string;
  readonly request: UpstreamRequest;
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** Calls upstreams with axios over undici keep-alive pools; every status is an answer, never a throw. */
@injectable()
export class UpstreamClient {
  private readonly http: AxiosInstance;
  /** One keep-alive pool per upstream origin, up to 256 connections each. */
  private readonly dispatcher = new Agent({ connections: 256 });

  constructor(@inject(CONFIG) config: GatewayConfig) {
    this.http = axios.create({
      adapter: undiciAdapter(this.dispatcher),
      timeout: config.upstreamTimeoutMs,
      maxRedirects: 0,
      proxy: false,
      responseType: 'text',
      // The body is already JSON text: axios's default would parse it again only to check it.
      transformRequest: [(data: unknown) => data],
      transformResponse: [(data: unknown) => data],
      transitional: { clarifyTimeoutError: true },
      validateStatus: () => true,
    });
    // axios's instance-wide default headers (`Accept: application/json, text/plain, */*` and empty per-method
    // sets) are always overridden by the headers send() passes; without them axios has less to merge per call.
    this.http.defaults.headers = {} as AxiosInstance['defaults']['headers'];
    // Defaults no call here reads, merged into every request config all the same: `env` (FormData and Blob
    // classes, for the default transformRequest replaced above), the XSRF names (browsers only) and
    // maxBodyLength (axios's http adapter, which these calls never reach).
    this.http.defaults.env = undefined;
    for (const unused of ['xsrfCookieName', 'xsrfHeaderName', 'maxBodyLength'] as const) delete this.http.defaults[unused];
  }

  async send(call: OutgoingCall): Promise<UpstreamResponse> {
    const { request } = call;
    // Path values are filled by fillPathTemplate, which refuses dot segments; a plugin's own toRequest might not.
    if (hasDotSegment(request.path)) throw new Error('refused to send an upstream request whose path has a "." or ".." segment');
    const hasBody = request.body !== undefined;
    const url = call.baseUrl + request.path;
    const params = hasKeys(request.query) || hasKeys(call.query) ? { ...request.query, ...call.query } : undefined;
    try {
      const response = await this.http.request<string>({
        method: request.method,
        // The query, when there is one, is encoded by axios itself (getUri), as `params` would be.
        url: params ? this.http.getUri({ url, params, paramsSerializer: REPEATED_PARAMS }) : url,
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
      });
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) if (value != null) headers[name] = String(value);
      return { status: response.status, headers, body: parseLeniently(response.data, headers['content-type']) };
    } catch (error) {
      throw toTransportError(error);
    }
  }

  /** Closes every upstream connection; calls still in flight fail as resets. */
  close(): Promise<void> {
    return this.dispatcher.destroy();
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
      return new UpstreamTransportError('unreachable', code);
  }
}
