import type { UpstreamRequest, UpstreamResponse } from '@gateway/core';

/**
 * How the executor reaches an upstream: one HTTP exchange per `send`. Every HTTP status is an answer (3xx are
 * not followed); only a call that got no HTTP answer rejects, with an UpstreamTransportError. Implementations
 * (axios-transport.ts) are held to one contract test, upstream-transport.contract.ts.
 */
export interface UpstreamTransport {
  send(call: OutgoingCall): Promise<UpstreamResponse>;
  /** Closes every upstream connection; calls still in flight fail as resets. */
  close(): Promise<void>;
}

export interface OutgoingCall {
  readonly baseUrl: string;
  readonly request: UpstreamRequest;
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

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
