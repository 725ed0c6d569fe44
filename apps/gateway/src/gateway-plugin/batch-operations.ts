import type { DeliveryExposure, JsonSchema, OperationFailure, OperationResult } from '@gateway/core';
import { BATCH_ACCEPTED_SCHEMA } from '../delivery/delivery-schemas.ts';
import type { Dispatch } from '../dispatch.ts';
import { openApiPath } from '../openapi/operation.ts';
import type { LoadedOperation } from '../plugins/plugin-registry.ts';
import { UnreadableItem } from '../rest/batch-body.ts';
import { restBatchLimits } from './batch-limits.ts';
import { GET_DELIVERY_TOOL, QUEUE_FULL } from './delivery-operations.ts';
import type { LocalAnswer, LocalOperation } from './local-operation.ts';

type Batch = NonNullable<DeliveryExposure['batch']>;

const BATCH_RESULT_GUIDE =
  'Result: structuredContent.body has `accepted`, `rejected` and `results` (per item, in order: its delivery `id`, or its `errors`). ' +
  `Accepted items are stored and delivered in the background, retried for hours if the upstream is unavailable; check one with ${GET_DELIVERY_TOOL}. ` +
  'When no item is valid, the result has isError: true listing each problem.';

/** One gateway operation per plugin operation that declares `delivery.batch`: many of its bodies, queued at once. */
export function batchOperations(operations: readonly LoadedOperation[], dispatch: Dispatch, bodyLimitBytes: number): LocalOperation[] {
  return operations.flatMap((entry) => {
    const batch = entry.operation.delivery?.batch;
    return batch && (batch.rest || batch.mcp) ? [batchOperation(entry, batch, dispatch, bodyLimitBytes)] : [];
  });
}

/**
 * `{ <itemsName>: [...] }`, each item the operation's `body`. REST streams it (JSON or NDJSON) within
 * `restBatchLimits`; MCP takes `batch.mcp.maxItems` items. `run` checks the envelope only: the dispatch validates
 * each item on its own with the operation's one validator, so valid items are queued even when others are not.
 */
function batchOperation(entry: LoadedOperation, batch: Batch, dispatch: Dispatch, bodyLimitBytes: number): LocalOperation {
  const { plugin, operation } = entry;
  const { itemsName } = batch;
  const limits = restBatchLimits(batch, bodyLimitBytes);
  const { maxItems, maxItemBytes, maxBodyBytes } = limits;
  const itemSchema = (operation.input.properties as Record<string, JsonSchema>).body as JsonSchema;
  const envelope = (items: JsonSchema): JsonSchema => ({
    type: 'object',
    additionalProperties: false,
    required: [itemsName],
    properties: { [itemsName]: items },
  });
  const exampleItem = (operation.example as { body?: unknown } | undefined)?.body;
  const single = operation.rest ? `\`${operation.rest.method} ${openApiPath(operation.rest.path)}\`` : `\`${operation.id}\``;
  return {
    id: `${operation.id}Batch`,
    title: `${operation.title}: many, queued`,
    description:
      `Queues 1 to ${maxItems} items for durable delivery to ${plugin.title}; each item is exactly the body of ${single} ` +
      `and is validated on its own: valid items are queued even when others are rejected. Send \`{"${itemsName}": [...]}\` as JSON, or one item per line as ` +
      '`application/x-ndjson` (for back-fills; a line that is not JSON is rejected on its own, indexes count non-blank lines from 0). ' +
      `Limits, checked while the body streams in (gzip, deflate or br included): ${maxItems} items, ${maxItemBytes} bytes per item. ` +
      'The answer lists every accepted item’s id, and rejected items until 20 problems are listed (`omittedErrors` counts the rest).',
    input: envelope({ type: 'array', minItems: 1, maxItems, items: itemSchema }),
    checks: envelope({ type: 'array' }),
    ...(exampleItem !== undefined ? { example: { [itemsName]: [exampleItem] } } : {}),
    output: { name: 'BatchAccepted', schema: BATCH_ACCEPTED_SCHEMA },
    ...(batch.rest ? { rest: { method: 'POST', path: batch.rest.path, body: { reader: 'items', itemsName, limits } } as const } : {}),
    ...(batch.mcp
      ? {
          mcp: {
            tool: batch.mcp.tool,
            title: batch.mcp.title,
            description: `${batch.mcp.description}\n\n${BATCH_RESULT_GUIDE}`,
            hints: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
            // Not the body schema again (the single tool's inputSchema has it, and it would double the list): its type and a pointer.
            input: envelope({
              type: 'array',
              minItems: 1,
              maxItems: batch.mcp.maxItems,
              items: {
                type: 'object',
                description: `One item: the \`body\` argument of ${operation.mcp ? operation.mcp.tool : operation.id}.`,
              },
            }),
            byDefault: true,
            answers: 'call',
          },
        }
      : {}),
    derivedFrom: { pluginId: plugin.id, operationId: operation.id },
    idempotent: true,
    success: {
      status: 202,
      description:
        'Accepted: the valid items are stored for durable delivery (in one transaction); `results` lists each item’s delivery id or its errors.',
    },
    refusals: {
      400: `Bad request: the body is not \`{"${itemsName}": [...]}\` with 1 to ${maxItems} items, or no item is valid (\`errors\` points at each item's problems, e.g. \`/${itemsName}/3/eventName\`). Nothing was queued.`,
      413: `Payload too large: one item is larger than ${maxItemBytes} bytes, or the body (decompressed) larger than ${Number.isFinite(maxBodyBytes) ? `${maxBodyBytes} bytes, ` : ''}\`BODY_LIMIT\`. Reading stops there; nothing was queued.`,
      429:
        'Too many requests: over this client’s `INBOUND_RATE_LIMIT` (`rate-limited`), or this client already has ' +
        '`DELIVERY_MAX_QUEUED_PER_CLIENT` deliveries pending (`too-many-pending`; nothing was queued). Wait `Retry-After` seconds.',
      503: QUEUE_FULL,
    },
    handle: async (input, context) => {
      const given = input[itemsName] as readonly unknown[];
      const unreadable = new Map<number, string>();
      for (const [index, item] of given.entries()) if (item instanceof UnreadableItem) unreadable.set(index, item.detail);
      const result = await dispatch.batch(
        {
          pluginId: plugin.id,
          operationId: operation.id,
          requestId: context.requestId,
          clientId: context.clientId,
          trace: context.trace,
          ...(context.idempotencyKey !== undefined ? { idempotencyKey: context.idempotencyKey } : {}),
        },
        given.map((item) => (item instanceof UnreadableItem ? null : item)),
        { maxItems: context.door === 'mcp' && batch.mcp ? batch.mcp.maxItems : maxItems, unreadable },
      );
      return answerOf(result, `/${itemsName}`);
    },
  };
}

/** The dispatch's result as a declared answer; its item pointers (`/3/eventName`) put where the items are in the input. */
function answerOf(result: OperationResult, itemsPointer: string): LocalAnswer {
  const replay = result.replayed ? { replayOf: result.originalRequestId ?? result.requestId } : {};
  if (result.ok) return { ok: true, status: result.status, body: result.body, ...replay };
  const failure: OperationFailure = result.failure.problems
    ? { ...result.failure, problems: result.failure.problems.map((p) => ({ ...p, pointer: `${itemsPointer}${p.pointer}` })) }
    : result.failure;
  return { ok: false, failure, ...replay };
}
