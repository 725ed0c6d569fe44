// REST `in: body` inputs whose `value` is a JSONPath: where in the JSON request body each one is read, and the
// body schema those paths imply (what OpenAPI documents and ajv checks before the call).

/** One step of a body path: an object key or an array index. */
export type BodyStep = { readonly key: string } | { readonly index: number };

/** An input read from the request body at a path (`$.user.id`); a plain body field is the path `[name]`. */
export interface BodyField {
  readonly name: string;
  readonly steps: readonly BodyStep[];
  readonly schema: Record<string, unknown>;
}

const STEP = /^(?:\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['([^'\\]*)'\]|\["([^"\\]*)"\])/;

/** `$`, `$.a.b`, `$.a[0]`, `$['a b']`: one definite node. Anything else (wildcards, filters, `..`) is refused with the reason. */
export function parseBodyPath(value: string): readonly BodyStep[] | string {
  const text = value.trim();
  if (!text.startsWith('$')) return `"${value}" is not a JSONPath (it must start with "$")`;
  const steps: BodyStep[] = [];
  let rest = text.slice(1);
  if (rest === '.') return steps;
  while (rest.length > 0) {
    const match = STEP.exec(rest);
    if (!match) {
      return `"${value}": only definite paths ($.a.b, $.a[0], $['a']) can be read from the request body; "${rest}" is not one`;
    }
    if (match[2] !== undefined) steps.push({ index: Number(match[2]) });
    else steps.push({ key: (match[1] ?? match[3] ?? match[4]) as string });
    rest = rest.slice(match[0].length);
  }
  return steps;
}

/** The path as the input's `path` into the body value (array indexes as their text). */
export function stepKeys(steps: readonly BodyStep[]): string[] {
  return steps.map((step) => ('key' in step ? step.key : String(step.index)));
}

interface Node {
  leaf?: BodyField;
  readonly keys: Map<string, Node>;
  readonly indexes: Map<number, Node>;
}

/** The JSON Schema of a body from which every field is read (each required); a reason when two fields disagree. */
export function bodySchema(fields: readonly BodyField[]): { schema: Record<string, unknown> } | { problem: string } {
  const root: Node = { keys: new Map(), indexes: new Map() };
  for (const field of fields) {
    let node = root;
    for (const step of field.steps) {
      const children: Map<string | number, Node> = 'key' in step ? node.keys : node.indexes;
      const id = 'key' in step ? step.key : step.index;
      let child = children.get(id);
      if (!child) {
        child = { keys: new Map(), indexes: new Map() };
        children.set(id, child);
      }
      node = child;
    }
    if (node.leaf) return { problem: `"${node.leaf.name}" and "${field.name}" both read the same place in the body` };
    node.leaf = field;
  }
  return build(root);
}

function build(node: Node): { schema: Record<string, unknown> } | { problem: string } {
  const own = node.leaf?.schema ?? {};
  if (node.keys.size === 0 && node.indexes.size === 0) return { schema: own };
  const name = node.leaf ? `"${node.leaf.name}"` : 'the body';
  if (node.keys.size > 0 && node.indexes.size > 0) return { problem: `${name} is read both as an object and as an array` };
  const wanted = node.keys.size > 0 ? 'object' : 'array';
  if (own.type !== undefined && own.type !== wanted)
    return { problem: `"${node.leaf?.name}" is declared ${own.type} but other fields read into it as an ${wanted}` };
  if (wanted === 'object') {
    const properties: Record<string, unknown> = {};
    for (const [key, child] of node.keys) {
      const built = build(child);
      if ('problem' in built) return built;
      properties[key] = built.schema;
    }
    return { schema: { ...own, type: 'object', properties, required: [...node.keys.keys()] } };
  }
  // One item schema, not a tuple: the validator's strict mode takes only closed tuples, and a body's lists are open.
  const items: Record<string, unknown>[] = [];
  for (const child of node.indexes.values()) {
    const built = build(child);
    if ('problem' in built) return built;
    items.push(built.schema);
  }
  const minItems = Math.max(...node.indexes.keys()) + 1;
  return { schema: { ...own, type: 'array', minItems, items: items.length === 1 ? items[0] : { anyOf: items } } };
}
