import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * docs/configuration.md is the configuration reference; this keeps it true to the code. It collects every
 * environment variable the gateway, its packages and plugins read, and every variable the reference documents
 * (the first column of its tables), and names each one found on only one side.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const REFERENCE = 'docs/configuration.md';
const SOURCE_DIRS = ['apps/gateway/src', 'packages', 'plugins'];

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return entry.name === 'node_modules' || entry.name === 'test' || entry.name === 'dist' ? [] : sourceFiles(path);
    return /\.(ts|mts|js|mjs)$/.test(entry.name) && !/\.(test|contract)\.ts$/.test(entry.name) ? [path] : [];
  });
}

const NAME = '[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*';
/** A name built from a prefix and a value (`CAPABILITY_BASE_URI_${namespace}`) is written `PREFIX_<VALUE>` in the docs. */
const PATTERN = '<…>';

/** Variable name -> the files that read it. */
function variablesRead(): Map<string, string[]> {
  const read = new Map<string, string[]>();
  const add = (name: string, file: string) => read.set(name, [...(read.get(name) ?? []), file]);
  for (const file of SOURCE_DIRS.flatMap(sourceFiles)) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const where = relative(ROOT, join(ROOT, file));
    // environment.X, env.X, process.env.X, with or without ?.; and the same indexed by a literal.
    for (const match of text.matchAll(new RegExp(`\\b(?:environment|env)\\??\\.(${NAME})\\b`, 'g'))) add(match[1] as string, where);
    for (const match of text.matchAll(new RegExp(`\\b(?:environment|env)\\[\\s*'(${NAME})'\\s*\\]`, 'g'))) add(match[1] as string, where);
    // A file that indexes the environment by a computed name reads it through helpers taking the name first:
    // integer('PORT', 8080, ...), flag('MCP_SESSIONS'), ...list('ALLOWED_HOSTS'); not methods such as process.on('SIGINT').
    if (/\b(?:environment|env)\[[a-zA-Z]/.test(text)) {
      for (const match of text.matchAll(new RegExp(`(?<![\\w)\\]]\\.)(?<!\\w)[a-z]\\w*\\(\\s*'(${NAME})'`, 'g')))
        add(match[1] as string, where);
    }
    for (const match of text.matchAll(new RegExp(`\`(${NAME}_)\\$\\{`, 'g'))) add(`${match[1]}${PATTERN}`, where);
  }
  return read;
}

/** Every variable named in the first column of a table row of the reference. */
function variablesDocumented(markdown: string): Set<string> {
  const documented = new Set<string>();
  for (const line of markdown.split('\n')) {
    const cell = /^\|([^|]*)\|/.exec(line)?.[1];
    if (cell === undefined) continue;
    for (const match of cell.matchAll(new RegExp(`\`(${NAME}(?:_<[A-Za-z_]+>)?)\``, 'g'))) {
      documented.add((match[1] as string).replace(/<[A-Za-z_]+>$/, PATTERN));
    }
  }
  return documented;
}

describe(`${REFERENCE} against the code that reads the environment`, () => {
  const read = variablesRead();
  const documented = variablesDocumented(readFileSync(join(ROOT, REFERENCE), 'utf8'));

  it('finds the readers (the extraction still works)', () => {
    expect(read.get('PORT')).toContain('apps/gateway/src/config.ts');
    expect(read.get('GAINSIGHT_API_KEY')).toContain('plugins/gainsight-px/src/settings.ts');
    expect(read.get(`CAPABILITY_BASE_URI_${PATTERN}`)).toContain('packages/naftiko/src/consumes.ts');
    expect(documented.has('PORT')).toBe(true);
  });

  it('documents every variable the code reads', () => {
    const missing = [...read]
      .filter(([name]) => !documented.has(name))
      .map(([name, files]) => `${name} (read in ${[...new Set(files)].join(', ')}) has no row in ${REFERENCE}`);
    expect(missing, `add a row (name, default, meaning) to ${REFERENCE} for:\n${missing.join('\n')}`).toEqual([]);
  });

  it('documents only variables the code reads', () => {
    const stale = [...documented]
      .filter((name) => !read.has(name))
      .map((name) => `${name} is documented in ${REFERENCE} but no code reads it`);
    expect(stale, `remove the row, or read the variable in apps/gateway/src/config.ts:\n${stale.join('\n')}`).toEqual([]);
  });
});
