import { JSONPath } from 'jsonpath-plus';
import type { Alpha2MappedOutput } from './alpha2.ts';

/** `$`, `$.` and an empty mapping all mean the whole value. */
export function isWholeValue(mapping: string | undefined): boolean {
  return mapping === undefined || ['', '$', '$.'].includes(mapping.trim());
}

/** A JSONPath that can only ever select one node (no wildcard, recursion, filter, union or slice). */
function isDefinite(path: string): boolean {
  return !/\*|\.\.|\?\(|\(|,|:/.test(path);
}

/** Checks a mapping's JSONPath once at load; returns the reason when it cannot be read. */
export function checkMapping(mapping: string): string | undefined {
  if (isWholeValue(mapping)) return undefined;
  if (!mapping.trim().startsWith('$')) return `"${mapping}" is not a JSONPath (it must start with "$")`;
  try {
    JSONPath({ path: mapping, json: {}, eval: 'safe' });
    return undefined;
  } catch (error) {
    return `"${mapping}" is not a JSONPath the gateway can read: ${(error as Error).message}`;
  }
}

export function selectPath(mapping: string | undefined, value: unknown): unknown {
  if (isWholeValue(mapping)) return value;
  if (value === null || typeof value !== 'object') return undefined;
  const path = (mapping as string).trim();
  const matches = JSONPath({ path, json: value as object, wrap: true, eval: 'safe' }) as unknown[];
  if (isDefinite(path)) return matches[0];
  return matches;
}

/**
 * Applies an exposed `outputParameters` entry to the upstream body. Nested `properties` / `items` mappings
 * are relative to their parent's value; an object without `properties` (or array without `items`) passes its
 * value through; `value` is a static value and wins over `mapping`.
 */
export function mapOutput(spec: Alpha2MappedOutput, body: unknown): unknown {
  if (spec.value !== undefined) return staticValue(spec);
  const selected = selectPath(spec.mapping, body);
  switch (spec.type) {
    case 'object': {
      const properties = Object.entries(spec.properties ?? {});
      if (properties.length === 0) return selected ?? null;
      if (selected === null || selected === undefined) return null;
      return Object.fromEntries(properties.map(([name, property]) => [name, mapOutput(property, selected) ?? null]));
    }
    case 'array': {
      if (!spec.items) return selected ?? null;
      if (!Array.isArray(selected)) return selected === undefined || selected === null ? null : [mapOutput(spec.items, selected)];
      const items = spec.items;
      return selected.map((element) => mapOutput(items, element) ?? null);
    }
    default:
      return selected ?? null;
  }
}

function staticValue(spec: Alpha2MappedOutput): unknown {
  const value = spec.value as string;
  if (spec.type === 'number') return Number(value);
  if (spec.type === 'boolean') return value === 'true';
  return value;
}

/**
 * The JSON Schema of what `mapOutput` returns: its structure (objects, arrays, null where nothing matched).
 * Leaves are not typed: values are relayed as the upstream sent them, not converted to the declared type.
 */
export function outputSchema(spec: Alpha2MappedOutput): Record<string, unknown> {
  const from = spec.mapping && !isWholeValue(spec.mapping) ? ` at ${spec.mapping}` : '';
  if (spec.value !== undefined) return { type: spec.type === 'number' ? 'number' : spec.type === 'boolean' ? 'boolean' : 'string' };
  if (spec.type === 'object' && Object.keys(spec.properties ?? {}).length > 0) {
    return {
      type: ['object', 'null'],
      properties: Object.fromEntries(Object.entries(spec.properties ?? {}).map(([name, property]) => [name, outputSchema(property)])),
    };
  }
  if (spec.type === 'array' && spec.items) return { type: ['array', 'null'], items: outputSchema(spec.items) };
  return { description: `${spec.type}${from} in the upstream answer, as sent` };
}
