import 'reflect-metadata';
import { ConfigError } from './config.ts';
import { DescriptorError } from '@gateway/core';
import { startGateway } from './gateway.ts';
import { startupBanner } from './banner.ts';

try {
  const gateway = await startGateway({ environment: process.env });
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
  if (error instanceof ConfigError || error instanceof DescriptorError) {
    process.stderr.write(`gateway: cannot start: ${error.message}\n`);
  } else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    process.stderr.write(`gateway: cannot start: ${(error as Error).message} (set PORT / MCP_PORT to free ports)\n`);
  } else {
    process.stderr.write(`gateway: cannot start: ${(error as Error).message}\n`);
  }
  process.exit(1);
}
