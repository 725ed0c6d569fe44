import { randomUUID } from 'node:crypto';
import type { OperationExecutor } from '@gateway/core';
import type { Logger } from 'pino';
import type { ToolCatalogue } from './tool-catalogue.ts';
import { errorResult, type ToolResult, toToolResult, UnknownToolError } from './tool-result.ts';

export interface ToolCallParts {
  readonly catalogue: ToolCatalogue;
  /** The shared executor: the only path to an upstream. */
  readonly executor: OperationExecutor;
  readonly logger: Logger;
  /** Every upstream secret in use; none of them may leave in a result. */
  readonly secrets: () => readonly string[];
}

export type ToolCaller = (name: string, args: unknown, signal?: AbortSignal) => Promise<ToolResult>;

/** `tools/call`: find the tool (or throw UnknownToolError), run its operation through the executor, shape the answer for an agent. */
export function createToolCaller({ catalogue, executor, logger, secrets }: ToolCallParts): ToolCaller {
  return async (name, args, signal) => {
    const entry = catalogue.find(name);
    if (!entry) throw new UnknownToolError(name, catalogue.tools.map((t) => t.name));
    const requestId = randomUUID();
    const log = { requestId, tool: name, plugin: entry.pluginId, operation: entry.operationId };
    try {
      const result = await executor.execute({
        pluginId: entry.pluginId,
        operationId: entry.operationId,
        input: args ?? {},
        requestId,
        ...(signal ? { signal } : {}),
      });
      logger.info(
        result.ok
          ? { ...log, ok: true, upstreamStatus: result.status }
          : { ...log, ok: false, failure: result.failure.kind, upstreamStatus: result.failure.upstreamStatus },
        'mcp tool call',
      );
      return scrub(toToolResult(name, result), secrets());
    } catch (error) {
      logger.error({ ...log, err: error }, 'mcp tool call failed inside the gateway');
      return errorResult(`The gateway failed to run ${name} (request id ${requestId}). It has been logged; try again later.`);
    }
  };
}

/** Defence in depth: the executor already keeps secrets out of failures; this also covers upstream bodies. */
function scrub(result: ToolResult, secrets: readonly string[]): ToolResult {
  const text = JSON.stringify(result);
  const present = secrets.filter((secret) => secret.length > 0 && text.includes(JSON.stringify(secret).slice(1, -1)));
  if (present.length === 0) return result;
  let clean = text;
  for (const secret of present) clean = clean.replaceAll(JSON.stringify(secret).slice(1, -1), '[redacted]');
  return JSON.parse(clean) as ToolResult;
}
