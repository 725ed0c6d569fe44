import { readFileSync } from 'node:fs';
import { compileDescriptors, createSchemaCompiler, DescriptorError, type PluginDescriptor } from '@gateway/core';
import type { Alpha2Document } from './alpha2.ts';
import { type Environment, readBindings } from './binds.ts';
import { CapabilityError, type Diagnostic, DiagnosticSink } from './diagnostics.ts';
import { consumedParameterHints, toleratedDeviation } from './deviations.ts';
import { type DeclaredPort, interpret } from './interpret.ts';
import { NAFTIKO_VERSION, validateAgainstSchema } from './schema.ts';
import { parseYaml } from './yaml-document.ts';

export interface LoadOptions {
  /** The name used in messages (a path or URL); defaults to `capability`. */
  readonly file?: string;
  /** Where `binds` and `CAPABILITY_BASE_URI_<NAMESPACE>` are read. Defaults to an empty environment. */
  readonly environment?: Environment;
  /** Base URI per consumes namespace (tests point these at a loopback server). Wins over the environment. */
  readonly baseUris?: Readonly<Record<string, string>>;
  /**
   * Whether a bound variable missing from the environment is an error (the default: the gateway cannot start)
   * or a warning (validating a file on a machine without its secrets).
   */
  readonly requireBindings?: boolean;
}

export interface LoadedCapability {
  readonly file: string;
  readonly title: string;
  readonly description: string;
  readonly descriptors: readonly PluginDescriptor[];
  readonly ports: { readonly rest: readonly DeclaredPort[]; readonly mcp: readonly DeclaredPort[] };
  readonly mcpInstructions: readonly string[];
}

export type CapabilityLoad =
  | { readonly ok: true; readonly capability: LoadedCapability; readonly diagnostics: readonly Diagnostic[] }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/** Reads a Naftiko 1.0.0-alpha2 capability from YAML text: every warning and error, and descriptors when it can be served. */
export function loadCapability(text: string, options: LoadOptions = {}): CapabilityLoad {
  const file = options.file ?? 'capability';
  const parsed = parseYaml(text);
  if (!parsed.ok) {
    return {
      ok: false,
      diagnostics: [...parsed.problems].sort((a, b) => (a.position?.line ?? 0) - (b.position?.line ?? 0) || (a.position?.column ?? 0) - (b.position?.column ?? 0)).map((problem) => ({
        severity: 'error' as const,
        file,
        path: '',
        ...(problem.position ?? {}),
        message: `not valid YAML: ${problem.message}`,
      })),
    };
  }
  const sink = new DiagnosticSink(file, parsed.locate);
  const document = parsed.value;
  if (!checkVersion(document, sink)) return { ok: false, diagnostics: sink.sorted() };

  const { warnings, rest } = consumedParameterHints(validateAgainstSchema(document));
  for (const warning of warnings) sink.warning(warning.path, warning.message);
  for (const problem of rest) {
    const tolerated = toleratedDeviation(problem, document);
    if (tolerated) sink.warning(problem.path, tolerated);
    else sink.error(problem.path, problem.message);
  }
  if (sink.hasErrors) return { ok: false, diagnostics: sink.sorted() };

  const alpha2 = document as Alpha2Document;
  const bindings = readBindings(alpha2, options.environment ?? {}, sink, options.requireBindings ?? true);
  const interpreted = interpret(alpha2, bindings, sink, {
    file,
    environment: options.environment ?? {},
    ...(options.baseUris ? { baseUris: options.baseUris } : {}),
  });
  if (!interpreted || sink.hasErrors) return { ok: false, diagnostics: sink.sorted() };

  try {
    compileDescriptors(interpreted.descriptors, createSchemaCompiler());
  } catch (error) {
    if (!(error instanceof DescriptorError)) throw error;
    sink.error([], `the descriptor built from it is invalid: ${error.message}`);
    return { ok: false, diagnostics: sink.sorted() };
  }
  return { ok: true, capability: { file, ...interpreted }, diagnostics: sink.sorted() };
}

/** Reads a capability file; a file that cannot be read is reported like any other error. */
export function loadCapabilityFile(path: string, options: Omit<LoadOptions, 'file'> & { readonly file?: string } = {}): CapabilityLoad {
  const file = options.file ?? path;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    return { ok: false, diagnostics: [{ severity: 'error', file, path: '', message: `cannot read: ${reason}` }] };
  }
  return loadCapability(text, { ...options, file });
}

/** Like `loadCapability`, but throws a CapabilityError listing every error when the file cannot be served. */
export function loadCapabilityOrThrow(text: string, options: LoadOptions = {}): LoadedCapability & { readonly warnings: readonly Diagnostic[] } {
  const result = loadCapability(text, options);
  if (!result.ok) throw new CapabilityError(options.file ?? 'capability', result.diagnostics);
  return { ...result.capability, warnings: result.diagnostics.filter((d) => d.severity === 'warning') };
}

function checkVersion(document: unknown, sink: DiagnosticSink): boolean {
  if (document === null || document === undefined) {
    sink.error([], 'the document is empty');
    return false;
  }
  if (typeof document !== 'object' || Array.isArray(document)) {
    sink.error([], 'is not a capability document: the YAML root must be a mapping with "naftiko: 1.0.0-alpha2"');
    return false;
  }
  const root = document as Record<string, unknown>;
  if ('ikanos' in root) {
    sink.error(
      ['ikanos'],
      `this is a later Naftiko/Ikanos document (root key "ikanos:", parameters keyed by name); this gateway reads naftiko ${NAFTIKO_VERSION} only and will not guess at it`,
    );
    return false;
  }
  if (!('naftiko' in root)) {
    sink.error([], `is not a Naftiko capability: no "naftiko: ${NAFTIKO_VERSION}" root key`);
    return false;
  }
  if (root.naftiko !== NAFTIKO_VERSION) {
    sink.error(['naftiko'], `version ${JSON.stringify(root.naftiko)} is not supported; this gateway reads naftiko ${NAFTIKO_VERSION} only`);
    return false;
  }
  return true;
}
