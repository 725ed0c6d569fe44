import {
  compileTextCoercion,
  createSchemaCompiler,
  type HttpMethod,
  type InputValidator,
  type JsonSchema,
  type OperationFailure,
  type TextCoercion,
  type ToolHints,
} from '@gateway/core';
import { invalidInput } from '../executor.ts';

/** Who asks, as every door knows it (clientIdOf), and the request id its answer carries. */
export interface LocalContext {
  readonly clientId: string;
  readonly requestId: string;
}

export type LocalAnswer =
  | { readonly ok: true; readonly status: number; readonly body?: unknown; readonly location?: string }
  | { readonly ok: false; readonly failure: OperationFailure };

/**
 * An operation of the gateway itself (the built-in `gateway` plugin): declared like a plugin operation, with one
 * input JSON Schema for REST and MCP, but answered by a local handler instead of an upstream. REST routes, OpenAPI
 * entries and MCP tools are all built from this declaration.
 */
export interface LocalOperation {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  /** The whole input: an object schema. REST reads `parameters` from the path or query, every other property from the JSON body. */
  readonly input: JsonSchema;
  readonly parameters?: Readonly<Record<string, 'path' | 'query'>>;
  /** `components/schemas` name and schema of a successful answer's body. */
  readonly output?: { readonly name: string; readonly schema: JsonSchema };
  readonly rest: { readonly method: HttpMethod; readonly path: string };
  readonly mcp?: { readonly tool: string; readonly title: string; readonly description?: string; readonly hints: ToolHints };
  readonly success: { readonly status: number; readonly description: string };
  /** The refusals this operation gives beside the ones every route may give (401, 429, 500, 503). */
  readonly refusals: Readonly<Record<number, string>>;
  handle(input: Record<string, unknown>, context: LocalContext): Promise<LocalAnswer>;
}

/** A declared operation ready to run: its input validated with the one schema engine, path and query text converted. */
export interface CompiledLocalOperation extends LocalOperation {
  readonly bodyProperties: readonly string[];
  /** Validates and runs: problems are a 400 (`invalid-input`) before the handler sees anything. */
  run(input: Record<string, unknown>, context: LocalContext): Promise<LocalAnswer>;
  readonly coerceText: TextCoercion;
}

export function compileLocalOperations(operations: readonly LocalOperation[]): CompiledLocalOperation[] {
  const compile = createSchemaCompiler();
  return operations.map((operation) => {
    const validate: InputValidator = compile(operation.input);
    const names = Object.keys((operation.input.properties ?? {}) as Record<string, unknown>);
    const textNames = Object.keys(operation.parameters ?? {});
    return {
      ...operation,
      bodyProperties: names.filter((name) => !textNames.includes(name)),
      coerceText: compileTextCoercion(operation.input, textNames),
      run: async (input, context) => {
        const problems = validate(input);
        if (problems.length > 0) return { ok: false, failure: invalidInput(problems) };
        return operation.handle(input, context);
      },
    };
  });
}
