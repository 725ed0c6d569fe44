import { isAbsolute, resolve } from 'node:path';
import type { Environment } from '@gateway/core';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * `--capability <file>` (repeatable; also `--capability=<file>` and `-c <file>`) plus `CAPABILITIES=a.yaml,b.yaml`.
 * Relative paths are resolved against the directory the command was typed in (`INIT_CWD` under `npm start`).
 */
export function capabilityFiles(args: readonly string[], environment: Environment, cwd = process.cwd()): string[] {
  const base = environment.INIT_CWD || cwd;
  const files: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (arg === '--capability' || arg === '-c') {
      const value = args[++index];
      if (value === undefined || value.startsWith('-')) throw new UsageError(`${arg} needs a file: ${arg} <file.yaml>`);
      files.push(value);
    } else if (arg.startsWith('--capability=')) {
      files.push(arg.slice('--capability='.length));
    } else {
      throw new UsageError(`unknown argument "${arg}" (usage: npm start -- [--capability <file.yaml>]...)`);
    }
  }
  files.push(
    ...(environment.CAPABILITIES ?? '')
      .split(',')
      .map((file) => file.trim())
      .filter(Boolean),
  );
  const absolute = files.map((file) => (isAbsolute(file) ? file : resolve(base, file)));
  return [...new Set(absolute)];
}
