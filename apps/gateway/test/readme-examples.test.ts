import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, startGatewayProcess } from './support/gateway-process.ts';

/**
 * Every ```sh block of the README, run with bash against the gateway `npm start` runs (sandbox mode), the README's
 * ports rewritten to the test gateway's. The conventions (docs/development.md): comment lines right after a
 * command are output it must print, in order, `…` standing for any text; every command must exit 0; a block
 * fenced ```sh manual is not run.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

interface Step {
  /** Where the step starts in the README (1-based), for messages. */
  readonly line: number;
  readonly command: string;
  readonly expected: string[];
}

interface Block {
  readonly line: number;
  readonly manual: boolean;
  readonly steps: Step[];
}

function shellBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\S*)\s*(.*)$/.exec(lines[i] as string);
    if (!fence) continue;
    const end = lines.findIndex((line, j) => j > i && line.startsWith('```'));
    if (end < 0) throw new Error(`README.md:${i + 1}: a code block that never closes`);
    if (fence[1] === 'sh' || fence[1] === 'bash') {
      const steps: { line: number; command: string[]; expected: string[] }[] = [];
      for (let j = i + 1; j < end; j++) {
        const line = lines[j] as string;
        const current = steps.at(-1);
        if (line.startsWith('#')) {
          if (!current) throw new Error(`README.md:${j + 1}: output shown before any command`);
          current.expected.push(line.replace(/^# ?/, ''));
        } else if (line.trim() !== '') {
          if (current && current.expected.length === 0) current.command.push(line);
          else steps.push({ line: j + 1, command: [line], expected: [] });
        }
      }
      blocks.push({
        line: i + 1,
        manual: fence[2]?.split(/\s+/).includes('manual') ?? false,
        steps: steps.map((step) => ({ line: step.line, command: step.command.join('\n'), expected: step.expected })),
      });
    }
    i = end;
  }
  return blocks;
}

/** A shown output line as a pattern: `…` is any text, everything else literal. */
function shownLine(expected: string): RegExp {
  return new RegExp(
    `^${expected
      .split('…')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

/** Whether every shown line matches a printed line, in order. */
function printedInOrder(printed: readonly string[], shown: readonly string[]): boolean {
  let at = 0;
  for (const expected of shown) {
    const pattern = shownLine(expected);
    while (at < printed.length && !pattern.test(printed[at] as string)) at++;
    if (at === printed.length) return false;
    at++;
  }
  return true;
}

function runBash(script: string, environment: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd: ROOT, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const MARK = '@@readme-step';

describe('the README', () => {
  const blocks = shellBlocks(README);

  it('has shell examples to run, and every manual block says so by its fence', () => {
    expect(blocks.filter((block) => !block.manual).length).toBeGreaterThanOrEqual(5);
    for (const block of blocks) expect(block.steps.length, `README.md:${block.line}: an empty block`).toBeGreaterThan(0);
  });

  it('links every page of docs/ from its map', () => {
    const pages = readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md'));
    const unlinked = pages.filter((page) => !README.includes(`](docs/${page})`));
    expect(unlinked, `add a row to the README's documentation map for: ${unlinked.join(', ')}`).toEqual([]);
  });

  describe('shell examples against a started gateway', () => {
    let gateway: GatewayProcess;
    let dataDir: string;

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'gateway-readme-'));
      gateway = await startGatewayProcess({ DATA_DIR: dataDir });
    });

    afterAll(async () => {
      await gateway?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('run in order, each exiting 0 and printing what the README shows', { timeout: 180_000 }, async () => {
      const restPort = new URL(gateway.restUrl).port;
      const mcpPort = new URL(gateway.mcpUrl).port;
      const steps = blocks.filter((block) => !block.manual).flatMap((block) => block.steps);
      const script = [
        'set -euo pipefail',
        ...steps.flatMap((step, index) => [
          `printf '\\n${MARK} %d\\n' ${index}`,
          step.command.replaceAll(':8080', `:${restPort}`).replaceAll(':9090', `:${mcpPort}`),
        ]),
        `printf '\\n${MARK} end\\n'`,
      ].join('\n');
      const { GAINSIGHT_API_KEY: _live, ...inherited } = process.env;
      const before = readdirSync(ROOT);
      const result = await runBash(script, { ...inherited, INIT_CWD: ROOT, NO_COLOR: '1' });
      // Examples run from the repository root, as a reader would: they must not leave files in the clone.
      expect(readdirSync(ROOT).filter((name) => !before.includes(name))).toEqual([]);

      const printed = new Map<string, string[]>();
      let current = '';
      for (const line of result.stdout.split('\n')) {
        if (line.startsWith(`${MARK} `)) current = line.slice(MARK.length + 1);
        else if (line !== '') printed.set(current, [...(printed.get(current) ?? []), line]);
      }
      const ran = [...result.stdout.matchAll(new RegExp(`${MARK} (\\d+)`, 'g'))].length;
      const last = steps[ran - 1];
      expect(
        result.stdout.includes(`${MARK} end`),
        `README.md:${last?.line}: this command failed (bash exit ${result.code}):\n${last?.command}\n${result.stderr.slice(-1500)}`,
      ).toBe(true);
      for (const [index, step] of steps.entries()) {
        const lines = printed.get(String(index)) ?? [];
        expect(
          printedInOrder(lines, step.expected),
          `README.md:${step.line}: the output shown is not what it printed.\nshown:\n${step.expected.join('\n')}\nprinted:\n${lines.join('\n')}`,
        ).toBe(true);
      }
    });
  });
});

describe('the README example runner', () => {
  it('reads steps, shown output and manual fences', () => {
    const blocks = shellBlocks(
      ['```sh', 'a \\', '  b', '# 1', '# 2', 'c # note', '```', '', '```sh manual', 'npm ci', '```', '```json', '{}', '```'].join('\n'),
    );
    expect(blocks).toEqual([
      {
        line: 1,
        manual: false,
        steps: [
          { line: 2, command: 'a \\\n  b', expected: ['1', '2'] },
          { line: 6, command: 'c # note', expected: [] },
        ],
      },
      { line: 9, manual: true, steps: [{ line: 10, command: 'npm ci', expected: [] }] },
    ]);
  });

  it('matches shown lines in order, … standing for any text', () => {
    expect(printedInOrder(['{"id":"x1","status":"queued"}', '202'], ['{"id":"…","status":"queued"}', '202'])).toBe(true);
    expect(printedInOrder(['202', '{"id":"x1"}'], ['{"id":"…"}', '202'])).toBe(false);
    expect(printedInOrder(['201'], ['20'])).toBe(false);
    expect(printedInOrder(['a.b'], ['a…b'])).toBe(true);
    expect(printedInOrder(['axb'], ['a.b'])).toBe(false);
  });
});
