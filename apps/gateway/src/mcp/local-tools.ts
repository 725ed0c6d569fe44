import type { CompiledLocalOperation } from '../gateway-plugin/local-operation.ts';
import type { ToolCatalogue, ToolDefinition } from './tool-catalogue.ts';
import { errorResult, type ToolResult, toToolResult } from './tool-result.ts';

/** The gateway's own operations that declare a tool, by tool name. */
export type LocalTools = ReadonlyMap<string, CompiledLocalOperation>;

/**
 * The catalogue plus the gateway's own tools (delivery summary, list, retry, discard), each built from its
 * operation's declaration: its input schema is the one REST validates, its output schema the one OpenAPI shows.
 */
export function withLocalTools(
  catalogue: ToolCatalogue,
  operations: readonly CompiledLocalOperation[],
): { catalogue: ToolCatalogue; local: LocalTools } {
  const local = new Map<string, CompiledLocalOperation>();
  const definitions: ToolDefinition[] = [];
  for (const operation of operations) {
    if (!operation.mcp || catalogue.find(operation.mcp.tool)) continue;
    local.set(operation.mcp.tool, operation);
    definitions.push({
      name: operation.mcp.tool,
      title: operation.mcp.title,
      description: operation.mcp.description ?? `${operation.description} Only this client's deliveries count.`,
      inputSchema: operation.input,
      outputSchema: operation.output?.schema ?? { type: 'object' },
      annotations: { title: operation.mcp.title, ...operation.mcp.hints },
    });
  }
  return { catalogue: { ...catalogue, tools: [...catalogue.tools, ...definitions], find: (name) => catalogue.find(name) }, local };
}

/** Runs a local tool: its answer body as structured content, or a refusal an agent can act on. */
export async function callLocalTool(
  name: string,
  operation: CompiledLocalOperation,
  args: unknown,
  context: { readonly clientId: string; readonly requestId: string },
): Promise<ToolResult> {
  const input = typeof args === 'object' && args !== null && !Array.isArray(args) ? (args as Record<string, unknown>) : {};
  const answer = await operation.run(input, context);
  if (!answer.ok) return toToolResult(name, { ok: false, failure: answer.failure, requestId: context.requestId, attempts: 0 });
  if (answer.body === undefined) return { content: [{ type: 'text', text: 'Done.' }] };
  if (typeof answer.body !== 'object' || answer.body === null) return errorResult(`${name} answered an unexpected value.`);
  return { content: [{ type: 'text', text: JSON.stringify(answer.body) }], structuredContent: answer.body as Record<string, unknown> };
}
