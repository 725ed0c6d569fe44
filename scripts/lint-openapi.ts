// Lints the OpenAPI document the running gateway serves: starts the gateway in sandbox mode on an ephemeral
// port, saves GET /openapi.json to a temp file, runs Spectral (.spectral.yaml) and Redocly (redocly.yaml).
// Exits non-zero on any finding of either linter, whatever its severity.
// Usage: tsx --tsconfig scripts/tsconfig.json scripts/lint-openapi.ts [--out <file>] [--file <file>]
//   --out <file>   keep a copy of the linted document
//   --file <file>  lint that document instead of starting the gateway (e.g. to see that a finding fails)
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGateway } from '../apps/gateway/src/gateway.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SEVERITIES = ['error', 'warning', 'info', 'hint'];

interface Finding {
  readonly severity: string;
  readonly rule: string;
  readonly message: string;
  readonly where: string;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

/** The document as served open (loopback, no keys) and as deployed (inbound keys: security schemes declared). */
const PROFILES: Readonly<Record<string, Record<string, string>>> = {
  open: {},
  'with inbound keys': { GATEWAY_API_KEYS: 'lint-profile-key-0123456789' },
};

async function servedDocument(extra: Record<string, string>): Promise<string> {
  // Sandbox mode on purpose: no upstream key, whatever the caller's environment holds.
  const gateway = await startGateway({ environment: { HOST: '127.0.0.1', PORT: '0', MCP_PORT: '0', LOG_LEVEL: 'silent', ...extra } });
  try {
    const response = await fetch(`${gateway.restUrl}/openapi.json`);
    if (!response.ok) throw new Error(`GET /openapi.json answered ${response.status}`);
    return await response.text();
  } finally {
    await gateway.close();
  }
}

function run(command: string, args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('npx', ['--no-install', command, ...args], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function spectral(file: string): Finding[] {
  const { status, stdout, stderr } = run('spectral', [
    'lint',
    file,
    '--ruleset',
    join(root, '.spectral.yaml'),
    '--format',
    'json',
    '--quiet',
    '--fail-severity',
    'hint',
  ]);
  const results = parseJson<{ code: string; message: string; severity: number; path: string[]; range: { start: { line: number } } }[]>(
    stdout,
    'spectral',
    status,
    stderr,
  );
  return results.map((r) => ({
    severity: SEVERITIES[r.severity] ?? String(r.severity),
    rule: r.code,
    message: r.message,
    where: `${r.path.length ? `#/${r.path.join('/')}` : '#'} (line ${r.range.start.line + 1})`,
  }));
}

function redocly(file: string): Finding[] {
  const { status, stdout, stderr } = run('redocly', ['lint', file, '--config', join(root, 'redocly.yaml'), '--format', 'json']);
  const report = parseJson<{ problems: { ruleId: string; message: string; severity: string; location: { pointer: string }[] }[] }>(
    stdout,
    'redocly',
    status,
    stderr,
  );
  return report.problems.map((p) => ({
    severity: p.severity === 'warn' ? 'warning' : p.severity,
    rule: p.ruleId,
    message: p.message,
    where: p.location[0]?.pointer ?? '#',
  }));
}

function parseJson<T>(stdout: string, tool: string, status: number | null, stderr: string): T {
  const start = stdout.search(/[[{]/);
  try {
    return JSON.parse(stdout.slice(Math.max(start, 0))) as T;
  } catch {
    throw new Error(`${tool} gave no JSON report (exit ${status}):\n${stdout}\n${stderr}`);
  }
}

function report(tool: string, findings: readonly Finding[]): void {
  const count = (severity: string) => findings.filter((f) => f.severity === severity).length;
  say(
    `${tool}: ${count('error')} errors, ${count('warning')} warnings, ${findings.length - count('error') - count('warning')} other findings`,
  );
  for (const f of findings) say(`  ${f.severity.padEnd(7)} ${f.rule}  ${f.message}  at ${f.where}`);
}

const option = (name: string): string | undefined => {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
};
const out = option('--out');
const given = option('--file');
const directory = mkdtempSync(join(tmpdir(), 'gateway-openapi-'));
try {
  const profiles = given ? { [given]: {} } : PROFILES;
  for (const [profile, environment] of Object.entries(profiles)) {
    const file = join(directory, 'openapi.json');
    writeFileSync(file, given ? readFileSync(given, 'utf8') : await servedDocument(environment));
    if (out) copyFileSync(file, resolve(out));
    const spectralFindings = spectral(file);
    const redoclyFindings = redocly(file);
    say(`Document: ${profile}`);
    report('Spectral (spectral:oas)', spectralFindings);
    report('Redocly (recommended)', redoclyFindings);
    if (spectralFindings.length + redoclyFindings.length > 0) {
      say('OpenAPI lint failed: fix the findings above (the document is built in apps/gateway/src/openapi/).');
      process.exitCode = 1;
    } else {
      say('OpenAPI document: clean.');
    }
  }
} finally {
  rmSync(directory, { recursive: true, force: true });
}
