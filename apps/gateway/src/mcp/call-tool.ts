import { randomUUID } from 'node:crypto';
import type { OperationExecutor, OperationResult } from '@gateway/core';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.ts';
import { IDEMPOTENCY_KEY_ARGUMENT } from './tool-catalogue.ts';
import type { ToolCatalogue } from './tool-catalogue.ts';
import type { DeliveryService } from '../delivery/delivery-service.ts';
import { Dispatch, type DispatchParts } from '../dispatch.ts';
import type { CompiledLocalOperation } from '../gateway-plugin/local-operation.ts';
import { callLocalTool, type LocalTools } from './local-tools.ts';
import { errorResult, type ToolResult, toToolResult, UnknownToolError } from './tool-result.ts';

export interface ToolCallParts {
  readonly catalogue: ToolCatalogue;
  /** The shared executor: the only path to an upstream. */
  readonly executor: OperationExecutor;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The delivery queue, when the catalogue has batch or delivery tools. */
  readonly deliveries?: DeliveryService | undefined;
  /** DELIVERY_MODE: `queue` queues a queueable operation's tool call as REST queues its request. */
  readonly deliveryMode?: 'sync' | 'queue';
  /** The loaded operations, for the dispatch to know which may be queued. */
  readonly operations: DispatchParts['operations'];
  /** The gateway's own tools (withLocalTools). */
  readonly local?: LocalTools;
}

export interface ToolCallContext {
  readonly signal?: AbortSignal;
  /** Who calls (clientIdOf: the inbound key's client id, else its address): scopes idempotency keys and deliveries. */
  readonly clientId?: string;
}

export type ToolCaller = (name: string, args: unknown, context?: ToolCallContext) => Promise<ToolResult>;

/** `tools/call`: find the tool (or throw UnknownToolError), run its operation through the executor, shape the answer for an agent. */
export function createToolCaller({
  catalogue,
  executor,
  logger,
  metrics,
  deliveries,
  deliveryMode = 'sync',
  operations,
  local,
}: ToolCallParts): ToolCaller {
  const dispatch = new Dispatch({ executor, deliveries, mode: deliveryMode, operations });
  return async (name, args, context = {}) => {
    const localOperation = local?.get(name);
    if (localOperation) return runLocalTool(name, localOperation, args, context, { logger, metrics });
    const entry = catalogue.find(name);
    if (!entry) {
      metrics.mcpToolCalls.inc({ tool: 'unknown', outcome: 'unknown_tool' });
      throw new UnknownToolError(
        name,
        catalogue.tools.map((t) => t.name),
      );
    }
    const { input, idempotencyKey } = entry.acceptsIdempotencyKey ? splitIdempotencyKey(args) : { input: args, idempotencyKey: undefined };
    const { signal, clientId } = context;
    const requestId = randomUUID();
    const log = { requestId, tool: name, plugin: entry.pluginId, operation: entry.operationId };
    try {
      // Never a shared stand-in: a call without a client would see every other anonymous caller's deliveries.
      if (clientId === undefined) throw new Error('tool call without a client id');
      if (entry.kind === 'get-delivery') return await getDelivery(deliveries, args, clientId);
      const call = {
        pluginId: entry.pluginId,
        operationId: entry.operationId,
        requestId,
        clientId,
        ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
      };
      const result =
        entry.kind === 'batch' && entry.batch
          ? await queueBatch(dispatch, call, input, entry.batch)
          : (await dispatch.call({ ...call, input: input ?? {}, ...(signal ? { signal } : {}) })).result;
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

async function runLocalTool(
  name: string,
  operation: CompiledLocalOperation,
  args: unknown,
  { clientId }: ToolCallContext,
  { logger, metrics }: Pick<ToolCallParts, 'logger' | 'metrics'>,
): Promise<ToolResult> {
  const requestId = randomUUID();
  try {
    if (clientId === undefined) throw new Error('tool call without a client id');
    const result = await callLocalTool(name, operation, args, { clientId, requestId });
    metrics.mcpToolCalls.inc({ tool: name, outcome: result.isError ? 'error' : 'success' });
    return result;
  } catch (error) {
    metrics.mcpToolCalls.inc({ tool: name, outcome: 'error' });
    logger.error({ requestId, tool: name, err: error }, 'mcp tool call failed inside the gateway');
    return errorResult(`The gateway failed to run ${name} (request id ${requestId}). It has been logged; try again later.`);
  }
}

async function queueBatch(
  dispatch: Dispatch,
  call: { pluginId: string; operationId: string; requestId: string; clientId: string; idempotencyKey?: string },
  input: unknown,
  batch: { readonly itemsName: string; readonly maxItems: number },
): Promise<OperationResult> {
  const items =
    typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>)[batch.itemsName] : undefined;
  const extra = typeof input === 'object' && input !== null ? Object.keys(input).filter((key) => key !== batch.itemsName) : [];
  const invalid = (pointer: string, message: string): OperationResult => ({
    ok: false,
    failure: { kind: 'invalid-input', status: 400, title: 'Invalid input', detail: message, problems: [{ pointer, message }] },
    requestId: call.requestId,
    attempts: 0,
  });
  if (!Array.isArray(items)) return invalid(`/${batch.itemsName}`, `is required: an array of 1 to ${batch.maxItems} items`);
  if (extra.length > 0) return invalid(`/${extra[0]}`, 'is not an argument of this tool');
  const result = await dispatch.batch(call, items, { maxItems: batch.maxItems });
  if (result.ok || !result.failure.problems) return result;
  return {
    ...result,
    failure: { ...result.failure, problems: result.failure.problems.map((p) => ({ ...p, pointer: `/${batch.itemsName}${p.pointer}` })) },
  };
}

async function getDelivery(deliveries: DeliveryService | undefined, args: unknown, clientId: string): Promise<ToolResult> {
  const id = typeof args === 'object' && args !== null ? (args as Record<string, unknown>).id : undefined;
  if (typeof id !== 'string' || id === '')
    return errorResult('Invalid arguments for gateway-get-delivery: `id` (a delivery id string) is required.');
  const delivery = deliveries ? await deliveries.get(id, clientId) : undefined;
  if (!delivery)
    return errorResult(
      `No delivery ${JSON.stringify(id)} for this client: check the id (deliveries are visible only to the client that queued them).`,
    );
  return { content: [{ type: 'text', text: JSON.stringify(delivery) }], structuredContent: { ...delivery } };
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
