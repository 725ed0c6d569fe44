import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { InputProblem } from './errors.ts';
import type { JsonSchema } from './types.ts';

export type InputValidator = (value: unknown) => readonly InputProblem[];

/** Creates the one JSON Schema 2020-12 validator engine; compile each schema once at load. */
export function createSchemaCompiler(): (schema: JsonSchema) => InputValidator {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, verbose: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  return (schema) => {
    const validate: ValidateFunction = ajv.compile(schema as object);
    return (value) => (validate(value) ? [] : toProblems(validate.errors ?? []));
  };
}

/** One problem per location: a failed oneOf/anyOf replaces the noise of its branches, nested ones included. */
function toProblems(errors: readonly ErrorObject[]): InputProblem[] {
  const isAlternative = (e: ErrorObject) => e.keyword === 'oneOf' || e.keyword === 'anyOf';
  const within = (path: string, root: string) => path === root || path.startsWith(`${root}/`);
  const roots = errors.filter(isAlternative).map((e) => e.instancePath);
  const outermost = (e: ErrorObject) => !roots.some((root) => root !== e.instancePath && within(e.instancePath, root));
  const kept = errors.filter((e) => (isAlternative(e) ? outermost(e) : !roots.some((root) => within(e.instancePath, root))));
  const seen = new Set<string>();
  return kept.map(toProblem).filter((p) => !seen.has(`${p.pointer} ${p.message}`) && seen.add(`${p.pointer} ${p.message}`));
}

function toProblem(error: ErrorObject): InputProblem {
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
    default:
      return { pointer: error.instancePath, message: error.message ?? 'is invalid' };
  }
}

function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}
