import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import ikanosAlpha3 from '../schema/ikanos-1.0.0-alpha3.schema.json' with { type: 'json' };
import ikanosAlpha4 from '../schema/ikanos-1.0.0-alpha4.schema.json' with { type: 'json' };
import ikanosBeta1 from '../schema/ikanos-1.0.0-beta1.schema.json' with { type: 'json' };
import ikanosBeta2 from '../schema/ikanos-1.0.0-beta2.schema.json' with { type: 'json' };
import ikanosBeta3 from '../schema/ikanos-1.0.0-beta3.schema.json' with { type: 'json' };
import ikanosBeta4 from '../schema/ikanos-1.0.0-beta4.schema.json' with { type: 'json' };
import naftikoSchema from '../schema/naftiko-1.0.0-alpha2.schema.json' with { type: 'json' };
import type { YamlPath } from './diagnostics.ts';

/** The Naftiko version this package reads. */
export const NAFTIKO_VERSION = '1.0.0-alpha2';

/** The Ikanos versions this package reads: one family contract (no breaking change since alpha3), each with its own published schema. */
export const IKANOS_VERSIONS = ['1.0.0-alpha3', '1.0.0-alpha4', '1.0.0-beta1', '1.0.0-beta2', '1.0.0-beta3', '1.0.0-beta4'] as const;
export type IkanosVersion = (typeof IKANOS_VERSIONS)[number];

/** What `gateway migrate` writes. */
export const MIGRATION_TARGET: IkanosVersion = '1.0.0-beta3';

/** A schema this package validates against: the root key and version it belongs to. */
export type SchemaVersion =
  | { readonly family: 'naftiko'; readonly version: typeof NAFTIKO_VERSION }
  | { readonly family: 'ikanos'; readonly version: IkanosVersion };

const SCHEMAS: Record<string, object> = {
  [`naftiko ${NAFTIKO_VERSION}`]: naftikoSchema,
  'ikanos 1.0.0-alpha3': ikanosAlpha3,
  'ikanos 1.0.0-alpha4': ikanosAlpha4,
  'ikanos 1.0.0-beta1': ikanosBeta1,
  'ikanos 1.0.0-beta2': ikanosBeta2,
  'ikanos 1.0.0-beta3': ikanosBeta3,
  'ikanos 1.0.0-beta4': ikanosBeta4,
};

export interface SchemaProblem {
  readonly path: YamlPath;
  readonly message: string;
}

type Schema = Record<string, any>;

const validators = new Map<string, ValidateFunction>();

/**
 * Validates a document against the JSON Schema (draft 2020-12) of its own version, alpha2 by default. The schema
 * is used as published, except that its discriminated unions (`oneOf` by `type`, `anyOf` by which key is present)
 * are checked as if/then, so that an error names the one branch the document meant instead of every branch it did not.
 */
export function validateAgainstSchema(
  document: unknown,
  version: SchemaVersion = { family: 'naftiko', version: NAFTIKO_VERSION },
): SchemaProblem[] {
  const key = `${version.family} ${version.version}`;
  let validator = validators.get(key);
  if (!validator) {
    validator = new Ajv2020({ allErrors: true, strict: false, logger: false, verbose: true }).compile(
      withDiscriminators(structuredClone(SCHEMAS[key]) as Schema),
    );
    validators.set(key, validator);
  }
  if (validator(document)) return [];
  return readable(validator.errors ?? [], document, `${version.family === 'naftiko' ? 'alpha2' : version.version}`);
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
    return (
      (Array.isArray(resolved.required) && resolved.required.includes(key)) ||
      (resolved.allOf ?? []).some((part: Schema) => requires(part, key))
    );
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
function readable(errors: readonly ErrorObject[], document: unknown, schemaName: string): SchemaProblem[] {
  const specific = errors.filter((e) => !['if', 'oneOf', 'anyOf', 'allOf', 'not', 'propertyNames'].includes(e.keyword));
  const kept = specific.length > 0 ? specific : [...errors];
  const byPlace = new Map<string, { path: YamlPath; messages: string[]; types: string[] }>();
  for (const error of kept) {
    const params = error.params as Record<string, any>;
    let path = pointerToPath(error.instancePath, document);
    let message: string;
    const propertyName = (error as ErrorObject & { propertyName?: string }).propertyName;
    if (propertyName !== undefined && error.keyword === 'pattern') {
      // A map key that breaks the key pattern: placed on the key itself.
      path = [...path, propertyName];
      message = `key ${JSON.stringify(propertyName)} does not match ${String(params.pattern)}`;
    } else
      switch (error.keyword) {
        case 'additionalProperties':
        case 'unevaluatedProperties': {
          const key = String(params.additionalProperty ?? params.unevaluatedProperty);
          path = [...path, key];
          const allowed = Object.keys((error.parentSchema as Schema | undefined)?.properties ?? {});
          message = `unknown key "${key}"${allowed.length ? ` (allowed here: ${allowed.join(', ')})` : ''}${apiKeyHint(key, error.data)}`;
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
          message = `does not match any of the forms the ${schemaName} schema allows here`;
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
  // An apikey block with any problem also gets the rest of its problems: a missing key or value never waits for
  // the first fix to be reported.
  for (const { path } of [...byPlace.values()]) {
    for (const at of [path.slice(0, -1), path]) {
      for (const problem of missingApiKeyFields(at, valueAt(document, at))) {
        const key = JSON.stringify(problem.path);
        if (!byPlace.has(key)) byPlace.set(key, { path: problem.path, messages: [problem.message], types: [] });
      }
    }
  }
  const problems: SchemaProblem[] = [];
  for (const place of byPlace.values()) {
    if (place.types.length) problems.push({ path: place.path, message: `must be ${[...new Set(place.types)].join(' or ')}` });
    for (const message of place.messages) problems.push({ path: place.path, message });
  }
  return problems;
}

/** What an apikey block without `key` is told, by the schema check and by the reader alike. */
export const API_KEY_NEEDS_KEY =
  'apikey authentication needs "key" (the header or query parameter name; placement: header or query says where)';

const API_KEY_NAME_KEYS = ['name', 'header', 'headerName', 'keyName', 'parameter', 'param', 'queryParam'];
const API_KEY_PLACEMENT_KEYS = ['in', 'location', 'where', 'placementType'];

function isApiKeyAuth(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'apikey';
}

/** What an apikey block's author probably meant by a key it does not have (OpenAPI's `in`/`name`, a `header:`). */
function apiKeyHint(key: string, block: unknown): string {
  if (!isApiKeyAuth(block)) return '';
  const value = block[key];
  if (API_KEY_NAME_KEYS.includes(key)) {
    const name = typeof value === 'string' ? value : '<name>';
    return `; write key: ${name} (the header or query parameter name)${key === 'header' ? ' with placement: header' : ''}`;
  }
  if (API_KEY_PLACEMENT_KEYS.includes(key)) return `; write placement: ${value === 'query' ? 'query' : 'header'} (header or query)`;
  return '';
}

function missingApiKeyFields(at: YamlPath, block: unknown): SchemaProblem[] {
  if (at[at.length - 1] !== 'authentication' || !isApiKeyAuth(block)) return [];
  const problems: SchemaProblem[] = [];
  if (block.key === undefined) problems.push({ path: [...at, 'key'], message: API_KEY_NEEDS_KEY });
  if (block.value === undefined)
    problems.push({ path: [...at, 'value'], message: 'apikey authentication needs "value" (the key, e.g. "{{API_KEY}}" bound in binds)' });
  return problems;
}

function valueAt(document: unknown, path: YamlPath): unknown {
  let value = document;
  for (const segment of path) value = value && typeof value === 'object' ? (value as Record<string | number, unknown>)[segment] : undefined;
  return value;
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
