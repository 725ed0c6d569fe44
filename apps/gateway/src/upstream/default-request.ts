import type { OperationDescriptor, UpstreamRequest } from '@gateway/core';

/**
 * Without a `toRequest`, an input fills the upstream path's `{name}` / `{{name}}` templates
 * (names matched case-insensitively) and its `body` property becomes the JSON body.
 */
export function defaultUpstreamRequest(operation: OperationDescriptor<any>, input: Record<string, unknown>): UpstreamRequest {
  const byLowerName = new Map(Object.entries(input).map(([name, value]) => [name.toLowerCase(), value]));
  const path = operation.upstream.path.replace(/\{\{?\s*([A-Za-z0-9_.-]+)\s*\}?\}/g, (_, name: string) =>
    encodeURIComponent(String(byLowerName.get(name.toLowerCase()) ?? '')),
  );
  return {
    method: operation.upstream.method,
    path,
    ...(input.body !== undefined ? { body: input.body } : {}),
  };
}
