import { randomUUID } from 'node:crypto';
import type { OperationResult } from '@gateway/core';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.ts';
import { IDEMPOTENCY_KEY_ARGUMENT } from './tool-catalogue.ts';
import type { ToolCatalogue, ToolEntry } from './tool-catalogue.ts';
import type { Dispatch } from '../dispatch.ts';
import type { CompiledLocalOperation } from '../gateway-plugin/local-operation.ts';
import { callLocalTool } from './local-tools.ts';
import { errorResult, type ToolResult, toToolResult, UnknownToolError } from './tool-result.ts';
import { type TraceCarrier, type TraceScope, traceLogFields, traceToolCall } from '../observability/tracing.ts';

export interface ToolCallParts {
  readonly catalogue: ToolCatalogue;
  /** Direct or queued, as for every door: the only path to an upstream. */
  readonly dispatch: Dispatch;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export interface ToolCallContext {
  readonly signal?: AbortSignal;
  /** Who calls (clientIdOf: the inbound key's client id, else its address): scopes idempotency keys and deliveries. */
  readonly clientId?: string;
  /** The caller's W3C trace context (`_meta.traceparent` of the tools/call), when it sent a valid one. */
  readonly traceparent?: string;
  /** The request's `_meta` (MCP 2026-07-28 carries `traceparent`/`tracestate` there). */
  readonly meta?: TraceCarrier;
  /** The span of the HTTP request that carried the call (tracing on). */
  readonly trace?: TraceScope | undefined;
}

export type ToolCaller = (name: string, args: unknown, context?: ToolCallContext) => Promise<ToolResult>;

/** `tools/call`: find the tool (or throw UnknownToolError), run its operation through the dispatch, shape the answer for an agent. */
export function createToolCaller({ catalogue, dispatch, logger, metrics }: ToolCallParts): ToolCaller {
  /** `trace`: the tool call's own span. */
  const call = async (name: string, args: unknown, context: ToolCallContext, trace: TraceScope | undefined): Promise<ToolResult> => {
    const entry = catalogue.find(name);
    if (!entry) {
      metrics.mcpToolCalls.inc({ tool: 'unknown', outcome: 'unknown_tool' });
      throw new UnknownToolError(
        name,
        catalogue.tools.map((t) => t.name),
      );
    }
    const { input, idempotencyKey } = entry.acceptsIdempotencyKey ? splitIdempotencyKey(args) : { input: args, idempotencyKey: undefined };
    if (entry.kind === 'local')
      return runLocalTool(name, entry.operation, input, context.clientId, trace, idempotencyKey, { logger, metrics });
    const { signal, clientId, traceparent } = context;
    const requestId = randomUUID();
    // One literal per line, spreads last (spread, then add: slow on Node 20; docs/performance.md).
    const line = (facts: object) => ({
      requestId,
      tool: name,
      plugin: entry.pluginId,
      operation: entry.operationId,
      ...facts,
      ...(traceparent ? { traceparent } : {}),
      ...traceLogFields(trace),
    });
    try {
      // Never a shared stand-in: a call without a client would see every other anonymous caller's deliveries.
      if (clientId === undefined) throw new Error('tool call without a client id');
      const { result } = await dispatch.call({
        pluginId: entry.pluginId,
        operationId: entry.operationId,
        requestId,
        clientId,
        trace,
        input: input ?? {},
        ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
        ...(signal && readOnly(entry) ? { signal } : {}),
      });
      metrics.mcpToolCalls.inc({ tool: name, outcome: outcomeOf(result) });
      logger.info(
        result.ok
          ? line({ ok: true, upstreamStatus: result.status })
          : line({ ok: false, failure: result.failure.kind, upstreamStatus: result.failure.upstreamStatus }),
        'mcp tool call',
      );
      // No redaction here: the executor removes echoed secrets from every result, for every front door.
      return toToolResult(name, result);
    } catch (error) {
      metrics.mcpToolCalls.inc({ tool: name, outcome: 'error' });
      logger.error(line({ err: error }), 'mcp tool call failed inside the gateway');
      return errorResult(`The gateway failed to run ${name} (request id ${requestId}). It has been logged; try again later.`);
    }
  };
  return (name, args, context = {}) => traceToolCall(name, context.meta, context.trace, (trace) => call(name, args, context, trace));
}

async function runLocalTool(
  name: string,
  operation: CompiledLocalOperation,
  args: unknown,
  clientId: string | undefined,
  trace: TraceScope | undefined,
  idempotencyKey: string | undefined,
  { logger, metrics }: Pick<ToolCallParts, 'logger' | 'metrics'>,
): Promise<ToolResult> {
  const requestId = randomUUID();
  try {
    if (clientId === undefined) throw new Error('tool call without a client id');
    const result = await callLocalTool(name, operation, args, {
      clientId,
      requestId,
      door: 'mcp',
      trace,
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    });
    metrics.mcpToolCalls.inc({ tool: name, outcome: result.isError ? 'error' : 'success' });
    return result;
  } catch (error) {
    metrics.mcpToolCalls.inc({ tool: name, outcome: 'error' });
    logger.error({ requestId, tool: name, err: error, ...traceLogFields(trace) }, 'mcp tool call failed inside the gateway');
    return errorResult(`The gateway failed to run ${name} (request id ${requestId}). It has been logged; try again later.`);
  }
}

/**
 * Whether a client going away may abort the call. The SDK aborts the signal when the client closes the stream
 * (2026-07-28 cancellation): a send already under way must then complete (neither lost nor half-sent and retried).
 */
function readOnly(entry: ToolEntry): boolean {
  return entry.definition.annotations.readOnlyHint;
}

/** `idempotencyKey` is a tool argument beside the operation input, not part of it. A non-string key stays in the input and fails validation. */
function splitIdempotencyKey(args: unknown): { input: unknown; idempotencyKey: string | undefined } {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return { input: args, idempotencyKey: undefined };
  // Most calls carry no key: the arguments are then the input as they are, not copied.
  const key = (args as Record<string, unknown>)[IDEMPOTENCY_KEY_ARGUMENT];
  if (typeof key !== 'string') return { input: args, idempotencyKey: undefined };
  const { [IDEMPOTENCY_KEY_ARGUMENT]: _key, ...input } = args as Record<string, unknown>;
  return { input, idempotencyKey: key };
}

function outcomeOf(result: OperationResult): string {
  if (result.ok) return 'success';
  return result.failure.kind === 'invalid-input' ? 'invalid_input' : 'upstream_error';
}
