import type { OperationDescriptor, RestParameterSource } from './types.ts';

/** Where each input property of a REST exposure comes from; by default `body` is the JSON request body. */
export function restParameterSources(operation: OperationDescriptor<any>): Record<string, RestParameterSource> {
  const rest = operation.rest;
  if (rest && rest.parameters !== undefined) return { ...rest.parameters };
  const properties = (operation.input.properties ?? {}) as Record<string, unknown>;
  return 'body' in properties ? { body: 'body' } : {};
}
