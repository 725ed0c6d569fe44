import { fillPathTemplate, type OperationDescriptor, type UpstreamRequest } from '@gateway/core';

/**
 * Without a `toRequest`, an input fills the upstream path's `{name}` / `{{name}}` templates
 * (names matched case-insensitively) and its `body` property becomes the JSON body.
 */
export function defaultUpstreamRequest(operation: OperationDescriptor<any>, input: Record<string, unknown>): UpstreamRequest {
  const byLowerName = new Map(Object.entries(input).map(([name, value]) => [name.toLowerCase(), { name, value }]));
  const path = fillPathTemplate(operation.upstream.path, (name) => {
    const found = byLowerName.get(name.toLowerCase());
    return { text: found?.value === undefined || found.value === null ? undefined : String(found.value), pointer: `/${found?.name ?? name}` };
  });
  return {
    method: operation.upstream.method,
    path,
    ...(input.body !== undefined ? { body: input.body } : {}),
  };
}
