import { type RestParameterSource, restParameterSources, type TextCoercion } from '@gateway/core';
import { traceScopeOf } from '../observability/tracing.ts';
import express, { type IRouter, type Request, type RequestHandler } from 'express';
import { clientIdOf } from '../auth/client-identity.ts';
import type { Dispatch } from '../dispatch.ts';
import { deliveryPath } from '../gateway-plugin/delivery-operations.ts';
import type { LoadedOperation } from '../plugins/plugin-registry.ts';
import { sendFailure, sendProblem } from './problem.ts';

const JSON_TYPES = ['application/json', 'application/*+json'];

/** Express path (`/users/:id`) for a REST exposure. */
export function expressPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

/** Mounts one REST exposure: content-type check, JSON parsing, input assembly, then the shared executor. */
export function mountOperation(router: IRouter, entry: LoadedOperation, dispatch: Dispatch, bodyLimitBytes: number): void {
  const { operation, plugin } = entry;
  if (!operation.rest) return;
  const sources = restParameterSources(entry.operation);
  const takesBody = Object.values(sources).includes('body');
  const handlers: RequestHandler[] = [refuseUndeclared(sources, takesBody)];
  if (takesBody) handlers.push(...jsonBody(bodyLimitBytes));
  handlers.push(async (request, response) => {
    const idempotencyKey = request.get('idempotency-key');
    const call = {
      pluginId: plugin.id,
      operationId: operation.id,
      input: assembleInput(request, sources, entry.coerceRestText),
      requestId: response.locals.requestId as string,
      clientId: clientIdOf(request),
      trace: traceScopeOf(response),
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    };
    const asked = prefersAsync(request);
    const { result, queued } = await dispatch.call(call, { preferAsync: asked });
    if (queued) {
      if (result.replayed) response.setHeader('Idempotent-Replayed', 'true');
      if (!result.ok) return sendFailure(response, result.failure, request.originalUrl);
      if (asked) response.setHeader('Preference-Applied', 'respond-async');
      const { id } = result.body as { id: string };
      response.setHeader('Location', deliveryPath(id));
      return void response.status(result.status).json(result.body);
    }
    response.locals.upstreamAttempts = result.attempts;
    response.locals.upstreamStatus = result.ok ? result.status : result.failure.upstreamStatus;
    if (result.replayed) response.setHeader('Idempotent-Replayed', 'true');
    if (!result.ok) {
      if (result.failure.kind === 'upstream-status') {
        return void sendRaw(response, result.failure.status, result.failure.upstreamBody);
      }
      return sendFailure(response, result.failure, request.originalUrl);
    }
    sendRaw(response, operation.responses?.successStatus ?? result.status, result.body);
  });
  const method = operation.rest.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
  router[method](expressPath(operation.rest.path), ...handlers);
}

/** A JSON body of at most BODY_LIMIT, or a 415 naming the content type sent. */
export function jsonBody(bodyLimitBytes: number): RequestHandler[] {
  return [
    (request, response, next) => {
      if (request.is(JSON_TYPES)) return next();
      sendProblem(response, {
        type: 'unsupported-media-type',
        title: 'Unsupported media type',
        status: 415,
        detail: `Send the body as JSON with "Content-Type: application/json" (got ${request.get('content-type') ? `"${request.get('content-type')}"` : 'no content type'}).`,
        instance: request.originalUrl,
      });
    },
    express.json({ limit: bodyLimitBytes, strict: false, type: JSON_TYPES }),
  ];
}

/**
 * A query parameter or a body the operation does not declare is refused, not dropped: MCP refuses an undeclared
 * argument (`additionalProperties: false`), and REST follows the same rule rather than answer 2xx for a request
 * that did not do what the caller wrote.
 */
function refuseUndeclared(sources: Record<string, RestParameterSource>, takesBody: boolean): RequestHandler {
  const declaredQuery = Object.keys(sources).filter((name) => sources[name] === 'query');
  return (request, response, next) => {
    const undeclared = Object.keys(request.query).filter((name) => !declaredQuery.includes(name));
    const problems = [
      ...(undeclared.length > 0
        ? [
            `undeclared query parameter${undeclared.length > 1 ? 's' : ''} ${undeclared.map((name) => JSON.stringify(name)).join(', ')}` +
              ` (${declaredQuery.length > 0 ? `this operation takes ${declaredQuery.map((name) => JSON.stringify(name)).join(', ')}` : 'this operation takes none'})`,
          ]
        : []),
      ...(!takesBody && sendsBody(request) ? ['this operation takes no request body'] : []),
    ];
    if (problems.length === 0) return next();
    sendProblem(response, {
      type: 'invalid-input',
      title: 'Invalid input',
      status: 400,
      detail: `${problems.join('; ')}.`,
      instance: request.originalUrl,
    });
  };
}

/** A request with a non-empty body (a declared length above 0, or a chunked one). */
function sendsBody(request: Request): boolean {
  const length = request.get('content-length');
  return length !== undefined ? length.trim() !== '0' : request.get('transfer-encoding') !== undefined;
}

/** RFC 7240: `Prefer: respond-async` (among other preferences, any case) asks for 202 and a status resource. */
function prefersAsync(request: Request): boolean {
  const prefer = request.get('prefer');
  if (!prefer) return false;
  return prefer.split(',').some((preference) => preference.split(/[=;]/, 1)[0]?.trim().toLowerCase() === 'respond-async');
}

function sendRaw(response: express.Response, status: number, body: unknown): void {
  if (body === undefined || body === '') return void response.status(status).end();
  if (typeof body === 'string') return void response.status(status).type('text/plain').send(body);
  response.status(status).json(body);
}

/** The operation input from where each property travels; path, query and header text converted to its schema type. */
function assembleInput(
  request: Request,
  sources: Record<string, RestParameterSource>,
  coerceText: TextCoercion | undefined,
): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [name, source] of Object.entries(sources)) {
    const value =
      source === 'body'
        ? request.body
        : source === 'path'
          ? request.params[name]
          : source === 'query'
            ? request.query[name]
            : request.get(name);
    if (value !== undefined) input[name] = value;
  }
  coerceText?.(input);
  return input;
}
