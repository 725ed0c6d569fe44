import { isAbsolute, relative, resolve } from 'node:path';
import type { Environment, OperationDescriptor, PluginDescriptor } from '@gateway/core';
import { formatDiagnostic, type LoadedCapability } from '@gateway/naftiko';
import { loadCapabilities } from './load-capabilities.ts';

export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly environment: Environment;
  readonly cwd: string;
}

export const USAGE = `usage: gateway validate [--require-env] <capability.yaml>...

Checks capability files the way "npm start -- --capability <file>" reads them: Ikanos 1.0.0-alpha3 … 1.0.0-beta4
(root key "ikanos:") or Naftiko 1.0.0-alpha2 (root key "naftiko:"), each against the schema of the version it declares.
Says which version each file is. Prints warnings (read, with a deviation) and errors (cannot be served), each with file:line:column and YAML path.
Exit status: 0 when every file can be served, 1 when one cannot, 2 on a usage error.

  --require-env   a variable a file binds but the environment does not set is an error (as at start-up),
                  not a warning
`;

/** `gateway validate <file>...`; returns the exit status. */
export function runValidate(args: readonly string[], io: CommandIo): number {
  const requireBindings = args.includes('--require-env');
  const unknown = args.find((arg) => arg.startsWith('-') && arg !== '--require-env');
  const files = args.filter((arg) => !arg.startsWith('-'));
  if (unknown || files.length === 0) {
    io.stderr(`${unknown ? `gateway validate: unknown option ${unknown}\n` : ''}${USAGE}`);
    return 2;
  }
  const base = io.environment.INIT_CWD || io.cwd;
  const paths = files.map((file) => (isAbsolute(file) ? file : resolve(base, file)));
  const shown = (path: string) => relative(base, path) || path;
  const set = loadCapabilities(paths, { environment: io.environment, requireBindings });
  const output: string[] = [];
  for (const path of paths) {
    const own = set.byFile.get(path) ?? [];
    for (const diagnostic of own) output.push(formatDiagnostic({ ...diagnostic, file: shown(diagnostic.file) }));
    const capability = set.capabilities.find((c) => c.file === path);
    const errors = own.filter((d) => d.severity === 'error').length;
    const warnings = own.length - errors;
    const version = set.versions.get(path);
    const declared = version ? ` — read as ${version}` : '';
    if (capability && errors === 0) {
      output.push(
        `${shown(path)}: ok, can be served${warnings ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}${declared}`,
        ...summary(capability),
      );
    } else {
      output.push(
        `${shown(path)}: cannot be served (${errors} error${errors === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''})${declared}`,
      );
    }
  }
  const reported = new Set([...set.byFile.values()].flat());
  for (const diagnostic of set.diagnostics.filter((d) => !reported.has(d))) output.push(formatDiagnostic(diagnostic));
  io.stdout(`${output.join('\n')}\n`);
  return set.ok ? 0 : 1;
}

function summary(capability: LoadedCapability): string[] {
  const lines: string[] = [];
  for (const descriptor of capability.descriptors) {
    for (const operation of descriptor.operations) lines.push(`  ${describe(descriptor, operation)}`);
  }
  const ports = [...capability.ports.rest.map((p) => `REST ${p.port}`), ...capability.ports.mcp.map((p) => `MCP ${p.port}`)];
  if (ports.length) lines.push(`  declared ports: ${ports.join(', ')} (PORT / MCP_PORT override them)`);
  for (const imported of capability.imports) lines.push(`  imports ${imported}`);
  return lines;
}

function describe(descriptor: PluginDescriptor, operation: OperationDescriptor<any>): string {
  const fronts = [
    ...(operation.rest ? [`REST ${operation.rest.method} ${operation.rest.path}`] : []),
    ...(operation.mcp ? [`MCP tool ${operation.mcp.tool}`] : []),
  ];
  return `${fronts.join(' + ')} -> ${operation.upstream.method} ${descriptor.upstream.baseUrl}${operation.upstream.path}`;
}
