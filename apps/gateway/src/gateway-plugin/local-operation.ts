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
import type { BatchLimits } from '../rest/batch-body.ts';
import type { TraceScope } from '../observability/tracing.ts';

/** Who asks, as every door knows it (clientIdOf), the request id its answer carries, and through which door. */
export interface LocalContext {
  readonly clientId: string;
  readonly requestId: string;
  readonly door: 'rest' | 'mcp';
  /** The caller's idempotency key (REST `Idempotency-Key`, MCP `idempotencyKey`), for an `idempotent` operation. */
  readonly idempotencyKey?: string;
  /** The span the door opened for the call (tracing on). */
  readonly trace?: TraceScope | undefined;
}

export type LocalAnswer = (
  | { readonly ok: true; readonly status: number; readonly body?: unknown; readonly location?: string }
  | { readonly ok: false; readonly failure: OperationFailure }
) & {
  /** A repeat of an idempotent call answers the first call's result: this is the first call's request id. */
  readonly replayOf?: string;
};

/** What the gateway answers on a refusal: the text the OpenAPI document gives it, and an example when the route's own shows more. */
export type LocalRefusal = string | { readonly description: string; readonly example: Readonly<Record<string, unknown>> };

/**
 * REST reads a list of items as it streams: `{"<itemsName>": [...]}` as JSON or one item per line as NDJSON,
 * stopping at `limits`. The input is `{ <itemsName>: items }`; a line that is not JSON is an `UnreadableItem`.
 */
export interface ItemsBody {
  readonly reader: 'items';
  readonly itemsName: string;
  readonly limits: BatchLimits;
}

/**
 * An operation of the gateway itself (the built-in `gateway` plugin): declared like a plugin operation, with one
 * input JSON Schema for REST and MCP, but answered by a local handler instead of an upstream. REST routes, OpenAPI
 * entries and MCP tools are all built from this declaration.
 */
export interface LocalOperation {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  /** The whole input: an object schema. REST reads `parameters` from the path or query, every other property from the body. */
  readonly input: JsonSchema;
  /**
   * What `run` checks before the handler, when not the whole `input`: a batch checks its envelope here and each
   * item in its handler, so one bad item does not refuse the others.
   */
  readonly checks?: JsonSchema;
  readonly parameters?: Readonly<Record<string, 'path' | 'query'>>;
  /** An input, as the OpenAPI document shows the request body. */
  readonly example?: Readonly<Record<string, unknown>>;
  /** `components/schemas` name and schema of a successful answer's body. */
  readonly output?: { readonly name: string; readonly schema: JsonSchema };
  /** Its REST route (none: an MCP tool only); `body`: how REST reads the body, JSON (up to BODY_LIMIT) when absent. */
  readonly rest?: { readonly method: HttpMethod; readonly path: string; readonly body?: ItemsBody };
  readonly mcp?: {
    readonly tool: string;
    readonly title: string;
    readonly description?: string;
    readonly hints: ToolHints;
    /** The arguments as `tools/list` shows them, when lighter than `input` (arguments are still checked by `run`). */
    readonly input?: JsonSchema;
    /** Listed without MCP_TOOLS naming it (the queue-management tools are listed only when named). */
    readonly byDefault?: boolean;
    /** `call`: the result is shaped as a plugin tool's (`status`, `body`, `requestId`, `replayed`); else the body itself. */
    readonly answers?: 'body' | 'call';
  };
  /** Made from a plugin operation (its batch): documented under that plugin's tag and listed among its tools. */
  readonly derivedFrom?: { readonly pluginId: string; readonly operationId: string };
  /** Takes an idempotency key: a repeat with the same key and input answers the first result. */
  readonly idempotent?: boolean;
  /** `location`: the answer's `Location` header names a status resource. */
  readonly success: { readonly status: number; readonly description: string; readonly location?: boolean };
  /** The refusals this operation gives beside the ones every route may give (401, 429, 500, 503). */
  readonly refusals: Readonly<Record<number, LocalRefusal>>;
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
    const validate: InputValidator = compile(operation.checks ?? operation.input);
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

/** The text of a declared refusal. */
export const refusalText = (refusal: LocalRefusal): string => (typeof refusal === 'string' ? refusal : refusal.description);

/** Whether `operation` is made from that plugin operation (its batch). */
export const madeFrom = (operation: LocalOperation, pluginId: string, operationId: string): boolean =>
  operation.derivedFrom?.pluginId === pluginId && operation.derivedFrom.operationId === operationId;
