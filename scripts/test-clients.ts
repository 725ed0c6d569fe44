// The real-client matrix (issue 15): starts the gateway in this process (sandbox mode, no inbound auth, loopback,
// free ports) in each MCP mode and drives it with the clients people use, each pinned in tools/clients (its own
// package.json and lock, out of the workspace) and run under Node 24 from tools/node24 (several need Node >= 22).
// MCP (both modes): the AI SDK MCP client, @langchain/mcp-adapters, mcp-remote bridged to an SDK stdio client,
// the SDK v2 client pinned to 2026-07-28 and on `auto`, and the MCP Inspector CLI in its modern era (2026-07-28;
// the Inspector comes from tools/mcp-conformance, where `npm run mcp:conformance` also runs it in the legacy era).
// OpenAPI (stateless mode): openapi-typescript + openapi-fetch (type-checked, then sent), @hey-api/openapi-ts
// generation with no warning, the gateway's own Postman collection (GET /postman.json) run by newman, Bruno's OpenAPI
// import sent as imported, Prism as a validating proxy.
// Every client runs offline: only the npm registry is needed, for `npm ci`. Exits non-zero when any check fails.
// Usage: tsx --tsconfig scripts/tsconfig.json scripts/test-clients.ts [--only <check>]
import 'reflect-metadata';
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGateway } from '../apps/gateway/src/gateway.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const clientsDir = join(root, 'tools/clients');
const node24Dir = join(root, 'tools/node24');
const node24 = join(node24Dir, 'node_modules/.bin/node');
const generated = join(clientsDir, '.generated');
const outDir = join(root, '.tmp/test-clients');
const bin = (path: string) => join(clientsDir, 'node_modules', path);
const conformanceDir = join(root, 'tools/mcp-conformance');
const inspector = join(conformanceDir, 'node_modules/.bin/mcp-inspector');

const say = (line: string) => process.stdout.write(`${line}\n`);

function ensureInstalled(): void {
  for (const [dir, marker] of [
    [node24Dir, node24],
    [clientsDir, bin('@modelcontextprotocol/client/package.json')],
    [conformanceDir, inspector],
  ] as const) {
    if (existsSync(marker)) continue;
    say(`Installing ${dir.slice(root.length + 1)} (npm ci)...`);
    const result = spawnSync('npm', ['ci', '--prefix', dir, '--no-audit', '--no-fund'], { stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`npm ci --prefix ${dir} failed`);
  }
}

/** Runs a command under Node 24 from tools/clients, output passed through and kept; asynchronous, so the gateway in this process keeps answering. */
function node(args: readonly string[], environment: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolveExit, reject) => {
    const child = spawn(node24, args, {
      cwd: clientsDir,
      env: { ...process.env, ...environment, PATH: `${dirname(node24)}:${process.env.PATH ?? ''}`, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output += chunk;
      process.stdout.write(chunk);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('close', (code, signal) => resolveExit({ code: code ?? (signal ? 128 : 1), output }));
  });
}

interface Check {
  readonly name: string;
  readonly modes: readonly ('stateless' | 'sessions')[];
  readonly run: (environment: Record<string, string>) => Promise<string | undefined>;
}

const script = (file: string) => async (environment: Record<string, string>) => {
  const { code } = await node([join('checks', file)], environment);
  return code === 0 ? undefined : `${file} exited ${code}`;
};

const CHECKS: readonly Check[] = [
  { name: 'ai-sdk', modes: ['stateless', 'sessions'], run: script('mcp-ai-sdk.mjs') },
  { name: 'langchain', modes: ['stateless', 'sessions'], run: script('mcp-langchain.mjs') },
  { name: 'mcp-remote', modes: ['stateless', 'sessions'], run: script('mcp-remote.mjs') },
  { name: 'mcp-sdk-v2', modes: ['stateless', 'sessions'], run: script('mcp-sdk-v2.mjs') },
  {
    name: 'inspector-modern',
    modes: ['stateless', 'sessions'],
    run: async (environment) => {
      const cli = (args: readonly string[]) =>
        node([inspector, '--cli', environment.GATEWAY_MCP_URL ?? '', '--protocol-era', 'modern', ...args], {
          ...environment,
          MCP_CATALOG_PATH: join(outDir, 'inspector-catalog.json'),
        });
      const list = await cli(['--method', 'tools/list']);
      if (list.code !== 0 || !list.output.includes('gainsight-send-custom-event'))
        return `Inspector tools/list (modern) exited ${list.code}`;
      const call = await cli([
        '--method',
        'tools/call',
        '--tool-name',
        'gainsight-send-custom-event',
        '--tool-args-json',
        JSON.stringify({ body: { eventName: 'Inspector Modern', identifyId: 'u-1', propertyKey: 'AP-TEST-1' } }),
      ]);
      if (call.code !== 0 || (!call.output.includes('"status": 201') && !call.output.includes('"status":201')))
        return `Inspector tools/call (modern) exited ${call.code}`;
      // Exit 5 is the Inspector's "the tool answered isError": what an invalid event must get.
      const invalid = await cli([
        '--method',
        'tools/call',
        '--tool-name',
        'gainsight-send-custom-event',
        '--tool-args-json',
        '{"body":{}}',
      ]);
      return invalid.code === 5 && invalid.output.includes('body.eventName')
        ? undefined
        : `Inspector invalid call (modern) exited ${invalid.code}`;
    },
  },
  {
    name: 'openapi-typescript',
    modes: ['stateless'],
    run: async (environment) => {
      const out = join(generated, 'openapi-typescript');
      mkdirSync(out, { recursive: true });
      const generate = await node(
        [bin('openapi-typescript/bin/cli.js'), `${environment.GATEWAY_REST_URL}/openapi.json`, '-o', join(out, 'schema.ts')],
        environment,
      );
      if (generate.code !== 0) return `openapi-typescript exited ${generate.code}`;
      if (/warn/i.test(generate.output)) return 'openapi-typescript printed a warning';
      const typecheck = await node([bin('typescript/bin/tsc'), '-p', 'checks/tsconfig.json'], environment);
      if (typecheck.code !== 0) return 'the openapi-fetch client does not type-check against the generated types';
      const send = await node(['checks/openapi-fetch-client.ts'], environment);
      return send.code === 0 ? undefined : 'openapi-fetch sends failed';
    },
  },
  {
    name: 'hey-api',
    modes: ['stateless'],
    run: async (environment) => {
      const out = join(generated, 'hey-api');
      const result = await node(
        [bin('@hey-api/openapi-ts/bin/run.js'), '-i', `${environment.GATEWAY_REST_URL}/openapi.json`, '-o', out],
        environment,
      );
      if (result.code !== 0) return `@hey-api/openapi-ts exited ${result.code}`;
      return /warn|error/i.test(result.output) ? '@hey-api/openapi-ts printed a warning' : undefined;
    },
  },
  { name: 'postman', modes: ['stateless'], run: script('postman-newman.mjs') },
  { name: 'bruno', modes: ['stateless'], run: script('bruno.mjs') },
  { name: 'prism', modes: ['stateless'], run: script('prism.mjs') },
];

async function main(): Promise<number> {
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  ensureInstalled();
  rmSync(generated, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const failures: string[] = [];
  for (const mode of ['stateless', 'sessions'] as const) {
    const checks = CHECKS.filter((c) => c.modes.includes(mode) && (!only || c.name === only));
    if (checks.length === 0) continue;
    const log = createWriteStream(join(outDir, `gateway-${mode}.log`));
    // Not the caller's environment: no GAINSIGHT_API_KEY (sandbox), no GATEWAY_API_KEYS, loopback only.
    const gateway = await startGateway({
      environment: {
        HOST: '127.0.0.1',
        PORT: '0',
        MCP_PORT: '0',
        LOG_LEVEL: 'info',
        ...(mode === 'sessions' ? { MCP_SESSIONS: 'true' } : {}),
      },
      logDestination: log,
    });
    const environment = { GATEWAY_REST_URL: gateway.restUrl, GATEWAY_MCP_URL: gateway.mcpUrl };
    try {
      for (const c of checks) {
        say(`\n=== ${c.name} (${mode} MCP mode; ${gateway.restUrl}, ${gateway.mcpUrl}) ===`);
        const failure = await c.run(environment).catch((error: unknown) => (error instanceof Error ? error.message : String(error)));
        if (failure) failures.push(`${c.name} (${mode}): ${failure}`);
      }
    } finally {
      await gateway.close();
      log.end();
    }
  }
  say('');
  if (failures.length > 0) {
    say(`Client matrix FAILED (gateway logs in ${outDir}):`);
    for (const failure of failures) say(`  - ${failure}`);
    return 1;
  }
  say('Client matrix passed.');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`test-clients: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
