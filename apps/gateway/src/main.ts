import 'reflect-metadata';
import { ConfigError } from './config.ts';
import { DescriptorError } from '@gateway/core';
import { formatDiagnostic } from '@gateway/naftiko';
import { startGateway } from './gateway.ts';
import { startupBanner } from './banner.ts';
import { CapabilityLoadError, capabilityFiles, capabilityStartup, UsageError } from './capabilities/index.ts';

try {
  // `npm start -- --capability <file.yaml>` (repeatable) and/or CAPABILITIES=a.yaml,b.yaml serve Naftiko capabilities.
  const capabilities = capabilityStartup(capabilityFiles(process.argv.slice(2), process.env), process.env);
  for (const warning of capabilities.warnings) process.stderr.write(`gateway: ${formatDiagnostic(warning)}\n`);
  for (const note of capabilities.notes) process.stderr.write(`gateway: ${note}\n`);
  const gateway = await startGateway({ environment: capabilities.environment, extraPlugins: capabilities.plugins });
  for (const warning of capabilities.warnings) {
    gateway.logger.warn({ file: warning.file, path: warning.path, line: warning.line }, `capability: ${warning.message}`);
  }
  const stop = (signal: string) => {
    gateway.logger.info({ signal }, 'stopping');
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stderr.write(startupBanner(gateway));
} catch (error) {
  if (
    error instanceof ConfigError ||
    error instanceof DescriptorError ||
    error instanceof CapabilityLoadError ||
    error instanceof UsageError
  ) {
    process.stderr.write(`gateway: cannot start: ${error.message}\n`);
  } else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    process.stderr.write(`gateway: cannot start: ${(error as Error).message} (set PORT / MCP_PORT to free ports)\n`);
  } else {
    process.stderr.write(`gateway: cannot start: ${(error as Error).message}\n`);
  }
  process.exit(1);
}
