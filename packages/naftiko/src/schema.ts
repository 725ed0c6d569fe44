import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import naftikoSchema from '../schema/naftiko-1.0.0-alpha2.schema.json' with { type: 'json' };
import type { YamlPath } from './diagnostics.ts';

/** The Naftiko version this package reads. */
export const NAFTIKO_VERSION = '1.0.0-alpha2';

export interface SchemaProblem {
  readonly path: YamlPath;
  readonly message: string;
}

type Schema = Record<string, any>;

let validator: ValidateFunction | undefined;

/**
 * Validates a document against the alpha2 JSON Schema (draft 2020-12). The schema is used as published,
 * except that its discriminated unions (`oneOf` by `type`, `anyOf` by which key is present) are checked
 * as if/then, so that an error names the one branch the document meant instead of every branch it did not.
 */
export function validateAgainstSchema(document: unknown): SchemaProblem[] {
  validator ??= new Ajv2020({ allErrors: true, strict: false, logger: false, verbose: true }).compile(
    withDiscriminators(structuredClone(naftikoSchema) as Schema),
  );
  if (validator(document)) return [];
  return readable(validator.errors ?? [], document);
}

/** Rewrites unions whose branches are told apart by a constant (`type`, `transport`) or a key only one branch requires. */
export function withDiscriminators(root: Schema): Schema {
  const defs = (root.$defs ?? {}) as Record<string, Schema>;
  const resolve = (schema: Schema): Schema => {
    const ref = schema.$ref;
    return typeof ref === 'string' && ref.startsWith('#/$defs/') ? resolve(defs[ref.slice(8)] ?? {}) : schema;
  };
  /** The values a branch allows for `key`: its most specific `const`, else an `enum`, looking through `allOf`. */
  const constants = (schema: Schema, key: string): unknown[] | undefined => {
    const resolved = resolve(schema);
    const found = [resolved.properties?.[key], ...((resolved.allOf ?? []) as Schema[]).map((part) => ({ nested: constants(part, key) }))];
    let enumerated: unknown[] | undefined;
    for (const candidate of found) {
      if (!candidate) continue;
      if ('nested' in candidate) {
        if (candidate.nested?.length === 1) return candidate.nested;
        enumerated ??= candidate.nested;
      } else if ('const' in candidate) return [candidate.const];
      else if (Array.isArray(candidate.enum)) enumerated ??= candidate.enum;
    }
    return enumerated;
  };
  const requires = (schema: Schema, key: string): boolean => {
    const resolved = resolve(schema);
    return (Array.isArray(resolved.required) && resolved.required.includes(key)) || (resolved.allOf ?? []).some((part: Schema) => requires(part, key));
  };

  const byConstant = (node: Schema, keyword: 'oneOf' | 'anyOf'): boolean => {
    const branches = node[keyword] as Schema[];
    for (const key of ['type', 'transport']) {
      const values = branches.map((branch) => constants(branch, key));
      const typed = values.filter((v): v is unknown[] => v !== undefined);
      const all = typed.flat();
      if (typed.length < branches.length - 1 || typed.length === 0 || new Set(all).size !== all.length) continue;
      const untyped = branches.find((_, index) => values[index] === undefined);
      const dispatch: Schema[] = branches.flatMap((branch, index) => {
        const own = values[index];
        return own ? [ifThen({ type: 'object', properties: { [key]: { enum: own } }, required: [key] }, branch)] : [];
      });
      dispatch.push(ifThen({ type: 'object', required: [key] }, { properties: { [key]: { enum: all } } }));
      const defaultBranch = untyped ?? branches.find((branch) => !requires(branch, key));
      if (defaultBranch) dispatch.push(ifThen({ not: { type: 'object', required: [key] } }, defaultBranch));
      else dispatch.push({ type: 'object', required: [key] });
      delete node[keyword];
      node.allOf = [...(node.allOf ?? []), ...dispatch];
      return true;
    }
    return false;
  };

  const byPresence = (node: Schema): boolean => {
    const branches = node.anyOf as Schema[];
    const required = branches.map((branch) => (Array.isArray(branch.required) ? (branch.required as string[]) : []));
    const unique = required.map((keys, index) => keys.filter((key) => required.every((other, j) => j === index || !other.includes(key))));
    const keyed = branches.flatMap((branch, index) => (unique[index]?.[0] ? [{ key: unique[index][0] as string, branch }] : []));
    if (keyed.length < branches.length - 1 || keyed.length === 0) return false;
    const fallback = branches.find((_, index) => !unique[index]?.length) ?? keyed[0]?.branch ?? {};
    let chain: Schema = fallback;
    for (const { key, branch } of [...keyed].reverse()) chain = ifThen({ type: 'object', required: [key] }, branch, chain);
    delete node.anyOf;
    node.allOf = [...(node.allOf ?? []), chain];
    return true;
  };

  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const schema = node as Schema;
    for (const value of Object.values(schema)) visit(value);
    if (Array.isArray(schema.oneOf)) byConstant(schema, 'oneOf');
    if (Array.isArray(schema.anyOf) && !byConstant(schema, 'anyOf')) byPresence(schema);
  };
  visit(root);
  return root;
}

/** JSON Schema `if` / `then` / `else`. */
function ifThen(condition: Schema, consequence: Schema, alternative?: Schema): Schema {
  // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword, not a thenable.
  return { if: condition, then: consequence, ...(alternative ? { else: alternative } : {}) };
}

/** One message per place: the deepest, most specific errors, unions and if/then summaries folded away. */
function readable(errors: readonly ErrorObject[], document: unknown): SchemaProblem[] {
  const specific = errors.filter((e) => !['if', 'oneOf', 'anyOf', 'allOf', 'not'].includes(e.keyword));
  const kept = specific.length > 0 ? specific : [...errors];
  const byPlace = new Map<string, { path: YamlPath; messages: string[]; types: string[] }>();
  for (const error of kept) {
    const params = error.params as Record<string, any>;
    let path = pointerToPath(error.instancePath, document);
    let message: string;
    switch (error.keyword) {
      case 'additionalProperties':
      case 'unevaluatedProperties': {
        const key = String(params.additionalProperty ?? params.unevaluatedProperty);
        path = [...path, key];
        const allowed = Object.keys((error.parentSchema as Schema | undefined)?.properties ?? {});
        message = `unknown key "${key}"${allowed.length ? ` (allowed here: ${allowed.join(', ')})` : ''}`;
        break;
      }
      case 'required':
        message = `missing required key "${String(params.missingProperty)}"`;
        break;
      case 'const':
        message = `must be ${JSON.stringify(params.allowedValue)}`;
        break;
      case 'enum':
        message = `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
        break;
      case 'pattern':
        message = `${JSON.stringify(error.data)} does not match ${String(params.pattern)}`;
        break;
      case 'type':
        message = '';
        break;
      case 'oneOf':
      case 'anyOf':
        message = 'does not match any of the forms the alpha2 schema allows here';
        break;
      default:
        message = error.message ?? 'is invalid';
    }
    const key = JSON.stringify(path);
    const place = byPlace.get(key) ?? { path, messages: [], types: [] };
    if (error.keyword === 'type') place.types.push(...[params.type].flat().map(String));
    else if (!place.messages.includes(message)) place.messages.push(message);
    byPlace.set(key, place);
  }
  const problems: SchemaProblem[] = [];
  for (const place of byPlace.values()) {
    if (place.types.length) problems.push({ path: place.path, message: `must be ${[...new Set(place.types)].join(' or ')}` });
    for (const message of place.messages) problems.push({ path: place.path, message });
  }
  return problems;
}

function pointerToPath(pointer: string, document: unknown): (string | number)[] {
  if (!pointer) return [];
  const path: (string | number)[] = [];
  let node: unknown = document;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(node)) {
      const index = Number(segment);
      path.push(index);
      node = node[index];
    } else {
      path.push(segment);
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}
