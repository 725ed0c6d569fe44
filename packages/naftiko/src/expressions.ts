/** A value computed per call from the operation input: how `with`, parameter values and body templates are kept. */
export type Expr =
  | { readonly kind: 'literal'; readonly value: unknown }
  /** An input property (`rest.x`, `tools.x`, `<namespace>.x`, `{{x}}`), optionally a path into it. */
  | { readonly kind: 'input'; readonly name: string; readonly path: readonly string[] }
  /** A consumed parameter's value, for body templates. */
  | { readonly kind: 'param'; readonly name: string }
  /** Mustache text: the parts are joined as strings. */
  | { readonly kind: 'template'; readonly parts: readonly (string | Expr)[] }
  | { readonly kind: 'object'; readonly entries: readonly (readonly [string, Expr])[] }
  | { readonly kind: 'array'; readonly items: readonly Expr[] };

export interface EvaluationContext {
  readonly input: Readonly<Record<string, unknown>>;
  readonly params?: ReadonlyMap<string, unknown>;
}

const PLACEHOLDER = /\{\{\s*([^{}]+?)\s*\}\}/g;

export function hasPlaceholder(text: string): boolean {
  return /\{\{\s*[^{}]+?\s*\}\}/.test(text);
}

/** Splits Mustache text into literal strings and placeholder references, in order. */
export function splitTemplate(text: string): ({ readonly text: string } | { readonly reference: string })[] {
  const parts: ({ text: string } | { reference: string })[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    if (match.index > last) parts.push({ text: text.slice(last, match.index) });
    parts.push({ reference: (match[1] ?? '').trim() });
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}

/** Compiles Mustache text; a text that is exactly one placeholder keeps the referenced value's type. */
export function compileTemplate(text: string, resolve: (reference: string) => Expr): Expr {
  const parts = splitTemplate(text);
  const only = parts.length === 1 ? parts[0] : undefined;
  if (only && 'reference' in only) return resolve(only.reference);
  return { kind: 'template', parts: parts.map((part) => ('text' in part ? part.text : resolve(part.reference))) };
}

export function evaluate(expr: Expr, context: EvaluationContext): unknown {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'input': {
      let value: unknown = context.input[expr.name];
      for (const segment of expr.path) {
        if (value === null || typeof value !== 'object') return undefined;
        value = (value as Record<string, unknown>)[segment];
      }
      return value;
    }
    case 'param':
      return context.params?.get(expr.name);
    case 'template':
      return expr.parts.map((part) => (typeof part === 'string' ? part : asText(evaluate(part, context)))).join('');
    case 'object': {
      const object: Record<string, unknown> = {};
      for (const [key, value] of expr.entries) {
        const evaluated = evaluate(value, context);
        if (evaluated !== undefined) object[key] = evaluated;
      }
      return object;
    }
    case 'array':
      return expr.items.map((item) => evaluate(item, context));
  }
}

/** How a value is written into a path, query, header or text: JSON for objects, nothing for absent. */
export function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
