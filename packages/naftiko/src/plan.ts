import { pathTemplateNames, type RestParameterSource, rewritePathTemplate } from '@gateway/core';
import type { Alpha2ExposedParameter, Alpha2MappedOutput, Alpha2ToolParameter, Alpha2Type, Alpha2With } from './alpha2.ts';
import type { Bindings } from './binds.ts';
import { type BodyField, bodySchema, parseBodyPath, stepKeys } from './body-paths.ts';
import type { DiagnosticSink, YamlPath } from './diagnostics.ts';
import { compileTemplate, type Expr, hasPlaceholder } from './expressions.ts';

/** A parameter of a consumed (upstream) operation, after adapter-, resource- and operation-level merging. */
export interface ConsumedParameter {
  readonly name: string;
  readonly in: 'query' | 'header' | 'path' | 'cookie' | 'body' | 'environment';
  readonly value?: string;
  readonly type?: Alpha2Type;
  readonly required?: boolean;
  readonly description?: string;
  /** False for path templates the file never declared and `with` keys that name no declared parameter. */
  readonly declared: boolean;
  readonly path: YamlPath;
}

/** One upstream operation of a `consumes` adapter. */
export interface ConsumedOperation {
  readonly namespace: string;
  readonly resource: string;
  readonly name: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Resource path with `{x}` templates. */
  readonly path: string;
  readonly label?: string;
  readonly description?: string;
  readonly parameters: readonly ConsumedParameter[];
  /** A `body` template (`json` data or a raw JSON string), already parsed into a value with placeholders. */
  readonly bodyTemplate?: unknown;
  readonly at: YamlPath;
}

/** One input property of an exposed operation: a REST parameter or body, or an MCP tool argument. */
export interface InputSpec {
  readonly name: string;
  readonly schema: Record<string, unknown>;
  readonly required: boolean;
  /** REST only: where the value comes from. */
  readonly source?: RestParameterSource;
  /** REST only: a path/query/header string converted to the declared type before use. */
  readonly coerce?: 'number' | 'integer' | 'boolean';
}

/** How one exposure (a REST operation or an MCP tool) fills one consumed operation. */
export interface OperationPlan {
  readonly inputs: readonly InputSpec[];
  /** `fallback`: the parameter's own `value`, used when the `with` value is absent for a call. */
  readonly parameters: readonly { readonly parameter: ConsumedParameter; readonly expr: Expr | undefined; readonly fallback?: Expr }[];
  readonly body?: Expr;
  readonly output?: Alpha2MappedOutput;
}

export interface ExposureSource {
  readonly kind: 'rest' | 'mcp';
  /** The exposure's own namespace, usable as a reference prefix like `rest.` / `tools.`. */
  readonly namespace: string;
  readonly at: YamlPath;
  /** REST: the resource path, `{x}` templates. */
  readonly restPath?: string;
  readonly restParameters?: readonly { readonly parameter: Alpha2ExposedParameter; readonly at: YamlPath }[];
  readonly toolParameters?: readonly { readonly parameter: Alpha2ToolParameter; readonly at: YamlPath }[];
  readonly with?: Alpha2With;
  readonly output?: Alpha2MappedOutput;
}

const JS_IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const DOTTED = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/;

/** Rewrites `{{x}}` templates to `{x}`. */
export function singleBraces(path: string): string {
  return rewritePathTemplate(path, (name) => `{${name}}`);
}

function same(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** Builds the plan that turns one exposure's input into a call of one consumed operation. */
export class PlanBuilder {
  private readonly inputs: InputSpec[] = [];
  private readonly fixed = new Map<string, Expr>();
  private readonly bodyFields: BodyField[] = [];

  constructor(
    private readonly source: ExposureSource,
    private readonly operation: ConsumedOperation,
    private readonly bindings: Bindings,
    private readonly sink: DiagnosticSink,
  ) {}

  build(): OperationPlan {
    if (this.source.kind === 'rest') this.declareRestInputs();
    else this.declareToolInputs();

    const parameters = [...this.operation.parameters];
    const bound = new Map<ConsumedParameter, Expr>();
    for (const [key, value] of Object.entries(this.source.with ?? {})) {
      const at = [...this.source.at, 'with', key];
      let parameter = parameters.find((p) => p.name === key) ?? parameters.find((p) => same(p.name, key));
      if (!parameter) {
        const into = key === 'body' ? 'body' : 'query';
        this.sink.warning(
          at,
          `names no parameter of ${this.operation.namespace}.${this.operation.name}; sent as ${into === 'body' ? 'the JSON body' : `the query parameter "${key}"`}`,
        );
        parameter = { name: key, in: into, declared: false, path: at };
        parameters.push(parameter);
      }
      bound.set(parameter, this.compileValue(value, at, parameter));
    }

    const planned = parameters.map((parameter) => {
      const withValue = bound.get(parameter);
      if (!withValue) return { parameter, expr: this.defaultFor(parameter) };
      const fallback =
        parameter.value !== undefined ? this.compileValue(parameter.value, [...parameter.path, 'value'], parameter) : undefined;
      return { parameter, expr: withValue, ...(fallback ? { fallback } : {}) };
    });
    const body =
      this.operation.bodyTemplate === undefined
        ? undefined
        : this.compileBody(this.operation.bodyTemplate, [...this.operation.at, 'body'], parameters);
    return {
      inputs: this.finishInputs(),
      parameters: planned,
      ...(body ? { body } : {}),
      ...(this.source.output ? { output: this.source.output } : {}),
    };
  }

  // ---- inputs -------------------------------------------------------------------------------------------

  private find(name: string): InputSpec | undefined {
    return this.inputs.find((input) => input.name === name) ?? this.inputs.find((input) => same(input.name, name));
  }

  private add(input: InputSpec): InputSpec {
    this.inputs.push(input);
    return input;
  }

  private declareRestInputs(): void {
    const restPath = this.source.restPath ?? '';
    const declared = this.source.restParameters ?? [];
    for (const name of pathTemplateNames(restPath)) {
      if (!JS_IDENTIFIER.test(name)) {
        this.sink.error(
          [...this.source.at.slice(0, -2), 'path'],
          `path parameter {${name}} must be a plain identifier (letters, digits, _) to be routed`,
        );
      }
      const own = declared.find(({ parameter }) => parameter.in === 'path' && parameter.name === name)?.parameter;
      this.add({ name, schema: own ? restSchema(own) : { type: 'string' }, required: true, source: 'path', ...coercion(own) });
    }
    for (const { parameter, at } of declared) {
      const jsonPath = typeof parameter.value === 'string' && parameter.value.trim().startsWith('$');
      if (jsonPath && parameter.in === 'body') {
        // As the Ikanos engine reads it: the input is the node at that JSONPath in the JSON request body.
        const steps = parseBodyPath(parameter.value as string);
        if (typeof steps === 'string') this.sink.error([...at, 'value'], steps);
        else
          this.bodyFields.push({
            name: parameter.name,
            steps,
            schema: plainSchema(parameter.type, parameter.description, parameter.pattern),
          });
        continue;
      }
      if (jsonPath) {
        this.sink.warning(
          [...at, 'value'],
          `a JSONPath "value" reads the request body, so it applies only to "in: body"; this ${parameter.in} parameter is read from the request as usual`,
        );
      } else if (parameter.value !== undefined) {
        this.fixed.set(parameter.name, this.compileValue(parameter.value, [...at, 'value']));
        continue;
      }
      switch (parameter.in) {
        case 'path':
          if (!pathTemplateNames(restPath).includes(parameter.name)) {
            this.sink.error(at, `declared "in: path" but the resource path ${restPath} has no {${parameter.name}}`);
          }
          break;
        case 'query':
        case 'header':
          if (this.find(parameter.name)?.source === parameter.in) break;
          this.add({ name: parameter.name, schema: restSchema(parameter), required: false, source: parameter.in, ...coercion(parameter) });
          break;
        case 'body':
          if (parameter.name === 'body')
            this.add({ name: 'body', schema: plainSchema(parameter.type, parameter.description), required: true, source: 'body' });
          else
            this.bodyFields.push({
              name: parameter.name,
              steps: [{ key: parameter.name }],
              schema: plainSchema(parameter.type, parameter.description, parameter.pattern),
            });
          break;
        case 'cookie':
          this.sink.error(at, 'cookie parameters are not supported on REST exposures by this gateway');
          break;
      }
    }
    if (this.bodyFields.length > 0) {
      if (this.find('body')) {
        this.sink.error(this.source.at, 'takes both a whole "body" parameter and body fields; declare one or the other');
        return;
      }
      const body = bodySchema(this.bodyFields);
      if ('problem' in body) {
        this.sink.error([...this.source.at, 'inputParameters'], `the request body cannot be read: ${body.problem}`);
        return;
      }
      this.add({ name: 'body', schema: body.schema, required: true, source: 'body' });
    }
  }

  private declareToolInputs(): void {
    for (const { parameter } of this.source.toolParameters ?? []) {
      this.add({
        name: parameter.name,
        schema: plainSchema(parameter.type, parameter.description),
        required: parameter.required !== false,
      });
    }
  }

  private finishInputs(): InputSpec[] {
    return this.inputs;
  }

  /** An input the file did not declare but references or needs: added, typed from the parameter it feeds. */
  private implicitInput(name: string, at: YamlPath, feeds: ConsumedParameter | undefined, why: 'reference' | 'parameter'): InputSpec {
    const rest = this.source.kind === 'rest';
    const schema = plainSchema(feeds?.type, feeds?.description);
    if (name === 'body' || feeds?.in === 'body') {
      return this.add({
        name,
        schema: feeds?.type ? schema : { ...schema, type: 'object' },
        required: feeds?.required !== false,
        ...(rest ? { source: 'body' } : {}),
      });
    }
    if (feeds && why === 'parameter' && feeds.in !== 'path') {
      // An upstream query/header parameter nobody fills: the caller may pass it, under the same name.
      const source: RestParameterSource = feeds.in === 'header' ? 'header' : 'query';
      return this.add({
        name,
        schema: rest
          ? restSchema({ type: feeds.type ?? 'string', description: feeds.description })
          : plainSchema(feeds.type ?? 'string', feeds.description),
        required: feeds.required === true,
        ...(rest ? { source, ...coercion({ type: feeds.type ?? 'string', in: source }) } : {}),
      });
    }
    const pathParameter = feeds?.in === 'path';
    if (rest) {
      this.sink.warning(
        at,
        pathParameter
          ? `upstream path parameter {${name}} is not in the REST path and no "with" sets it; taken as a required query parameter "${name}"`
          : `"${name}" is not a declared input; taken as a required query parameter`,
      );
      return this.add({
        name,
        schema: { type: 'string', ...(feeds?.description ? { description: feeds.description } : {}) },
        required: true,
        source: 'query',
      });
    }
    if (!pathParameter) this.sink.warning(at, `"${name}" is not a declared tool input; taken as a required string argument`);
    return this.add({
      name,
      schema: { type: 'string', ...(feeds?.description ? { description: feeds.description } : {}) },
      required: true,
    });
  }

  private inputReference(name: string, path: readonly string[], at: YamlPath, feeds: ConsumedParameter | undefined): Expr {
    const fixed = this.fixed.get(name);
    if (fixed) return fixed;
    const field = this.bodyFields.find((f) => f.name === name) ?? this.bodyFields.find((f) => same(f.name, name));
    if (field && !this.find(name)) return { kind: 'input', name: 'body', path: [...stepKeys(field.steps), ...path] };
    const input = this.find(name) ?? this.implicitInput(name, at, feeds, 'reference');
    return { kind: 'input', name: input.name, path };
  }

  // ---- values -------------------------------------------------------------------------------------------

  /** A consumed parameter no `with` sets: its own `value`, else the input of the same name. */
  private defaultFor(parameter: ConsumedParameter): Expr | undefined {
    if (parameter.value !== undefined) return this.compileValue(parameter.value, [...parameter.path, 'value'], parameter);
    if (parameter.in === 'environment') {
      const variable = this.bindings.find(parameter.name);
      return variable && variable !== 'ambiguous' ? { kind: 'literal', value: variable.value } : undefined;
    }
    if (parameter.in === 'cookie') {
      const input = this.find(parameter.name);
      return input ? { kind: 'input', name: input.name, path: [] } : undefined;
    }
    const fixed = this.fixed.get(parameter.name);
    if (fixed) return fixed;
    const field = this.bodyFields.find((f) => same(f.name, parameter.name));
    if (field && !this.find(parameter.name)) return { kind: 'input', name: 'body', path: stepKeys(field.steps) };
    if (parameter.in === 'body' && this.bodyFields.length > 0 && !this.find(parameter.name)) {
      return { kind: 'input', name: 'body', path: [] };
    }
    const input = this.find(parameter.name) ?? this.implicitInput(parameter.name, this.source.at, parameter, 'parameter');
    return { kind: 'input', name: input.name, path: [] };
  }

  /** A `with` value or parameter `value`: a reference, a Mustache template or a literal. */
  compileValue(value: string | number, at: YamlPath, feeds?: ConsumedParameter): Expr {
    if (typeof value === 'number') return { kind: 'literal', value };
    const text = value.trim().replace(/^\$this\./, '');
    if (hasPlaceholder(text)) {
      return compileTemplate(value, (reference) => this.reference(reference, at, feeds, true));
    }
    if (DOTTED.test(text)) {
      const head = text.split('.')[0] ?? '';
      if (this.isNamespace(head)) return this.reference(text, at, feeds, false);
      this.sink.warning(
        at,
        `"${value}" looks like a reference, but "${head}" is not rest, tools, this exposure's namespace or a bind namespace; sent as the literal text`,
      );
    }
    return { kind: 'literal', value };
  }

  private isNamespace(head: string): boolean {
    return head === 'rest' || head === 'tools' || head === this.source.namespace || this.bindings.namespaces.has(head);
  }

  /** `ns.x.y` or `x` (inside `{{ }}` or bare): an input, a bound variable, or, in a template, an implicit input. */
  private reference(reference: string, at: YamlPath, feeds: ConsumedParameter | undefined, inTemplate: boolean): Expr {
    const segments = reference.split('.');
    const head = segments[0] ?? '';
    if (segments.length > 1 && (head === 'rest' || head === 'tools' || head === this.source.namespace)) {
      const wrongSide = (head === 'rest' && this.source.kind === 'mcp') || (head === 'tools' && this.source.kind === 'rest');
      if (wrongSide)
        this.sink.warning(
          at,
          `"${head}." in ${this.source.kind === 'rest' ? 'a REST operation' : 'an MCP tool'}; read as this exposure's input "${segments[1]}"`,
        );
      return this.inputReference(segments[1] ?? '', segments.slice(2), at, feeds);
    }
    if (segments.length > 1 && this.bindings.namespaces.has(head)) return this.bound(reference, at);
    if (segments.length > 1 && (this.find(head) || this.fixed.has(head) || head === 'body')) {
      return this.inputReference(head, segments.slice(1), at, feeds);
    }
    if (segments.length === 1) {
      if (this.find(head) || this.fixed.has(head) || this.bodyFields.some((f) => same(f.name, head)))
        return this.inputReference(head, [], at, feeds);
      const variable = this.bindings.find(head);
      if (variable) return this.bound(head, at);
      if (inTemplate) return this.inputReference(head, [], at, feeds);
    }
    this.sink.error(
      at,
      `{{${reference}}} names nothing: not an input, not "rest."/"tools."/"${this.source.namespace}.", not a bound variable`,
    );
    return { kind: 'literal', value: undefined };
  }

  private bound(reference: string, at: YamlPath): Expr {
    const variable = this.bindings.find(reference);
    if (variable === 'ambiguous') {
      this.sink.error(at, `{{${reference}}} is bound by several bind namespaces; write {{namespace.${reference}}}`);
      return { kind: 'literal', value: undefined };
    }
    if (!variable) {
      this.sink.error(at, `{{${reference}}} is not declared in binds`);
      return { kind: 'literal', value: undefined };
    }
    return { kind: 'literal', value: variable.value };
  }

  /** A body template: `{{x}}` reads the consumed parameter x first, then inputs and bound variables. */
  private compileBody(template: unknown, at: YamlPath, parameters: readonly ConsumedParameter[]): Expr {
    const resolve = (reference: string): Expr => {
      const parameter = parameters.find((p) => p.name === reference) ?? parameters.find((p) => same(p.name, reference));
      return parameter ? { kind: 'param', name: parameter.name } : this.reference(reference, at, undefined, true);
    };
    const compile = (value: unknown): Expr => {
      if (typeof value === 'string') return hasPlaceholder(value) ? compileTemplate(value, resolve) : { kind: 'literal', value };
      if (Array.isArray(value)) return { kind: 'array', items: value.map(compile) };
      if (value && typeof value === 'object') {
        return { kind: 'object', entries: Object.entries(value).map(([key, item]) => [key, compile(item)] as const) };
      }
      return { kind: 'literal', value };
    };
    return compile(template);
  }
}

function plainSchema(type: Alpha2Type | undefined, description?: string, pattern?: string): Record<string, unknown> {
  return {
    ...(type ? { type } : {}),
    ...(description ? { description } : {}),
    ...(pattern && type === 'string' ? { pattern } : {}),
  };
}

/** REST path/query/header values arrive as text: a typed parameter also accepts its text form. */
function restSchema(parameter: { type?: Alpha2Type; description?: string | undefined; pattern?: string }): Record<string, unknown> {
  const description = parameter.description ? { description: parameter.description } : {};
  switch (parameter.type) {
    case 'integer':
      return { type: ['integer', 'string'], pattern: '^-?[0-9]+$', ...description };
    case 'number':
      return { type: ['number', 'string'], pattern: '^-?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?$', ...description };
    case 'boolean':
      return { type: ['boolean', 'string'], enum: [true, false, 'true', 'false'], ...description };
    case 'array':
      return { type: ['array', 'string'], items: { type: 'string' }, ...description };
    case 'object':
      return { type: 'string', description: `${parameter.description ?? ''} (JSON text)`.trim() };
    default:
      return plainSchema('string', parameter.description, parameter.pattern);
  }
}

function coercion(parameter: { type?: Alpha2Type; in?: string } | undefined): Pick<InputSpec, 'coerce'> {
  if (!parameter || parameter.in === 'body') return {};
  if (parameter.type === 'integer' || parameter.type === 'number' || parameter.type === 'boolean') return { coerce: parameter.type };
  return {};
}
