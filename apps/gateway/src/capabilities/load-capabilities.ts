import { compileDescriptors, createSchemaCompiler, DescriptorError, type Environment, type PluginDescriptor } from '@gateway/core';
import { type Diagnostic, formatDiagnostic, type LoadedCapability, loadCapabilityFile } from '@gateway/naftiko';

/** Capability files that cannot all be served; the message lists every error with file, YAML path and reason. */
export class CapabilityLoadError extends Error {
  override readonly name = 'CapabilityLoadError';
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    super(
      `${errors.length === 1 ? 'a capability file has an error' : `capability files have ${errors.length} errors`}:\n${errors.map((d) => `  ${formatDiagnostic(d)}`).join('\n')}`,
    );
  }
}

export interface CapabilitySet {
  readonly capabilities: readonly LoadedCapability[];
  readonly descriptors: readonly PluginDescriptor[];
  /** Warnings and errors of every file, in file order. */
  readonly diagnostics: readonly Diagnostic[];
  /** Each file's own warnings and errors, with those of the files it imports. */
  readonly byFile: ReadonlyMap<string, readonly Diagnostic[]>;
  /** The format and version each file declares (`ikanos 1.0.0-beta3`), when it could be read. */
  readonly versions: ReadonlyMap<string, string>;
  readonly ok: boolean;
}

export interface LoadCapabilitiesOptions {
  readonly environment: Environment;
  /** A bound variable missing from the environment is an error (start-up) or a warning (validation). */
  readonly requireBindings: boolean;
  readonly baseUris?: Readonly<Record<string, string>>;
}

/** Loads every file, then checks their descriptors together (ids, routes and tool names must not collide). */
export function loadCapabilities(files: readonly string[], options: LoadCapabilitiesOptions): CapabilitySet {
  const capabilities: LoadedCapability[] = [];
  const diagnostics: Diagnostic[] = [];
  const versions = new Map<string, string>();
  const byFile = new Map<string, readonly Diagnostic[]>();
  for (const file of files) {
    const result = loadCapabilityFile(file, {
      environment: options.environment,
      requireBindings: options.requireBindings,
      ...(options.baseUris ? { baseUris: options.baseUris } : {}),
    });
    diagnostics.push(...result.diagnostics);
    byFile.set(file, result.diagnostics);
    if (result.version) versions.set(file, result.version);
    if (result.ok) capabilities.push(result.capability);
  }
  const descriptors = capabilities.flatMap((capability) => capability.descriptors);
  if (capabilities.length > 1 && capabilities.length === files.length) {
    const clash = firstClash(capabilities);
    if (clash) {
      diagnostics.push(clash);
      byFile.set(clash.file, [...(byFile.get(clash.file) ?? []), clash]);
    }
  }
  return { capabilities, descriptors, diagnostics, byFile, versions, ok: !diagnostics.some((d) => d.severity === 'error') };
}

/**
 * The first file whose descriptors clash with those of the files before it (ids, routes, tool names), reported
 * against that later file and naming the earlier ones: a copy of a file is reported at the copy, not the original.
 */
function firstClash(capabilities: readonly LoadedCapability[]): Diagnostic | undefined {
  const compiler = createSchemaCompiler();
  for (let count = 1; count <= capabilities.length; count++) {
    try {
      compileDescriptors(
        capabilities.slice(0, count).flatMap((capability) => capability.descriptors),
        compiler,
      );
    } catch (error) {
      if (!(error instanceof DescriptorError)) throw error;
      const culprit = capabilities[count - 1] as LoadedCapability;
      const earlier = capabilities.slice(0, count - 1).map((capability) => capability.file);
      const sameId = capabilities.slice(0, count - 1).filter((capability) => capability.descriptors.some((d) => d.id === error.pluginId));
      const others = sameId.length > 0 ? sameId.map((capability) => capability.file) : earlier;
      const message = others.includes(culprit.file)
        ? `is given more than once: ${error.message}`
        : `clashes with ${others.join(', ')}: ${error.message}`;
      return { severity: 'error', file: culprit.file, path: '', message };
    }
  }
  return undefined;
}
