import { bodyPointer, type InputProblem, type OperationFailure } from '@gateway/core';
import type { Response } from 'express';
import { IDEMPOTENCY_KEY_POINTER } from '../idempotency/idempotency-guard.ts';

const PROBLEM_BASE = 'urn:gateway:problem:';

export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string;
  readonly requestId?: string;
  /** Each input problem: `pointer` into the body, or `header` for a request header. */
  readonly errors?: readonly (
    | { readonly pointer: string; readonly detail: string }
    | { readonly header: string; readonly detail: string }
  )[];
  /** How many more input problems there were than `errors` lists. */
  readonly omittedErrors?: number;
  readonly upstreamStatus?: number;
}

/** Writes an RFC 9457 problem. */
export function sendProblem(response: Response, problem: Omit<ProblemDetails, 'type' | 'requestId'> & { type: string }): void {
  const requestId = response.locals.requestId as string | undefined;
  // Object.assign, not a spread then more properties (slow on Node 20; docs/performance.md).
  const body: ProblemDetails = Object.assign({}, problem, { type: PROBLEM_BASE + problem.type }, requestId ? { requestId } : undefined);
  response.status(problem.status).type('application/problem+json').send(JSON.stringify(body));
}

/** An executor failure as a REST caller sees it; input pointers become pointers into the request body. */
export function sendFailure(response: Response, failure: OperationFailure, instance: string): void {
  if (failure.retryAfterSeconds !== undefined) response.setHeader('Retry-After', String(failure.retryAfterSeconds));
  sendProblem(response, {
    type: failure.kind,
    title: failure.title,
    status: failure.status,
    detail: failure.problems
      ? failure.problems.map((p) => `${restPlace(p.pointer)} ${p.message}`).join('; ') + omittedText(failure)
      : failure.detail,
    instance,
    ...(failure.problems ? { errors: failure.problems.map(restError) } : {}),
    ...(failure.omittedProblems ? { omittedErrors: failure.omittedProblems } : {}),
    ...(failure.upstreamStatus !== undefined ? { upstreamStatus: failure.upstreamStatus } : {}),
  });
}

function omittedText(failure: OperationFailure): string {
  return failure.omittedProblems ? `; and ${failure.omittedProblems} more problems (fix these first)` : '';
}

/** The idempotency key travels as a header on REST: its problem names the header, not a pointer into the body. */
function restError(problem: InputProblem): { pointer: string; detail: string } | { header: string; detail: string } {
  if (problem.pointer === IDEMPOTENCY_KEY_POINTER) return { header: IDEMPOTENCY_KEY_HEADER, detail: problem.message };
  return { pointer: bodyPointer(problem.pointer), detail: problem.message };
}

function restPlace(pointer: string): string {
  if (pointer === IDEMPOTENCY_KEY_POINTER) return `${IDEMPOTENCY_KEY_HEADER} header`;
  return bodyPointer(pointer) || '(body)';
}

const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
