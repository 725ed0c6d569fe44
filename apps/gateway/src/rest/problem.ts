import type { OperationFailure } from '@gateway/core';
import type { Response } from 'express';

const PROBLEM_BASE = 'urn:gateway:problem:';

export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string;
  readonly requestId?: string;
  readonly errors?: readonly { readonly pointer: string; readonly detail: string }[];
  /** How many more input problems there were than `errors` lists. */
  readonly omittedErrors?: number;
  readonly upstreamStatus?: number;
}

/** Writes an RFC 9457 problem. */
export function sendProblem(response: Response, problem: Omit<ProblemDetails, 'type' | 'requestId'> & { type: string }): void {
  const requestId = response.locals.requestId as string | undefined;
  const body: ProblemDetails = { ...problem, type: PROBLEM_BASE + problem.type, ...(requestId ? { requestId } : {}) };
  response.status(problem.status).type('application/problem+json').send(JSON.stringify(body));
}

/** An executor failure as a REST caller sees it; input pointers become pointers into the request body. */
export function sendFailure(response: Response, failure: OperationFailure, instance: string): void {
  if (failure.retryAfterSeconds !== undefined) response.setHeader('Retry-After', String(failure.retryAfterSeconds));
  sendProblem(response, {
    type: failure.kind,
    title: failure.title,
    status: failure.status,
    detail: failure.problems ? failure.problems.map((p) => `${restPointer(p.pointer) || '(body)'} ${p.message}`).join('; ') + omittedText(failure) : failure.detail,
    instance,
    ...(failure.problems ? { errors: failure.problems.map((p) => ({ pointer: restPointer(p.pointer), detail: p.message })) } : {}),
    ...(failure.omittedProblems ? { omittedErrors: failure.omittedProblems } : {}),
    ...(failure.upstreamStatus !== undefined ? { upstreamStatus: failure.upstreamStatus } : {}),
  });
}

function omittedText(failure: OperationFailure): string {
  return failure.omittedProblems ? `; and ${failure.omittedProblems} more problems (fix these first)` : '';
}

/** `/body/eventName` (a pointer into the operation input) -> `/eventName` (into the JSON body). */
function restPointer(pointer: string): string {
  return pointer === '/body' ? '' : pointer.startsWith('/body/') ? pointer.slice('/body'.length) : pointer;
}
