import {
  InputError,
  type ExecutionRequest,
  type OperationExecutor,
  type OperationFailure,
  type OperationResult,
  type UpstreamRequest,
} from '@gateway/core';
import type { Logger } from 'pino';
import { inject, injectable } from 'tsyringe';
import type { GatewayConfig } from './config.ts';
import type { LoadedOperation, PluginRegistry } from './plugins/plugin-registry.ts';
import { CONFIG, LOGGER, PLUGIN_REGISTRY, UPSTREAM_CLIENT } from './tokens.ts';
import { failureFromStatus, failureFromTransport } from './upstream/classify-response.ts';
import { defaultUpstreamRequest } from './upstream/default-request.ts';
import { type UpstreamClient, UpstreamTransportError } from './upstream/upstream-client.ts';

/** Validate, shape, inject credentials, call upstream, map the answer: the only path to an upstream. */
@injectable()
export class Executor implements OperationExecutor {
  constructor(
    @inject(PLUGIN_REGISTRY) private readonly registry: PluginRegistry,
    @inject(UPSTREAM_CLIENT) private readonly client: UpstreamClient,
    @inject(CONFIG) private readonly config: GatewayConfig,
    @inject(LOGGER) private readonly logger: Logger,
  ) {}

  async execute(request: ExecutionRequest): Promise<OperationResult> {
    const { requestId } = request;
    const fail = (failure: OperationFailure, attempts = 0): OperationResult => ({ ok: false, failure, requestId, attempts });
    const entry = this.registry.find(request.pluginId, request.operationId);
    if (!entry) {
      return fail({ kind: 'unknown-operation', status: 404, title: 'Unknown operation', detail: `No operation ${request.pluginId}/${request.operationId}.` });
    }
    const problems = entry.validateInput(request.input);
    if (problems.length > 0) return fail(invalidInput(problems));

    let upstreamRequest: UpstreamRequest;
    try {
      upstreamRequest = entry.operation.upstream.toRequest
        ? entry.operation.upstream.toRequest(request.input, { requestId })
        : defaultUpstreamRequest(entry.operation, request.input as Record<string, unknown>);
    } catch (error) {
      if (error instanceof InputError) return fail(invalidInput(error.problems));
      throw error;
    }
    return this.call(entry, upstreamRequest, request);
  }

  private async call(entry: LoadedOperation, upstreamRequest: UpstreamRequest, request: ExecutionRequest): Promise<OperationResult> {
    const { loaded, operation } = entry;
    const { requestId } = request;
    const started = performance.now();
    const upstreamTitle = loaded.mode === 'sandbox' ? `${loaded.descriptor.title} (sandbox)` : loaded.descriptor.title;
    const log = { requestId, plugin: loaded.descriptor.id, operation: operation.id, attempt: 1 };
    try {
      const response = await this.client.send({
        baseUrl: loaded.baseUrl,
        request: upstreamRequest,
        headers: { 'x-request-id': requestId, ...loaded.credentials.headers },
        query: loaded.credentials.query,
        ...(request.signal ? { signal: request.signal } : {}),
      });
      this.logger.debug({ ...log, upstreamStatus: response.status, durationMs: Math.round(performance.now() - started) }, 'upstream answered');
      if (response.status >= 200 && response.status < 300) {
        const body = operation.upstream.fromResponse ? operation.upstream.fromResponse(response) : response.body;
        return { ok: true, status: response.status, body, requestId, attempts: 1 };
      }
      const failure =
        operation.upstream.errors === 'passthrough'
          ? passthrough(response.status, response.body, upstreamTitle)
          : failureFromStatus(response, {
              upstreamTitle,
              credentialSources: credentialSources(entry),
              scrub: (text) => this.scrub(text),
            });
      return { ok: false, failure, requestId, attempts: 1 };
    } catch (error) {
      if (!(error instanceof UpstreamTransportError)) throw error;
      this.logger.warn({ ...log, failure: error.failure, code: error.code, durationMs: Math.round(performance.now() - started) }, 'upstream did not answer');
      return { ok: false, failure: failureFromTransport(error, upstreamTitle, this.config.upstreamTimeoutMs), requestId, attempts: 1 };
    }
  }

  private scrub(text: string): string {
    let clean = text;
    for (const secret of this.registry.secrets()) clean = clean.replaceAll(secret, '[redacted]');
    return clean;
  }
}

function invalidInput(problems: OperationFailure['problems']): OperationFailure {
  return {
    kind: 'invalid-input',
    status: 400,
    title: 'Invalid input',
    detail: (problems ?? []).map((p) => `${p.pointer || '/'} ${p.message}`).join('; '),
    problems: problems ?? [],
  };
}

function passthrough(status: number, body: unknown, upstream: string): OperationFailure {
  return { kind: 'upstream-status', status, title: `${upstream} answered ${status}`, detail: `${upstream} answered ${status}.`, upstreamStatus: status, upstreamBody: body };
}

function credentialSources(entry: LoadedOperation): string[] {
  const auth = entry.loaded.descriptor.upstream.auth;
  if (!auth) return [];
  return auth.type === 'basic' ? [auth.username.source, auth.secret.source] : [auth.secret.source];
}
