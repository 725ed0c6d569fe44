import { readFileSync } from 'node:fs';
import { compileDescriptors, createSchemaCompiler, DescriptorError, type PluginDescriptor } from '@gateway/core';
import type { Alpha2Document } from './alpha2.ts';
import { type Environment, readBindings } from './binds.ts';
import { CapabilityError, type Diagnostic, DiagnosticSink } from './diagnostics.ts';
import { consumedParameterHints, toleratedDeviation } from './deviations.ts';
import { alpha2Leftover, isIkanosVersion, readIkanos } from './ikanos.ts';
import type { DeclaredPort } from './exposes.ts';
import { interpret } from './interpret.ts';
import { IKANOS_VERSIONS, MIGRATION_TARGET, NAFTIKO_VERSION, type SchemaVersion, validateAgainstSchema } from './schema.ts';
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
  /** The format and version the file declares, e.g. `ikanos 1.0.0-beta3`. */
  readonly version: string;
  /** Files read through imports (Ikanos `from`). */
  readonly imports: readonly string[];
  readonly title: string;
  readonly description: string;
  readonly descriptors: readonly PluginDescriptor[];
  readonly ports: { readonly rest: readonly DeclaredPort[]; readonly mcp: readonly DeclaredPort[] };
  readonly mcpInstructions: readonly string[];
}

export type CapabilityLoad =
  | { readonly ok: true; readonly capability: LoadedCapability; readonly diagnostics: readonly Diagnostic[]; readonly version: string }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[]; readonly version?: string };

/**
 * Reads a capability from YAML text, Naftiko 1.0.0-alpha2 or Ikanos 1.0.0-alpha3 … beta4 (the root key and version
 * pick the schema): every warning and error, and descriptors when it can be served.
 */
export function loadCapability(text: string, options: LoadOptions = {}): CapabilityLoad {
  const file = options.file ?? 'capability';
  const parsed = parseYaml(text);
  if (!parsed.ok) {
    return {
      ok: false,
      diagnostics: [...parsed.problems]
        .sort((a, b) => (a.position?.line ?? 0) - (b.position?.line ?? 0) || (a.position?.column ?? 0) - (b.position?.column ?? 0))
        .map((problem) => ({
          severity: 'error' as const,
          file,
          path: '',
          ...(problem.position ?? {}),
          message: `not valid YAML: ${problem.message}`,
        })),
    };
  }
  const fileSink = new DiagnosticSink(file, parsed.locate);
  const document = parsed.value;
  const schemaVersion = readVersion(document, fileSink);
  if (!schemaVersion) return { ok: false, diagnostics: fileSink.sorted() };
  const version = `${schemaVersion.family} ${schemaVersion.version}`;
  const failed = () => ({ ok: false as const, diagnostics: fileSink.sorted(), version });

  let alpha2: Alpha2Document;
  let sink = fileSink;
  let imports: readonly string[] = [];
  if (schemaVersion.family === 'naftiko') {
    const { warnings, rest } = consumedParameterHints(validateAgainstSchema(document, schemaVersion));
    for (const warning of warnings) sink.warning(warning.path, warning.message);
    for (const problem of rest) {
      const tolerated = toleratedDeviation(problem, document);
      if (tolerated) sink.warning(problem.path, tolerated);
      else sink.error(problem.path, problem.message);
    }
    if (sink.hasErrors) return failed();
    alpha2 = document as Alpha2Document;
  } else {
    // Ikanos files are held to their own schema: no deviation is tolerated, and an alpha2 habit is named with its fix.
    for (const problem of validateAgainstSchema(document, schemaVersion)) {
      const leftover = alpha2Leftover(problem, document);
      if (leftover !== 'covered') sink.error(problem.path, leftover ?? problem.message);
    }
    if (sink.hasErrors) return failed();
    const reading = readIkanos(document as Record<string, unknown>, schemaVersion.version, file, parsed.locate, sink);
    if (!reading) return failed();
    alpha2 = reading.document;
    imports = reading.imports;
    sink = fileSink.placed(reading.place);
  }

  const bindings = readBindings(alpha2, options.environment ?? {}, sink, options.requireBindings ?? true);
  const interpreted = interpret(alpha2, bindings, sink, {
    file,
    environment: options.environment ?? {},
    ...(options.baseUris ? { baseUris: options.baseUris } : {}),
  });
  if (!interpreted || sink.hasErrors) return failed();

  try {
    compileDescriptors(interpreted.descriptors, createSchemaCompiler());
  } catch (error) {
    if (!(error instanceof DescriptorError)) throw error;
    fileSink.error([], `the descriptor built from it is invalid: ${error.message}`);
    return failed();
  }
  return { ok: true, capability: { file, version, imports, ...interpreted }, diagnostics: fileSink.sorted(), version };
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
export function loadCapabilityOrThrow(
  text: string,
  options: LoadOptions = {},
): LoadedCapability & { readonly warnings: readonly Diagnostic[] } {
  const result = loadCapability(text, options);
  if (!result.ok) throw new CapabilityError(options.file ?? 'capability', result.diagnostics);
  return { ...result.capability, warnings: result.diagnostics.filter((d) => d.severity === 'warning') };
}

const READS = `ikanos ${IKANOS_VERSIONS[0]} … ${IKANOS_VERSIONS.at(-1)} and naftiko ${NAFTIKO_VERSION}`;

/** The root key and version pick the schema: `naftiko: 1.0.0-alpha2` or `ikanos: 1.0.0-alpha3` … `1.0.0-beta4`. */
function readVersion(document: unknown, sink: DiagnosticSink): SchemaVersion | undefined {
  if (document === null || document === undefined) {
    sink.error([], 'the document is empty');
    return undefined;
  }
  if (typeof document !== 'object' || Array.isArray(document)) {
    sink.error(
      [],
      `is not a capability document: the YAML root must be a mapping with "ikanos: ${MIGRATION_TARGET}" (or "naftiko: ${NAFTIKO_VERSION}")`,
    );
    return undefined;
  }
  const root = document as Record<string, unknown>;
  if ('ikanos' in root && 'naftiko' in root) {
    sink.error(
      ['naftiko'],
      `has both root keys "ikanos:" and "naftiko:"; the root key is "ikanos" since Ikanos 1.0.0-alpha3: remove "naftiko"`,
    );
    return undefined;
  }
  if ('ikanos' in root) {
    if (isIkanosVersion(root.ikanos)) return { family: 'ikanos', version: root.ikanos };
    sink.error(['ikanos'], `version ${JSON.stringify(root.ikanos)} of root key "ikanos:" is not supported; this gateway reads ${READS}`);
    return undefined;
  }
  if (!('naftiko' in root)) {
    sink.error([], `is not a Naftiko/Ikanos capability: no "ikanos: ${MIGRATION_TARGET}" (or "naftiko: ${NAFTIKO_VERSION}") root key`);
    return undefined;
  }
  if (root.naftiko === NAFTIKO_VERSION) return { family: 'naftiko', version: NAFTIKO_VERSION };
  const later = isIkanosVersion(root.naftiko) ? `; ${root.naftiko} is an Ikanos version: the root key is "ikanos" since 1.0.0-alpha3` : '';
  sink.error(['naftiko'], `version ${JSON.stringify(root.naftiko)} is not supported; this gateway reads ${READS}${later}`);
  return undefined;
}
