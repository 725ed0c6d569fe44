import { type OperationExecutor, type RestParameterSource, restParameterSources } from '@gateway/core';
import express, { type IRouter, type Request, type RequestHandler } from 'express';
import type { LoadedOperation } from '../plugins/plugin-registry.ts';
import { sendFailure, sendProblem } from './problem.ts';

const JSON_TYPES = ['application/json', 'application/*+json'];

/** Express path (`/users/:id`) for a REST exposure. */
export function expressPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

/** Mounts one REST exposure: content-type check, JSON parsing, input assembly, then the shared executor. */
export function mountOperation(router: IRouter, entry: LoadedOperation, executor: OperationExecutor, bodyLimitBytes: number): void {
  const { operation, plugin } = entry;
  if (!operation.rest) return;
  const sources = restParameterSources(entry.operation);
  const takesBody = Object.values(sources).includes('body');
  const handlers: RequestHandler[] = [];
  if (takesBody) {
    handlers.push((request, response, next) => {
      if (request.is(JSON_TYPES)) return next();
      sendProblem(response, {
        type: 'unsupported-media-type',
        title: 'Unsupported media type',
        status: 415,
        detail: `Send the body as JSON with "Content-Type: application/json" (got ${request.get('content-type') ? `"${request.get('content-type')}"` : 'no content type'}).`,
        instance: request.originalUrl,
      });
    });
    handlers.push(express.json({ limit: bodyLimitBytes, strict: false, type: JSON_TYPES }));
  }
  handlers.push(async (request, response) => {
    const idempotencyKey = request.get('idempotency-key');
    const result = await executor.execute({
      pluginId: plugin.id,
      operationId: operation.id,
      input: assembleInput(request, sources),
      requestId: response.locals.requestId as string,
      clientId: (response.locals.clientId as string | undefined) ?? request.ip ?? 'anonymous',
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    });
    response.locals.upstreamAttempts = result.attempts;
    response.locals.upstreamStatus = result.ok ? result.status : result.failure.upstreamStatus;
    if (result.replayed) response.setHeader('Idempotent-Replayed', 'true');
    if (!result.ok) {
      if (result.failure.kind === 'upstream-status') {
        return void sendRaw(response, result.failure.status, result.failure.upstreamBody);
      }
      return sendFailure(response, result.failure, request.originalUrl);
    }
    sendRaw(response, result.status, result.body);
  });
  const method = operation.rest.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
  router[method](expressPath(operation.rest.path), ...handlers);
}

function sendRaw(response: express.Response, status: number, body: unknown): void {
  if (body === undefined || body === '') return void response.status(status).end();
  if (typeof body === 'string') return void response.status(status).type('text/plain').send(body);
  response.status(status).json(body);
}

function assembleInput(request: Request, sources: Record<string, RestParameterSource>): Record<string, unknown> {
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
  return input;
}
