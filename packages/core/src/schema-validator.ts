import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { InputProblem } from './errors.ts';
import type { JsonSchema } from './types.ts';

export type InputValidator = (value: unknown) => readonly InputProblem[];

/**
 * Creates the one JSON Schema 2020-12 validator engine; compile each schema once at load.
 *
 * Work is bounded by the input's size, not by how wrong it is: a first pass stops at the first problem, and only
 * an invalid input of at most FULLY_REPORTED_VALUES values is checked again to list every problem (ajv's
 * `allErrors` makes a dozen error objects per bad value, enough to stall a request on a body of a megabyte).
 */
export function createSchemaCompiler(): (schema: JsonSchema) => InputValidator {
  const options = { strict: true, strictRequired: false, allowUnionTypes: true, verbose: true } as const;
  const firstProblem = new Ajv2020({ ...options, allErrors: false });
  const everyProblem = new Ajv2020({ ...options, allErrors: true });
  for (const ajv of [firstProblem, everyProblem]) (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  return (schema) => {
    const validateFirst: ValidateFunction = firstProblem.compile(schema as object);
    const validateEvery: ValidateFunction = everyProblem.compile(schema as object);
    return (value) => {
      const shape = inspectShape(value);
      if (shape.tooDeepAt !== undefined) {
        return [{ pointer: shape.tooDeepAt, message: `nests objects and arrays more than ${MAX_INPUT_DEPTH} levels deep` }];
      }
      if (validateFirst(value)) return [];
      if (shape.values <= FULLY_REPORTED_VALUES && !validateEvery(value)) return toProblems(validateEvery.errors ?? []);
      const [first] = toProblems(validateFirst.errors ?? []);
      const note = `(only the first problem is reported: the input holds more than ${FULLY_REPORTED_VALUES} values)`;
      return first ? [{ ...first, message: `${first.message} ${note}` }] : [];
    };
  };
}

/**
 * How deep objects and arrays may nest in an input; each top-level input value (a REST body, an MCP argument)
 * is level 1. Checked without recursion before ajv, so that nothing recursive (validation, shaping,
 * JSON.stringify, hashing) ever sees a deeper value and overflows the stack.
 */
export const MAX_INPUT_DEPTH = 32;

/** Inputs with more values (objects, arrays and scalars, at any depth) report only their first problem. */
export const FULLY_REPORTED_VALUES = 10_000;

/** The input's size in values, and the pointer of the first object or array nested deeper than MAX_INPUT_DEPTH. */
function inspectShape(input: unknown): { readonly values: number; readonly tooDeepAt?: string } {
  interface Visit {
    readonly value: unknown;
    readonly level: number;
    readonly parent?: Visit;
    readonly key?: string;
  }
  const pending: Visit[] = [{ value: input, level: 0 }];
  let values = 0;
  for (let visit = pending.pop(); visit; visit = pending.pop()) {
    values += 1;
    const { value, level } = visit;
    if (value === null || typeof value !== 'object') continue;
    if (level > MAX_INPUT_DEPTH) return { values, tooDeepAt: pointerOf(visit) };
    // Pointers are built only for the one visit reported.
    for (const key of Object.keys(value))
      pending.push({ value: (value as Record<string, unknown>)[key], level: level + 1, parent: visit, key });
  }
  return { values };

  function pointerOf(visit: Visit): string {
    const segments: string[] = [];
    for (let at: Visit | undefined = visit; at?.key !== undefined; at = at.parent) segments.push(escapePointer(at.key));
    return segments
      .reverse()
      .map((segment) => `/${segment}`)
      .join('');
  }
}

/**
 * One problem per location: a failed oneOf/anyOf replaces the noise of its branches, nested ones included.
 * Linear in the number of errors (each looks up its ancestors), however many ajv reports.
 */
function toProblems(allErrors: readonly ErrorObject[]): InputProblem[] {
  const errors = withAlternativesResolved(allErrors);
  const isAlternative = (e: ErrorObject) => e.keyword === 'oneOf' || e.keyword === 'anyOf';
  const roots = new Set(errors.filter(isAlternative).map((e) => e.instancePath));
  const underRoot = (path: string, includeSelf: boolean) => {
    if (roots.size === 0) return false;
    if (includeSelf && roots.has(path)) return true;
    for (let end = path.lastIndexOf('/'); end >= 0; end = path.lastIndexOf('/', end - 1)) {
      if (roots.has(path.slice(0, end))) return true;
      if (end === 0) break;
    }
    return false;
  };
  // A refused property name is reported by its own error (which names the key); ajv's summary adds nothing.
  const kept = errors.filter((e) => e.keyword !== 'propertyNames' && !underRoot(e.instancePath, !isAlternative(e)));
  const seen = new Set<string>();
  return kept.map(toProblem).filter((p) => !seen.has(`${p.pointer} ${p.message}`) && seen.add(`${p.pointer} ${p.message}`));
}

/**
 * A failed oneOf/anyOf where the value has the type of exactly one branch is that branch's failure: `-1` against
 * "integer (minimum 0) or date-time string" is "must be >= 0", not "must be integer or string". The alternative's
 * summary and the other branches' errors give way to the matching branch's own errors.
 */
function withAlternativesResolved(errors: readonly ErrorObject[]): readonly ErrorObject[] {
  const resolved = new Map<ErrorObject, string>();
  for (const error of errors) {
    if (error.keyword !== 'oneOf' && error.keyword !== 'anyOf') continue;
    const branches = ((error.parentSchema as Record<string, unknown> | undefined)?.[error.keyword] ?? []) as Array<Record<string, unknown>>;
    const matching = branches.flatMap((branch, index) => (typeAdmits(branch.type, error.data) ? [index] : []));
    if (matching.length !== 1) continue;
    const branchPath = `${error.schemaPath}/${matching[0]}/`;
    if (errors.some((e) => e.schemaPath.startsWith(branchPath))) resolved.set(error, branchPath);
  }
  if (resolved.size === 0) return errors;
  const alternativePaths = [...resolved.keys()].map((e) => `${e.schemaPath}/`);
  const branchPaths = [...resolved.values()];
  return errors.filter(
    (e) =>
      !resolved.has(e) &&
      (!alternativePaths.some((path) => e.schemaPath.startsWith(path)) || branchPaths.some((path) => e.schemaPath.startsWith(path))),
  );
}

function typeAdmits(type: unknown, value: unknown): boolean {
  if (typeof type !== 'string') return false;
  if (type === 'integer') return Number.isInteger(value);
  if (type === 'null') return value === null;
  if (type === 'array') return Array.isArray(value);
  if (type === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value);
  return typeof value === type;
}

function toProblem(error: ErrorObject): InputProblem {
  if (error.propertyName !== undefined) {
    const about = toProblem({ ...error, propertyName: undefined });
    return { pointer: `${error.instancePath}/${escapePointer(error.propertyName)}`, message: `key ${about.message}` };
  }
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { pointer: `${error.instancePath}/${escapePointer(String(params.missingProperty))}`, message: 'is required' };
    case 'additionalProperties':
      return {
        pointer: `${error.instancePath}/${escapePointer(String(params.additionalProperty))}`,
        message: 'is not a known field',
      };
    case 'oneOf':
    case 'anyOf': {
      const branches = ((error.parentSchema as Record<string, unknown> | undefined)?.[error.keyword] ?? []) as Array<
        Record<string, unknown>
      >;
      const forms = branches.map((b) => (b.format ? `${String(b.type)} (${String(b.format)})` : String(b.type)));
      return { pointer: error.instancePath, message: `must be ${forms.join(' or ')}` };
    }
    case 'enum':
      return {
        pointer: error.instancePath,
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'not': {
      const refused = error.schema as Record<string, unknown> | undefined;
      if (refused && 'const' in refused) return { pointer: error.instancePath, message: `must not be ${JSON.stringify(refused.const)}` };
      return { pointer: error.instancePath, message: error.message ?? 'is invalid' };
    }
    default:
      return { pointer: error.instancePath, message: error.message ?? 'is invalid' };
  }
}

function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Converts text values in place to the types their schemas ask for; values that do not convert are left as they are. */
export type TextCoercion = (values: Record<string, unknown>) => void;

let coercingEngine: Ajv2020 | undefined;

/**
 * A REST path, query or header value is text: `?limit=5` becomes 5 for an integer property, `true` for a
 * boolean, and a single `?filter=a` becomes `["a"]` for an array (ajv's `coerceTypes: "array"`). Only the named
 * properties are converted, never the JSON body; validation afterwards reports what did not convert.
 */
export function compileTextCoercion(input: JsonSchema, names: readonly string[]): TextCoercion {
  const properties = (input.properties ?? {}) as Record<string, unknown>;
  const schema = {
    type: 'object',
    properties: Object.fromEntries(names.filter((name) => name in properties).map((name) => [name, properties[name]])),
    ...(input.$defs !== undefined ? { $defs: input.$defs } : {}),
  };
  if (!coercingEngine) {
    coercingEngine = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true, allErrors: true, coerceTypes: 'array' });
    (addFormats as unknown as (a: Ajv2020) => void)(coercingEngine);
  }
  const coerce = coercingEngine.compile(schema);
  return (values) => void coerce(values);
}
