// Runs the official MCP conformance suite and the MCP Inspector CLI against the gateway's MCP endpoint, once in
// each MCP mode (stateless, then MCP_SESSIONS=true), and in each mode for each protocol revision the gateway
// serves (2026-07-28, then 2025-11-25: `conformance server --requirements <revision>`). The gateway runs in this
// process in sandbox mode with no inbound auth, on free loopback ports; the suite and the Inspector need Node 22,
// which tools/mcp-conformance brings (npm ci there when missing). Exits non-zero when a scenario fails that
// baseline.yml does not list for its revision, a listed one passes, a must-pass scenario did not pass, the
// Inspector's --strict lint reports a finding that inspector-baseline.yml does not list (or a listed one is
// gone), or the Inspector's tools/call fails.
// Results: .tmp/mcp-conformance/<mode>/<revision>/ (suite checks), .tmp/mcp-conformance/<mode>/ (gateway.log,
// the Inspector's tools/list answer).
// Usage: tsx --tsconfig scripts/tsconfig.json scripts/mcp-conformance.ts [--out <dir>] [--mode stateless|sessions]
//        [--revision 2026-07-28|2025-11-25]
import 'reflect-metadata';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, createWriteStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { startGateway } from '../apps/gateway/src/gateway.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const toolsDir = join(root, 'tools/mcp-conformance');
const node22 = join(toolsDir, 'node_modules/.bin/node');
const conformance = join(toolsDir, 'node_modules/.bin/conformance');
const inspector = join(toolsDir, 'node_modules/.bin/mcp-inspector');
const baselineFile = join(toolsDir, 'baseline.yml');
const inspectorBaselineFile = join(toolsDir, 'inspector-baseline.yml');

interface Mode {
  readonly name: 'stateless' | 'sessions';
  readonly environment: Record<string, string>;
}

const MODES: readonly Mode[] = [
  { name: 'stateless', environment: {} },
  { name: 'sessions', environment: { MCP_SESSIONS: 'true' } },
];

/** The revisions served, and per revision the scenarios that must pass in every mode (never in the baseline). */
const REVISIONS = {
  '2026-07-28': ['tools-list', 'dns-rebinding-protection', 'http-header-validation', 'input-required-result-unsupported-methods'],
  '2025-11-25': ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection'],
} as const;
type Revision = keyof typeof REVISIONS;
/** Sessions mode only: the 2025 session scenarios. */
const SESSIONS_MUST_PASS: Record<Revision, readonly string[]> = {
  '2026-07-28': [],
  '2025-11-25': ['server-sse-multiple-streams', 'server-session-lifecycle'],
};

const mustPass = (mode: Mode, revision: Revision): readonly string[] => [
  ...REVISIONS[revision],
  ...(mode.name === 'sessions' ? SESSIONS_MUST_PASS[revision] : []),
];

/** A call the Inspector makes over the wire: one event into the sandbox. */
const SAMPLE_ARGUMENTS = { body: { eventName: 'Conformance Run', identifyId: 'mcp-conformance', propertyKey: 'AP-CONFORMANCE-1' } };

const say = (line: string) => process.stdout.write(`${line}\n`);

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function ensureInstalled(): void {
  if ([node22, conformance, inspector].every((file) => existsSync(file))) return;
  say('Installing tools/mcp-conformance (npm ci)...');
  const result = spawnSync('npm', ['ci', '--prefix', toolsDir, '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error('npm ci --prefix tools/mcp-conformance failed');
}

/** The revision's `server` list, plus its `stateless` list in stateless mode; must-pass scenarios may not be in it. */
function baselineFor(mode: Mode, revision: Revision): string[] {
  const baseline = (parse(readFileSync(baselineFile, 'utf8')) ?? {}) as Record<string, { server?: string[]; stateless?: string[] }>;
  const lists = baseline[revision] ?? {};
  const expected = [...(lists.server ?? []), ...(mode.name === 'stateless' ? (lists.stateless ?? []) : [])];
  const clash = expected.filter((scenario) => mustPass(mode, revision).includes(scenario));
  if (clash.length > 0) throw new Error(`${baselineFile} lists must-pass scenarios for ${revision}: ${clash.join(', ')}`);
  return expected;
}

/** Runs a child asynchronously (the gateway in this process must keep answering), output passed through. */
function run(command: string, args: readonly string[], environment: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolveExit, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', env: environment, cwd: toolsDir });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolveExit(code ?? (signal ? 128 : 1)));
  });
}

/** Like `run`, with stdout saved to a file and stderr captured (and shown). */
function runCapturing(
  command: string,
  args: readonly string[],
  environment: NodeJS.ProcessEnv,
  stdoutFile: string,
): Promise<{ code: number; stderr: string }> {
  const out = openSync(stdoutFile, 'w');
  return new Promise((resolveExit, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', out, 'pipe'], env: environment, cwd: toolsDir });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      process.stderr.write(chunk);
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      closeSync(out);
      resolveExit({ code: code ?? (signal ? 128 : 1), stderr });
    });
  });
}

interface Finding {
  readonly severity: string;
  readonly tool: string;
  readonly path: string;
}

const findingKey = (f: Finding) => `${f.severity} ${f.tool} ${f.path}`;

/**
 * The Inspector's --strict report (`Warning: tool "x"` / `  Path: ...` blocks, then `N errors, M warnings`; nothing when clean) checked
 * against inspector-baseline.yml: a finding not listed fails, and so does a listed one that is gone.
 */
function inspectorProblems(stderr: string): string[] {
  const findings: Finding[] = [...stderr.matchAll(/^(\w+): tool "([^"]+)"\r?\n\s+Path: (\S+)/gm)].map((m) => ({
    severity: m[1] ?? '',
    tool: m[2] ?? '',
    path: m[3] ?? '',
  }));
  const summary = /(\d+) errors?, (\d+) warnings?/.exec(stderr);
  // A clean --strict run prints nothing at all; a run with findings ends with an "N errors, M warnings" line.
  if (!summary && (findings.length > 0 || stderr.trim() !== '')) return ['no --strict summary line in the Inspector output'];
  const counted = summary ? Number(summary[1]) + Number(summary[2]) : 0;
  if (counted !== findings.length) return [`the Inspector counted ${counted} findings but ${findings.length} could be read`];
  const known = ((parse(readFileSync(inspectorBaselineFile, 'utf8')) ?? {}) as { findings?: Finding[] }).findings ?? [];
  const knownKeys = new Set(known.map(findingKey));
  const seenKeys = new Set(findings.map(findingKey));
  return [
    ...findings.filter((f) => !knownKeys.has(findingKey(f))).map((f) => `new finding: ${findingKey(f)}`),
    ...known.filter((f) => !seenKeys.has(findingKey(f))).map((f) => `stale inspector-baseline.yml entry (remove it): ${findingKey(f)}`),
  ];
}

/** Reads the suite's results: a must-pass scenario needs at least one SUCCESS and no FAILURE or WARNING. */
function mustPassProblems(outDir: string, scenarios: readonly string[]): string[] {
  const problems: string[] = [];
  const dirs = readdirSync(outDir);
  for (const scenario of scenarios) {
    const dir = dirs.find((name) => name.startsWith(`server-${scenario}-`));
    if (!dir) {
      problems.push(`${scenario}: no results`);
      continue;
    }
    const checks = JSON.parse(readFileSync(join(outDir, dir, 'checks.json'), 'utf8')) as { status: string; name: string }[];
    const bad = checks.filter((check) => check.status === 'FAILURE' || check.status === 'WARNING');
    if (bad.length > 0 || !checks.some((check) => check.status === 'SUCCESS')) {
      problems.push(`${scenario}: ${bad.map((check) => `${check.name} ${check.status}`).join(', ') || 'no successful check'}`);
    }
  }
  return problems;
}

/** One `--requirements` run of the suite against a running gateway. */
async function runSuite(url: string, mode: Mode, revision: Revision, modeDir: string): Promise<string[]> {
  const outDir = join(modeDir, revision);
  mkdirSync(outDir, { recursive: true });
  const baseline = join(outDir, 'baseline.yml');
  writeFileSync(
    baseline,
    `# ${mode.name} mode, ${revision}, generated from tools/mcp-conformance/baseline.yml\nserver:\n${baselineFor(mode, revision)
      .map((s) => `  - ${s}\n`)
      .join('')}`,
  );
  say(`\n--- conformance --requirements ${revision} (${mode.name}) ---`);
  const code = await run(node22, [
    conformance,
    'server',
    '--url',
    url,
    '--requirements',
    revision,
    '--expected-failures',
    baseline,
    '-o',
    outDir,
  ]);
  const failures = code === 0 ? [] : [`conformance suite exited ${code} (unexpected failure or stale baseline entry; see above)`];
  failures.push(...mustPassProblems(outDir, mustPass(mode, revision)));
  return failures.map((failure) => `${mode.name} ${revision}: ${failure}`);
}

async function runMode(mode: Mode, revisions: readonly Revision[], outRoot: string): Promise<string[]> {
  const outDir = join(outRoot, mode.name);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });

  const log = createWriteStream(join(outDir, 'gateway.log'));
  // Not the caller's environment: no GAINSIGHT_API_KEY (sandbox), no GATEWAY_API_KEYS (no inbound auth), loopback only.
  const gateway = await startGateway({
    environment: { HOST: '127.0.0.1', PORT: '0', MCP_PORT: '0', LOG_LEVEL: 'info', ...mode.environment },
    logDestination: log,
  });
  say(`\n=== MCP ${mode.name} mode: ${gateway.mcpUrl} (sandbox, no inbound auth) ===`);
  const failures: string[] = [];
  try {
    for (const revision of revisions) failures.push(...(await runSuite(gateway.mcpUrl, mode, revision, outDir)));

    const inspectorEnv = { ...process.env, MCP_CATALOG_PATH: join(outDir, 'inspector-catalog.json') };
    say(`\n--- MCP Inspector: tools/list --strict (${mode.name}) ---`);
    const lint = await runCapturing(
      node22,
      [inspector, '--cli', gateway.mcpUrl, '--method', 'tools/list', '--strict'],
      inspectorEnv,
      join(outDir, 'inspector-tools-list.json'),
    );
    if (lint.code !== 0) failures.push(`${mode.name}: mcp-inspector tools/list --strict exited ${lint.code} (see above)`);
    failures.push(...inspectorProblems(lint.stderr).map((problem) => `${mode.name}: mcp-inspector --strict: ${problem}`));
    say(`\n--- MCP Inspector: tools/call gainsight-send-custom-event (${mode.name}) ---`);
    const call = await run(
      node22,
      [
        inspector,
        '--cli',
        gateway.mcpUrl,
        '--method',
        'tools/call',
        '--tool-name',
        'gainsight-send-custom-event',
        '--tool-args-json',
        JSON.stringify(SAMPLE_ARGUMENTS),
      ],
      inspectorEnv,
    );
    if (call !== 0) failures.push(`${mode.name}: mcp-inspector tools/call exited ${call}`);
  } finally {
    await gateway.close();
    log.end();
  }
  return failures;
}

async function main(): Promise<number> {
  const outRoot = resolve(option('--out') ?? join(root, '.tmp/mcp-conformance'));
  const only = option('--mode');
  const modes = MODES.filter((mode) => !only || mode.name === only);
  if (modes.length === 0) throw new Error(`--mode must be one of ${MODES.map((m) => m.name).join(', ')}`);
  const onlyRevision = option('--revision');
  const revisions = (Object.keys(REVISIONS) as Revision[]).filter((revision) => !onlyRevision || revision === onlyRevision);
  if (revisions.length === 0) throw new Error(`--revision must be one of ${Object.keys(REVISIONS).join(', ')}`);
  ensureInstalled();
  const failures: string[] = [];
  for (const mode of modes) failures.push(...(await runMode(mode, revisions, outRoot)));
  say('');
  if (failures.length > 0) {
    say(`MCP conformance FAILED (results in ${outRoot}):`);
    for (const failure of failures) say(`  - ${failure}`);
    return 1;
  }
  say(`MCP conformance passed for ${revisions.join(' and ')} in ${modes.map((m) => m.name).join(' and ')} mode (results in ${outRoot}).`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`mcp-conformance: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
