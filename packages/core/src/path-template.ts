import { InputError, type InputProblem } from './errors.ts';

/** `{name}` and `{{name}}` placeholders in an upstream or REST path template. */
const PLACEHOLDER = /\{\{?\s*([A-Za-z0-9_.-]+)\s*\}?\}/g;

/** The placeholder names of a path template, in order. */
export function pathTemplateNames(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((match) => match[1] ?? '');
}

/** Replaces every placeholder of a path template with what `replace` gives for its name. */
export function rewritePathTemplate(template: string, replace: (name: string) => string): string {
  return template.replace(PLACEHOLDER, (_, name: string) => replace(name));
}

/** A placeholder's value: its text (undefined when the input has none) and where the input holds it. */
export interface PathValue {
  readonly text: string | undefined;
  readonly pointer: string;
}

/**
 * Fills a path template so that each value stays inside its own path segment: percent-encoded, never empty,
 * never a dot segment. Throws InputError naming every value that cannot be sent, so nothing goes upstream.
 */
export function fillPathTemplate(template: string, lookup: (name: string) => PathValue): string {
  // Most upstream paths have no placeholder (PX's /events/custom): nothing to fill, on every call.
  if (!template.includes('{')) return template;
  const problems: InputProblem[] = [];
  const path = rewritePathTemplate(template, (name) => {
    const { text, pointer } = lookup(name);
    const refusal = pathSegmentRefusal(text ?? '', name);
    if (refusal) {
      problems.push({ pointer, message: refusal });
      return '';
    }
    return encodeURIComponent(text ?? '');
  });
  if (problems.length > 0) throw new InputError(problems);
  return path;
}

/** Why a text cannot fill the path placeholder `{name}`, or undefined when it can. */
function pathSegmentRefusal(text: string, name: string): string | undefined {
  if (text === '') return `is required to fill the upstream path {${name}}`;
  // encodeURIComponent throws on a lone surrogate (in a u-flag regex only an unpaired half matches \p{Surrogate}).
  if (/\p{Surrogate}/u.test(text)) return 'must be well-formed Unicode text (it contains a lone surrogate)';
  if (isDotSegment(text)) {
    return `must not be "." or ".." (nor a percent-encoding of them): the upstream path {${name}} takes exactly one path segment`;
  }
  return undefined;
}

/**
 * True when a path (before any `?` or `#`) holds a segment a URL parser resolves: `.` or `..`, written with
 * `%2e` too (WHATWG URL), between `/` or `\` (a separator in http(s) URLs). A request with one never leaves.
 */
export function hasDotSegment(path: string): boolean {
  const pathOnly = path.split(/[?#]/, 1)[0] ?? '';
  return pathOnly.split(/[/\\]/).some((segment) => /^(?:\.|%2e){1,2}$/i.test(segment));
}

// URL parsers resolve "." and ".." segments, percent-encoded ones included (WHATWG URL treats %2e as a dot),
// and some servers decode more than once: a value that decodes to a dot segment at any depth is refused.
const MAX_DECODINGS = 8;

function isDotSegment(text: string): boolean {
  let current = text;
  for (let round = 0; round <= MAX_DECODINGS; round++) {
    if (current === '.' || current === '..') return true;
    if (!/^[.%0-9A-Fa-f]+$/.test(current)) return false;
    const decoded = current.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    if (decoded === current) return false;
    current = decoded;
  }
  return false;
}
