import { pathTemplateNames } from './path-template.ts';
import type { InputPlacement, OperationDescriptor, RestParameterSource } from './types.ts';

/** The input property that a path placeholder names: the same name, compared case-insensitively. */
export function inputPropertyFor(operation: OperationDescriptor<any>, placeholder: string): string | undefined {
  const lower = placeholder.toLowerCase();
  return inputPropertyNames(operation).find((name) => name.toLowerCase() === lower);
}

export function inputPropertyNames(operation: OperationDescriptor<any>): string[] {
  return Object.keys((operation.input.properties ?? {}) as Record<string, unknown>);
}

/**
 * Where each input property goes upstream without a `toRequest`: the declared `upstream.inputs`, then a property
 * named in the upstream path fills it, then `body` is the JSON body. Unplaced properties are left out.
 */
export function upstreamPlacements(operation: OperationDescriptor<any>): Record<string, InputPlacement> {
  const placements: Record<string, InputPlacement> = {};
  for (const placeholder of pathTemplateNames(operation.upstream.path)) {
    const name = inputPropertyFor(operation, placeholder);
    if (name !== undefined) placements[name] = 'path';
  }
  if (inputPropertyNames(operation).includes('body')) placements.body = 'body';
  return { ...placements, ...operation.upstream.inputs };
}

/** The parameter names of a REST path, Express (`:id`) or OpenAPI (`{id}`) style. */
export function restPathNames(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z0-9_]+)|\{([^}]+)\}/g)].map((match) => match[1] ?? match[2] ?? '');
}

/**
 * Where each input property of a REST exposure comes from: `rest.parameters` when declared; otherwise a property
 * named in the REST path comes from the path, every other one from where it goes upstream (a property that has no
 * upstream placement, or only the upstream path, is a query parameter).
 */
export function restParameterSources(operation: OperationDescriptor<any>): Record<string, RestParameterSource> {
  const rest = operation.rest;
  if (rest && rest.parameters !== undefined) return { ...rest.parameters };
  const inPath = new Set(rest ? restPathNames(rest.path) : []);
  const upstream = upstreamPlacements(operation);
  const sources: Record<string, RestParameterSource> = {};
  for (const name of inputPropertyNames(operation)) {
    const placed = upstream[name];
    sources[name] = inPath.has(name) ? 'path' : placed === undefined || placed === 'path' ? (name === 'body' ? 'body' : 'query') : placed;
  }
  return sources;
}

/** A route key that two paths share when they differ only in parameter names (`/users/:id` = `/users/{userId}`). */
export function normalisedRoute(method: string, path: string): string {
  return `${method.toUpperCase()} ${path.replace(/:[A-Za-z0-9_]+|\{[^}]+\}/g, '{}').replace(/\/+$/, '')}`;
}
