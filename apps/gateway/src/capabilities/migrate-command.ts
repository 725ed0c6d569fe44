import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { OperationDescriptor, PluginDescriptor } from '@gateway/core';
import { formatDiagnostic, loadCapability, MIGRATION_TARGET, migrateAlpha2 } from '@gateway/naftiko';
import type { CommandIo } from './validate-command.ts';

export const MIGRATE_USAGE = `usage: gateway migrate <alpha2-capability.yaml> [-o <out.yaml>] [--force]

Rewrites a Naftiko 1.0.0-alpha2 capability as Ikanos ${MIGRATION_TARGET}: root key "ikanos", lists of named things
as maps keyed by kebab-case name, label -> display, imports as {from, import, as}; consumed-parameter
type/description/required become declared inputs of the exposures that use them; an object output without
"properties" gets "properties: {}" (read as before: the value passed through).

Writes the new file to stdout, or to <out.yaml> with -o (an existing file only with --force; never the input).
Notes on what changed beyond renaming go to stderr, then a check: the migrated file passes the ${MIGRATION_TARGET}
schema and the gateway serves the same REST routes and MCP tools from it as from the original.
Exit status: 0 when migrated and equivalent, 1 when the input cannot be migrated or the result differs, 2 on a usage error.
`;

/** `gateway migrate <file> [-o out]`; returns the exit status. */
export function runMigrate(args: readonly string[], io: CommandIo): number {
  const positional: string[] = [];
  let out: string | undefined;
  let force = false;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (arg === '-o' || arg === '--output') {
      out = args[++index];
      if (out === undefined) return usage(io, `${arg} needs a file`);
    } else if (arg === '--force') force = true;
    else if (arg.startsWith('-')) return usage(io, `unknown option ${arg}`);
    else positional.push(arg);
  }
  if (positional.length !== 1) return usage(io, positional.length === 0 ? '' : 'one file at a time');
  const base = io.environment.INIT_CWD || io.cwd;
  const input = resolveFrom(base, positional[0] as string);
  const output = out === undefined ? undefined : resolveFrom(base, out);
  const shown = (path: string) => relative(base, path) || path;
  if (output === input) return usage(io, '-o must not be the input file');
  if (output && existsSync(output) && !force) {
    io.stderr(`gateway migrate: ${shown(output)} exists; add --force to overwrite it\n`);
    return 1;
  }

  let text: string;
  try {
    text = readFileSync(input, 'utf8');
  } catch (error) {
    io.stderr(
      `gateway migrate: cannot read ${shown(input)}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}\n`,
    );
    return 1;
  }
  const migration = migrateAlpha2(text, shown(input));
  for (const note of migration.notes) io.stderr(`note: ${note}\n`);
  for (const diagnostic of migration.diagnostics) io.stderr(`${formatDiagnostic(diagnostic)}\n`);
  if (migration.text === undefined) return 1;

  if (output) writeFileSync(output, migration.text);
  else io.stdout(migration.text);
  if (migration.diagnostics.length > 0) return 1;

  // Read back as served (imports relative to where the file is written), without requiring the bound variables.
  const options = { environment: io.environment, requireBindings: false };
  const before = loadCapability(text, { ...options, file: input });
  const after = loadCapability(migration.text, { ...options, file: output ?? join(dirname(input), '(migrated)') });
  if (!after.ok) {
    for (const diagnostic of after.diagnostics.filter((d) => d.severity === 'error')) io.stderr(`${formatDiagnostic(diagnostic)}\n`);
    io.stderr(`gateway migrate: the migrated file cannot be served; fix the errors above by hand\n`);
    return 1;
  }
  if (!before.ok) {
    io.stderr(`gateway migrate: migrated; the original could not be served, so nothing to compare (gateway validate ${shown(input)})\n`);
    return 0;
  }
  const differences = compare(before.capability.descriptors, after.capability.descriptors);
  for (const difference of differences) io.stderr(`difference: ${difference}\n`);
  io.stderr(
    differences.length === 0
      ? `gateway migrate: ${output ? `${shown(output)}: ` : ''}ikanos ${MIGRATION_TARGET}, passes its schema; serves the same REST routes and MCP tools as ${shown(input)}\n`
      : `gateway migrate: the migrated file is served differently (above); review it\n`,
  );
  return differences.length === 0 ? 0 : 1;
}

function usage(io: CommandIo, problem: string): number {
  io.stderr(`${problem ? `gateway migrate: ${problem}\n` : ''}${MIGRATE_USAGE}`);
  return 2;
}

function resolveFrom(base: string, path: string): string {
  return isAbsolute(path) ? path : resolve(base, path);
}

/** What a caller sees of an operation: route, tool, schemas, titles, hints and the upstream call. */
function served(operation: OperationDescriptor<any>): Record<string, unknown> {
  const { upstream, ...rest } = operation;
  return { ...rest, upstream: { method: upstream.method, path: upstream.path, errors: upstream.errors } };
}

function compare(before: readonly PluginDescriptor[], after: readonly PluginDescriptor[]): string[] {
  const differences: string[] = [];
  const name = (operation: OperationDescriptor<any>) =>
    [operation.rest ? `${operation.rest.method} ${operation.rest.path}` : '', operation.mcp ? `tool ${operation.mcp.tool}` : '']
      .filter(Boolean)
      .join(' + ');
  const all = (descriptors: readonly PluginDescriptor[]) =>
    descriptors.flatMap((descriptor) => descriptor.operations.map((operation) => ({ descriptor, operation })));
  const afterOperations = all(after);
  for (const { descriptor, operation } of all(before)) {
    const match = afterOperations.find((candidate) => name(candidate.operation) === name(operation));
    if (!match) {
      differences.push(`${name(operation)} is not served by the migrated file`);
      continue;
    }
    if (JSON.stringify(served(operation)) !== JSON.stringify(served(match.operation)))
      differences.push(`${name(operation)} is described differently (schemas, titles, ids or hints)`);
    const upstream = (d: PluginDescriptor) => JSON.stringify({ baseUrl: d.upstream.baseUrl, auth: d.upstream.auth });
    if (upstream(descriptor) !== upstream(match.descriptor))
      differences.push(`${name(operation)} calls a different upstream or credential`);
  }
  for (const { operation } of afterOperations) {
    if (!all(before).some((candidate) => name(candidate.operation) === name(operation)))
      differences.push(`${name(operation)} is new in the migrated file`);
  }
  return differences;
}
