import type { OperationFailure, UpstreamResponse } from '@gateway/core';
import { upstreamMessage } from './parse-body.ts';
import type { UpstreamTransportError } from './upstream-transport.ts';

const REJECTED_INPUT = new Set([400, 409, 413, 422]);
const REFUSED_GATEWAY = new Set([401, 403, 404, 405, 406, 415]);

export interface FailureContext {
  readonly upstreamTitle: string;
  /** Variables that configure the credential, named (never their values) when upstream refuses it. */
  readonly credentialSources: readonly string[];
  /** Statuses the operation declares as "the record it names does not exist" (`responses.notFound`). */
  readonly notFoundStatuses?: readonly number[];
}

/** The gateway's mapping of a non-2xx upstream answer (its body already without secrets) to what callers get. */
export function failureFromStatus(response: UpstreamResponse, context: FailureContext): OperationFailure {
  const { status } = response;
  const message = upstreamMessage(response.body);
  const upstream = context.upstreamTitle;
  if (context.notFoundStatuses?.includes(status)) {
    return {
      kind: 'not-found',
      status: 404,
      title: 'Not found',
      detail: `${upstream} has no such record (it answered ${status}${message ? `: ${message}` : ''}). Check the identifier you sent.`,
      upstreamStatus: status,
    };
  }
  if (REJECTED_INPUT.has(status)) {
    return {
      kind: 'upstream-rejected-input',
      status: 400,
      title: `${upstream} rejected the request`,
      detail: `${upstream} answered ${status}${message ? `: ${message}` : ''}. Correct the request and send it again.`,
      upstreamStatus: status,
    };
  }
  if (REFUSED_GATEWAY.has(status)) {
    const check = context.credentialSources.length
      ? `check ${context.credentialSources.join(', ')} and the base URL`
      : 'check the base URL';
    return {
      kind: 'upstream-refused-gateway',
      status: 502,
      title: `${upstream} refused the gateway's configuration`,
      detail: `${upstream} answered ${status} to the gateway's own credentials or address, not to anything in your request. The gateway's operator must ${check}.`,
      upstreamStatus: status,
    };
  }
  if (status === 429) {
    const retryAfter = Number(response.headers['retry-after']);
    return {
      kind: 'upstream-rate-limited',
      status: 429,
      title: `${upstream} is rate limiting`,
      detail: `${upstream} answered 429 (too many requests). Wait and send it again.`,
      upstreamStatus: status,
      retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter >= 0 ? Math.ceil(retryAfter) : 1,
    };
  }
  if (status === 408) return timeoutFailure(upstream, status);
  return {
    kind: 'upstream-failed',
    status: 502,
    title: `${upstream} failed`,
    detail: `${upstream} answered ${status}${message ? `: ${message}` : ''}. The request may not have been recorded; try again later.`,
    upstreamStatus: status,
  };
}

export function failureFromTransport(error: UpstreamTransportError, upstream: string, timeoutMs: number): OperationFailure {
  if (error.failure === 'timeout') return timeoutFailure(upstream, undefined, timeoutMs);
  return {
    kind: 'upstream-unreachable',
    status: 502,
    title: `${upstream} could not be reached`,
    detail:
      error.failure === 'refused'
        ? `${upstream} refused the connection. Try again later.`
        : error.failure === 'reset'
          ? `The connection to ${upstream} was closed before it answered; the request may or may not have been recorded.`
          : `${upstream} could not be reached (${error.code ?? 'network error'}). Try again later.`,
  };
}

function timeoutFailure(upstream: string, upstreamStatus?: number, timeoutMs?: number): OperationFailure {
  return {
    kind: 'upstream-timeout',
    status: 504,
    title: `${upstream} did not answer in time`,
    detail: `${upstream} did not answer${timeoutMs ? ` within ${timeoutMs} ms` : ' in time'}; the request may or may not have been recorded.`,
    ...(upstreamStatus ? { upstreamStatus } : {}),
  };
}
