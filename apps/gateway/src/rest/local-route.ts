import express, { type IRouter, type Request, type RequestHandler, type Response } from 'express';
import { clientIdOf } from '../auth/client-identity.ts';
import type { CompiledLocalOperation } from '../gateway-plugin/local-operation.ts';
import { expressPath } from './operation-route.ts';
import { sendFailure, sendProblem } from './problem.ts';

const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * Mounts one of the gateway's own operations: its input gathered from path, query and JSON body as declared,
 * validated against its one schema, handed to its local handler; the answer as JSON or problem+json.
 */
export function mountLocalOperation(router: IRouter, operation: CompiledLocalOperation, bodyLimitBytes: number): void {
  const queryNames = Object.entries(operation.parameters ?? {})
    .filter(([, place]) => place === 'query')
    .map(([name]) => name);
  const takesBody = operation.bodyProperties.length > 0;
  const handlers: RequestHandler[] = [];
  if (takesBody) {
    handlers.push((request, response, next) => {
      if (request.is(JSON_TYPES)) return next();
      sendProblem(response, {
        type: 'unsupported-media-type',
        title: 'Unsupported media type',
        status: 415,
        detail: 'Send the body as JSON with "Content-Type: application/json".',
        instance: request.originalUrl,
      });
    });
    handlers.push(express.json({ limit: bodyLimitBytes, strict: false, type: JSON_TYPES }));
  }
  handlers.push(async (request, response) => {
    const input = inputOf(request, operation, queryNames, takesBody);
    if (typeof input === 'string') return invalid(request, response, input);
    const answer = await operation.run(input, { clientId: clientIdOf(request), requestId: response.locals.requestId as string });
    if (!answer.ok) return sendFailure(response, answer.failure, request.originalUrl);
    if (answer.location) response.setHeader('Location', answer.location);
    if (answer.body === undefined) return void response.status(answer.status).end();
    response.status(answer.status).json(answer.body);
  });
  const method = operation.rest.method.toLowerCase() as 'get' | 'post' | 'delete';
  router[method](expressPath(operation.rest.path), ...handlers);
}

/** The operation input; a string says what is wrong with the request's shape (a repeated query parameter, a body that is not an object). */
function inputOf(
  request: Request,
  operation: CompiledLocalOperation,
  queryNames: readonly string[],
  takesBody: boolean,
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
  if (takesBody) {
    const body: unknown = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body must be a JSON object';
    Object.assign(input, body);
  }
  return input;
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
