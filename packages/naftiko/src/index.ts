export type * from './alpha2.ts';
export { baseUriVariable } from './consumes.ts';
export type { DeclaredPort } from './exposes.ts';
export { CapabilityError, type Diagnostic, formatDiagnostic, formatPath, type Severity } from './diagnostics.ts';
export {
  type CapabilityLoad,
  type LoadedCapability,
  type LoadOptions,
  loadCapability,
  loadCapabilityFile,
  loadCapabilityOrThrow,
} from './load.ts';
export { type Migration, migrateAlpha2 } from './migrate.ts';
export { mapOutput } from './output-mapping.ts';
export { IKANOS_VERSIONS, MIGRATION_TARGET, NAFTIKO_VERSION } from './schema.ts';
