import type { CompiledLocalOperation, LocalContext } from '../gateway-plugin/local-operation.ts';
import { errorResult, type ToolResult, toToolResult } from './tool-result.ts';

/**
 * Runs one of the gateway's own operations as a tool: its answer body as structured content (or, for `answers:
 * 'call'`, the call as a plugin tool's result), or a refusal an agent can act on.
 */
export async function callLocalTool(
  name: string,
  operation: CompiledLocalOperation,
  args: unknown,
  context: LocalContext,
): Promise<ToolResult> {
  const input = typeof args === 'object' && args !== null && !Array.isArray(args) ? (args as Record<string, unknown>) : {};
  const answer = await operation.run(input, context);
  const facts = {
    requestId: context.requestId,
    attempts: 0,
    ...(answer.replayOf !== undefined ? { replayed: true, originalRequestId: answer.replayOf } : {}),
  };
  if (!answer.ok) return toToolResult(name, { ok: false, failure: answer.failure, ...facts });
  if (operation.mcp?.answers === 'call') return toToolResult(name, { ok: true, status: answer.status, body: answer.body, ...facts });
  if (answer.body === undefined) return { content: [{ type: 'text', text: 'Done.' }] };
  if (typeof answer.body !== 'object' || answer.body === null) return errorResult(`${name} answered an unexpected value.`);
  return { content: [{ type: 'text', text: JSON.stringify(answer.body) }], structuredContent: answer.body as Record<string, unknown> };
}
