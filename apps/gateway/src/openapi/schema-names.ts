import type { JsonSchema } from '@gateway/core';

const COMPONENT_KEY = /[^A-Za-z0-9._-]+/g;

/**
 * Names schemas for `components/schemas`: by the schema's `title` when it has one, the same object always
 * under the same name, different objects never under the same name.
 */
export class SchemaNames {
  private readonly byObject = new Map<JsonSchema, string>();
  private readonly taken = new Set<string>();

  constructor(reserved: readonly string[] = []) {
    for (const name of reserved) this.taken.add(name);
  }

  /** The component name `schema` already has, if any. */
  known(schema: JsonSchema): string | undefined {
    return this.byObject.get(schema);
  }

  /** The component name for `schema`, and whether it was new (so the caller adds it once). */
  nameFor(schema: JsonSchema, fallback: string): { readonly name: string; readonly isNew: boolean } {
    const known = this.byObject.get(schema);
    if (known) return { name: known, isNew: false };
    const base = componentKey(typeof schema.title === 'string' && schema.title ? schema.title : fallback) || 'Schema';
    let name = base;
    for (let n = 2; this.taken.has(name); n += 1) name = `${base}${n}`;
    this.taken.add(name);
    this.byObject.set(schema, name);
    return { name, isNew: true };
  }
}

/** `Custom event` -> `CustomEvent`: keys must match `^[a-zA-Z0-9._-]+$`. */
export function componentKey(text: string): string {
  return text
    .split(COMPONENT_KEY)
    .filter(Boolean)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}
