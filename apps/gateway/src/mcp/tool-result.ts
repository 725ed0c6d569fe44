import type { InputProblem, OperationFailure, OperationResult } from '@gateway/core';

/** A `tools/call` result (the MCP `CallToolResult` shape, as plain data). */
export interface ToolResult {
  readonly content: readonly { readonly type: 'text'; readonly text: string }[];
  readonly structuredContent?: Readonly<Record<string, unknown>>;
  readonly isError?: boolean;
  /** The SDK's result type is open; this keeps ours assignable to it. */
  readonly [key: string]: unknown;
}

const MAX_UPSTREAM_BODY_CHARS = 2000;

/** An executor result as an agent sees it: structured content plus a JSON text copy, or an error it can act on. */
export function toToolResult(tool: string, result: OperationResult): ToolResult {
  if (result.ok) {
    const structured: Record<string, unknown> = { status: result.status };
    if (result.body !== undefined && result.body !== '') structured.body = result.body;
    // A replay is the first call's result: its request id (the one the upstream saw), and says it is a replay,
    // as REST's `Idempotent-Replayed` header does.
    structured.requestId = result.originalRequestId ?? result.requestId;
    if (result.replayed) structured.replayed = true;
    return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
  }
  return errorResult(failureText(tool, result.failure, result.requestId));
}

export function errorResult(text: string): ToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

/** A tools/call for a tool this server does not have: a protocol error (JSON-RPC -32602), as the MCP spec says. */
export class UnknownToolError extends Error {
  constructor(name: string, known: readonly string[]) {
    super(`Unknown tool "${name}". This server has: ${known.join(', ') || 'no tools'}. Call tools/list to see them.`);
    this.name = 'UnknownToolError';
  }
}

function failureText(tool: string, failure: OperationFailure, requestId: string): string {
  if (failure.kind === 'invalid-input') {
    const problems = failure.problems ?? [];
    return [
      `Invalid arguments for ${tool}; nothing was sent upstream. Fix ${problems.length === 1 ? 'this' : 'these'} and call again:`,
      ...problems.map((p) => `- ${describeProblem(p)}`),
      ...(failure.omittedProblems ? [`- and ${failure.omittedProblems} more problems, not listed: fix these first`] : []),
    ].join('\n');
  }
  const facts = [
    ...(failure.upstreamStatus !== undefined ? [`upstream status ${failure.upstreamStatus}`] : []),
    ...(failure.retryAfterSeconds !== undefined ? [`retry after ${failure.retryAfterSeconds} s`] : []),
    `request id ${requestId}`,
  ];
  // A detail that restates its title (a relayed upstream status) is said once.
  const headline = failure.detail.startsWith(failure.title) ? failure.detail : `${failure.title}. ${failure.detail}`;
  const lines = [headline, `(${facts.join('; ')})`];
  if (failure.upstreamBody !== undefined) lines.push(`Upstream answer: ${abbreviate(failure.upstreamBody)}`);
  return lines.join('\n');
}

/** `{ pointer: '/body/eventName', message: 'is required' }` -> `body.eventName: is required`. */
export function describeProblem(problem: InputProblem): string {
  return `${fieldName(problem.pointer)}: ${problem.message}`;
}

/** A JSON pointer into the tool arguments, as a field path an agent recognises (`/body/tags/0` -> `body.tags[0]`). */
export function fieldName(pointer: string): string {
  if (pointer === '' || pointer === '/') return '(arguments)';
  let path = '';
  for (const raw of pointer.replace(/^\//, '').split('/')) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (/^\d+$/.test(segment)) path += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) path += path ? `.${segment}` : segment;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path;
}

function abbreviate(body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return text.length > MAX_UPSTREAM_BODY_CHARS ? `${text.slice(0, MAX_UPSTREAM_BODY_CHARS)}…` : text;
}
