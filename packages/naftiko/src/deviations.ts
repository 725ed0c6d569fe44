import type { YamlPath } from './diagnostics.ts';
import type { SchemaProblem } from './schema.ts';

const PARAMETER_HINTS = ['type', 'required', 'description'];

/**
 * Folds the catalog's `type` / `required` / `description` on consumed parameters into one warning per parameter,
 * and returns the schema problems left.
 */
export function consumedParameterHints(problems: readonly SchemaProblem[]): { warnings: SchemaProblem[]; rest: SchemaProblem[] } {
  const byParameter = new Map<string, { path: YamlPath; keys: string[] }>();
  const rest: SchemaProblem[] = [];
  for (const problem of problems) {
    const key = /^unknown key "([^"]+)"/.exec(problem.message)?.[1];
    const parent = problem.path.slice(0, -1);
    if (key && PARAMETER_HINTS.includes(key) && isConsumedParameter(parent)) {
      const id = JSON.stringify(parent);
      const entry = byParameter.get(id) ?? { path: parent, keys: [] };
      entry.keys.push(key);
      byParameter.set(id, entry);
    } else {
      rest.push(problem);
    }
  }
  const warnings = [...byParameter.values()].map(({ path, keys }) => ({
    path,
    message:
      `alpha2 consumed parameters have only name, in and value; ${keys.map((k) => `"${k}"`).join(', ')} ` +
      `${keys.length === 1 ? 'is' : 'are'} read as the ${keys.map((k) => (k === 'required' ? 'requiredness' : k)).join(', ')} of the input it feeds`,
  }));
  return { warnings, rest };
}

/**
 * Schema problems this loader can still read unambiguously. Each gets a warning naming its path and how it
 * is read; every other schema problem is an error.
 */
export function toleratedDeviation(problem: SchemaProblem, document: unknown): string | undefined {
  const { path, message } = problem;
  const last = path.at(-1);
  const parent = path.slice(0, -1);
  const unknownKey = /^unknown key "([^"]+)"/.exec(message)?.[1];
  if (unknownKey !== undefined) {
    if (unknownKey === 'description' || unknownKey === 'label') return `alpha2 has no "${unknownKey}" here; kept as documentation only`;
    return undefined;
  }
  const missing = /^missing required key "([^"]+)"/.exec(message)?.[1];
  if (missing !== undefined) {
    const value = valueAt(document, path) as Record<string, unknown> | undefined;
    if (missing === 'properties' && value?.type === 'object' && isOutputParameter(path)) {
      return 'an object output without "properties" is not alpha2; its mapped value is passed through as is';
    }
    if (missing === 'items' && value?.type === 'array' && isOutputParameter(path)) {
      return 'an array output without "items" is not alpha2; its mapped value is passed through as is';
    }
    if (missing === 'description' && parent.at(-1) === 'inputParameters')
      return 'a parameter without "description" is not alpha2; it is served undocumented';
    return undefined;
  }
  if (/does not match/.test(message) && typeof last === 'string') {
    const value = valueAt(document, path);
    if (typeof value !== 'string') return undefined;
    if ((last === 'name' || last === 'namespace') && /^[A-Za-z0-9_-]+$/.test(value)) {
      return `"${value}" has an underscore, which alpha2 identifiers do not allow; accepted as written`;
    }
    if ((last === 'call' || last === 'ref') && /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value)) {
      return `"${value}" has an underscore, which alpha2 references do not allow; accepted as written`;
    }
    if (last === 'call' && /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value)) {
      return `"${value}" is namespace.resource.operation; alpha2 calls are namespace.operation; resolved by resource and operation name`;
    }
  }
  return undefined;
}

function isConsumedParameter(path: YamlPath): boolean {
  return path.at(-2) === 'inputParameters' && path.includes('consumes');
}

function isOutputParameter(path: YamlPath): boolean {
  return path.includes('outputParameters') && path.includes('exposes');
}

export function valueAt(document: unknown, path: YamlPath): unknown {
  let node = document;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}
