export { capabilityFiles, UsageError } from './capability-arguments.ts';
export { type CapabilityStartup, capabilityStartup } from './capability-startup.ts';
export { CapabilityLoadError, type CapabilitySet, loadCapabilities } from './load-capabilities.ts';
export { type CommandIo, runValidate, USAGE } from './validate-command.ts';
export { MIGRATE_USAGE, runMigrate } from './migrate-command.ts';
