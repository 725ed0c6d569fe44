import { randomUUID } from 'node:crypto';
import type { OperationExecutor, OperationResult } from '@gateway/core';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.ts';
import { IDEMPOTENCY_KEY_ARGUMENT } from './tool-catalogue.ts';
import type { ToolCatalogue } from './tool-catalogue.ts';
import { errorResult, type ToolResult, toToolResult, UnknownToolError } from './tool-result.ts';

export interface ToolCallParts {
  readonly catalogue: ToolCatalogue;
  /** The shared executor: the only path to an upstream. */
  readonly executor: OperationExecutor;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export interface ToolCallContext {
  readonly signal?: AbortSignal;
  /** Who calls: the inbound key's client id when keys are configured. Scopes idempotency keys. */
  readonly clientId?: string;
}

export type ToolCaller = (name: string, args: unknown, context?: ToolCallContext) => Promise<ToolResult>;

/** `tools/call`: find the tool (or throw UnknownToolError), run its operation through the executor, shape the answer for an agent. */
export function createToolCaller({ catalogue, executor, logger, metrics }: ToolCallParts): ToolCaller {
  return async (name, args, context = {}) => {
    const entry = catalogue.find(name);
    if (!entry) {
      metrics.mcpToolCalls.inc({ tool: 'unknown', outcome: 'unknown_tool' });
      throw new UnknownToolError(name, catalogue.tools.map((t) => t.name));
    }
    const { input, idempotencyKey } = entry.acceptsIdempotencyKey ? splitIdempotencyKey(args) : { input: args, idempotencyKey: undefined };
    const { signal, clientId } = context;
    const requestId = randomUUID();
    const log = { requestId, tool: name, plugin: entry.pluginId, operation: entry.operationId };
    try {
      const result = await executor.execute({
        pluginId: entry.pluginId,
        operationId: entry.operationId,
        input: input ?? {},
        requestId,
        ...(signal ? { signal } : {}),
        ...(clientId ? { clientId } : {}),
        ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
      });
      metrics.mcpToolCalls.inc({ tool: name, outcome: outcomeOf(result) });
      logger.info(
        result.ok
          ? { ...log, ok: true, upstreamStatus: result.status }
          : { ...log, ok: false, failure: result.failure.kind, upstreamStatus: result.failure.upstreamStatus },
        'mcp tool call',
      );
      // No redaction here: the executor removes echoed secrets from every result, for every front door.
      return toToolResult(name, result);
    } catch (error) {
      metrics.mcpToolCalls.inc({ tool: name, outcome: 'error' });
      logger.error({ ...log, err: error }, 'mcp tool call failed inside the gateway');
      return errorResult(`The gateway failed to run ${name} (request id ${requestId}). It has been logged; try again later.`);
    }
  };
}

/** `idempotencyKey` is a tool argument beside the operation input, not part of it. A non-string key stays in the input and fails validation. */
function splitIdempotencyKey(args: unknown): { input: unknown; idempotencyKey: string | undefined } {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return { input: args, idempotencyKey: undefined };
  const { [IDEMPOTENCY_KEY_ARGUMENT]: key, ...input } = args as Record<string, unknown>;
  if (key === undefined) return { input: args, idempotencyKey: undefined };
  if (typeof key !== 'string') return { input: args, idempotencyKey: undefined };
  return { input, idempotencyKey: key };
}

function outcomeOf(result: OperationResult): string {
  if (result.ok) return 'success';
  return result.failure.kind === 'invalid-input' ? 'invalid_input' : 'upstream_error';
}
