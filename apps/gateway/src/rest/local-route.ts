import type { OperationFailure } from '@gateway/core';
import { traceScopeOf } from '../observability/tracing.ts';
import type { IRouter, Request, RequestHandler, Response } from 'express';
import { clientIdOf } from '../auth/client-identity.ts';
import type { CompiledLocalOperation, ItemsBody } from '../gateway-plugin/local-operation.ts';
import { readBatchBody } from './batch-body.ts';
import { expressPath, jsonBody } from './operation-route.ts';
import { sendFailure, sendProblem } from './problem.ts';

const NDJSON = 'application/x-ndjson';
const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * Mounts one of the gateway's own operations: its input gathered from path, query and body as declared (a JSON
 * object, or items streamed by the `items` reader), validated as declared, handed to its local handler; the answer
 * as JSON or problem+json.
 */
export function mountLocalOperation(router: IRouter, operation: CompiledLocalOperation, bodyLimitBytes: number): void {
  const { rest } = operation;
  if (!rest) return;
  const queryNames = Object.entries(operation.parameters ?? {})
    .filter(([, place]) => place === 'query')
    .map(([name]) => name);
  const takesBody = operation.bodyProperties.length > 0;
  const reader = rest.body;
  const handlers: RequestHandler[] = [];
  if (reader) handlers.push(requireItemsType(reader));
  else if (takesBody) handlers.push(...jsonBody(bodyLimitBytes));
  handlers.push(async (request, response) => {
    let body: unknown = request.body;
    let toBodyPointer: ((pointer: string) => string) | undefined;
    if (reader) {
      const read = await readItems(request, response, reader);
      if (!read) return;
      body = read.body;
      toBodyPointer = read.toBodyPointer;
    }
    const input = inputOf(request, operation, queryNames, takesBody ? body : undefined);
    if (typeof input === 'string') return invalid(request, response, input);
    const idempotencyKey = operation.idempotent ? request.get('idempotency-key') : undefined;
    const answer = await operation.run(input, {
      clientId: clientIdOf(request),
      requestId: response.locals.requestId as string,
      door: 'rest',
      trace: traceScopeOf(response),
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    });
    if (answer.replayOf !== undefined) response.setHeader('Idempotent-Replayed', 'true');
    if (!answer.ok)
      return sendFailure(response, toBodyPointer ? repoint(answer.failure, toBodyPointer) : answer.failure, request.originalUrl);
    if (answer.location) response.setHeader('Location', answer.location);
    if (answer.body === undefined) return void response.status(answer.status).end();
    response.status(answer.status).json(answer.body);
  });
  const method = rest.method.toLowerCase() as 'get' | 'post' | 'delete';
  router[method](expressPath(rest.path), ...handlers);
}

/** The operation input; a string says what is wrong with the request's shape (a repeated query parameter, a body that is not an object). */
function inputOf(
  request: Request,
  operation: CompiledLocalOperation,
  queryNames: readonly string[],
  body: unknown,
): Record<string, unknown> | string {
  const input: Record<string, unknown> = {};
  for (const name of Object.keys(request.query)) {
    if (!queryNames.includes(name))
      return `undeclared query parameter ${JSON.stringify(name)} (${queryNames.length > 0 ? `this route takes ${queryNames.join(', ')}` : 'this route takes none'})`;
    const value = request.query[name];
    if (typeof value !== 'string') return `query parameter ${JSON.stringify(name)} must be given once`;
    input[name] = value;
  }
  for (const [name, value] of Object.entries(request.params)) input[name] = value;
  operation.coerceText(input);
  if (operation.bodyProperties.length > 0) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body must be a JSON object';
    Object.assign(input, body);
  }
  return input;
}

/** The `items` reader takes `{"<itemsName>": [...]}` as JSON, or one item per line as NDJSON. */
function requireItemsType(reader: ItemsBody): RequestHandler {
  return (request, response, next) => {
    if (request.is([...JSON_TYPES, NDJSON])) return next();
    sendProblem(response, {
      type: 'unsupported-media-type',
      title: 'Unsupported media type',
      status: 415,
      detail: `Send {"${reader.itemsName}": [...]} as "Content-Type: application/json", or one item per line as "Content-Type: ${NDJSON}".`,
      instance: request.originalUrl,
    });
  };
}

/**
 * Streams the items within the reader's limits, or answers why not (and returns nothing). NDJSON lines are the
 * items themselves, so a problem at `/<itemsName>/3` is at `/3` of that body.
 */
async function readItems(
  request: Request,
  response: Response,
  { itemsName, limits }: ItemsBody,
): Promise<{ body: Record<string, unknown>; toBodyPointer?: (pointer: string) => string } | undefined> {
  const ndjson = request.is(NDJSON) === NDJSON;
  const read = await readBatchBody(request, ndjson ? 'ndjson' : 'json', itemsName, limits);
  if (!read.ok) {
    // Refused before the body was read to its end: the rest is dropped and this connection not reused.
    if (!request.complete) response.setHeader('Connection', 'close');
    sendProblem(response, {
      type: read.type,
      title: read.title,
      status: read.status,
      detail: read.detail,
      instance: request.originalUrl,
      ...(read.pointer !== undefined ? { errors: [{ pointer: read.pointer, detail: read.detail }] } : {}),
    });
    return undefined;
  }
  const body = { [itemsName]: read.items };
  if (!ndjson) return { body };
  const envelope = `/${itemsName}`;
  return {
    body,
    toBodyPointer: (pointer) => (pointer === envelope || pointer.startsWith(`${envelope}/`) ? pointer.slice(envelope.length) : pointer),
  };
}

function repoint(failure: OperationFailure, toBodyPointer: (pointer: string) => string): OperationFailure {
  if (!failure.problems) return failure;
  return { ...failure, problems: failure.problems.map((problem) => ({ ...problem, pointer: toBodyPointer(problem.pointer) })) };
}

function invalid(request: Request, response: Response, detail: string): void {
  sendProblem(response, {
    type: 'invalid-input',
    title: 'Invalid input',
    status: 400,
    detail: `${detail}.`,
    instance: request.originalUrl,
  });
}
