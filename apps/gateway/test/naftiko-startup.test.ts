import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapabilityLoadError, capabilityFiles, capabilityStartup, runValidate, UsageError } from '../src/capabilities/index.ts';
import { startGateway } from '../src/gateway.ts';
import { fixture, seedFile } from './fixtures/capability-gateway.ts';
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';
import { recordPrinted, TEST_PX_KEY } from './support/secrets.ts';

const APP = fileURLToPath(new URL('..', import.meta.url));

describe('--capability / CAPABILITIES', () => {
  it('takes repeated flags and the CAPABILITIES list, relative to the directory the command was typed in', () => {
    const files = capabilityFiles(['--capability', 'a.yaml', '--capability=/abs/b.yaml', '-c', 'c.yaml'], {
      CAPABILITIES: 'd.yaml, a.yaml',
      INIT_CWD: '/home/me/project',
    });
    expect(files).toEqual(['/home/me/project/a.yaml', '/abs/b.yaml', '/home/me/project/c.yaml', '/home/me/project/d.yaml']);
    expect(() => capabilityFiles(['--capability'], {})).toThrow(UsageError);
    expect(() => capabilityFiles(['--port', '1'], {})).toThrow(/unknown argument "--port"/);
  });
});

describe('start-up with capabilities', () => {
  const seedEnvironment = { GAINSIGHT_API_KEY: TEST_PX_KEY };

  it("uses the capability's declared ports unless PORT / MCP_PORT are set, and only the capabilities unless PLUGINS is set", () => {
    const declared = capabilityStartup([seedFile()], seedEnvironment);
    expect(declared.environment).toMatchObject({ PORT: '8080', MCP_PORT: '9090', PLUGINS: 'none' });
    expect(declared.plugins.map((p) => p.id)).toEqual(['px-custom-events']);
    expect(declared.warnings.map((w) => w.path)).toContain('capability.consumes[0].resources[0].name');

    const overridden = capabilityStartup([seedFile()], { ...seedEnvironment, PORT: '7000', MCP_PORT: '0', PLUGINS: 'gainsight-px' });
    expect(overridden.environment).toMatchObject({ PORT: '7000', MCP_PORT: '0', PLUGINS: 'gainsight-px' });

    expect(capabilityStartup([], { PORT: '1' }).environment).toEqual({ PORT: '1' });
  });

  it('refuses capabilities that declare different ports unless PORT is set', () => {
    const environment = { ...seedEnvironment, TEST_DIRECTORY_TOKEN: 't' };
    expect(() => capabilityStartup([seedFile(), fixture('user-directory.yaml')], environment)).toThrow(
      /different REST ports \(8080 at .*8081 at .*\); .*set PORT/,
    );
    expect(
      capabilityStartup([seedFile(), fixture('user-directory.yaml')], { ...environment, PORT: '0', MCP_PORT: '0' }).plugins,
    ).toHaveLength(2);
  });

  it('with PLUGINS=gainsight-px the seed collides with the built-in plugin, and start-up says so', async () => {
    const startup = capabilityStartup([seedFile()], {
      ...seedEnvironment,
      PORT: '0',
      MCP_PORT: '0',
      PLUGINS: 'gainsight-px',
      LOG_LEVEL: 'silent',
    });
    await expect(startGateway({ environment: startup.environment, extraPlugins: startup.plugins })).rejects.toThrow(
      /duplicate (REST route "POST \/v1\/custom-events"|MCP tool name "gainsight-send-custom-event")/,
    );
  });

  it.each([
    ['not-yaml.txt', /not-yaml\.txt:\d+:\d+: error: not valid YAML/],
    ['ikanos.yaml', /ikanos\.yaml:1:1: error: ikanos: .*root key "ikanos:"/],
    ['other-version.yaml', /error: naftiko: version "1\.0\.0-alpha1" is not supported/],
    ['unknown-call.yaml', /unknown-call\.yaml:23:11: error: capability\.exposes\[0\]\.tools\[0\]\.call: unknown call target "echo\.shout"/],
    [
      'missing-bind.yaml',
      /missing-bind\.yaml:8:7: error: binds\[0\]\.keys\.ECHO_TOKEN: NAFTIKO_TEST_UNSET_ECHO_TOKEN is not set in the environment \(bound as ECHO_TOKEN\)/,
    ],
    [
      'duplicate-tools.yaml',
      /duplicate-tools\.yaml:26:11: error: capability\.exposes\[0\]\.tools\[1\]\.name: duplicate tool name "echo-tool"/,
    ],
    [
      'unfilled-base-uri.yaml',
      /unfilled-base-uri\.yaml:10:7: error: capability\.consumes\[0\]\.baseUri: .*placeholder \{domain\} that nothing fills.*bind it .*or set CAPABILITY_BASE_URI_HELP_DESK/,
    ],
  ])('fails fast on bad/%s, naming the problem', (name, message) => {
    let thrown: unknown;
    try {
      capabilityStartup([fixture(`bad/${name}`)], {});
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CapabilityLoadError);
    expect((thrown as Error).message).toMatch(message);
  });

  it('a missing file is an error naming it', () => {
    expect(() => capabilityStartup([fixture('nope.yaml')], {})).toThrow(/nope\.yaml: error: cannot read: no such file/);
  });
});

describe('the gateway process (src/main.ts) with --capability', () => {
  let upstream: CaptureServer;
  let child: ChildProcess | undefined;
  let stderr = '';

  beforeAll(async () => {
    upstream = await startCaptureServer({ status: 202, body: '{"queued":true}' });
  });
  afterAll(async () => {
    if (child?.pid && child.exitCode === null) child.kill('SIGTERM');
    await upstream?.close();
    recordPrinted(stderr);
  });

  const run = (args: string[], environment: Record<string, string>) =>
    spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
      cwd: APP,
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', MCP_PORT: '0', LOG_LEVEL: 'warn', ...environment },
      stdio: ['ignore', 'pipe', 'pipe'],
    });

  it('exits 1 on a bad capability file with the reason on stderr', async () => {
    const bad = run(['--capability', fixture('bad/ikanos.yaml')], {});
    let text = '';
    bad.stderr?.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    const code = await new Promise<number | null>((resolve) => bad.once('exit', resolve));
    expect(code).toBe(1);
    expect(text).toMatch(/gateway: cannot start: a capability file has an error:\n.*ikanos\.yaml:1:1: error: ikanos:/);
  });

  it('serves the seed given with --capability, with the warnings and the chosen ports on stderr', async () => {
    child = run(['--capability', seedFile()], {
      GAINSIGHT_API_KEY: TEST_PX_KEY,
      CAPABILITY_BASE_URI_PX_CUSTOM_EVENTS: `${upstream.url}/v1`,
    });
    const restUrl = await new Promise<string>((resolve, reject) => {
      child?.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        const url = /Gateway REST API: (http:\/\/\S+)/.exec(stderr)?.[1];
        if (url) resolve(url);
      });
      child?.once('exit', (code) => reject(new Error(`gateway exited ${code}: ${stderr}`)));
    });
    expect(stderr).toMatch(/warning: capability\.consumes\[0\]\.resources\[0\]\.name: "custom_events" has an underscore/);
    expect(stderr).toMatch(/PORT=0 overrides the port the capability declares \(8080\)/);
    expect(stderr).toMatch(/serving the capability files only/);
    expect(stderr).toMatch(/Plugin px-custom-events \(live\)/);
    const response = await fetch(`${restUrl}/v1/custom-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ eventName: 'Signup' }),
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ queued: true });
    expect(upstream.requests.map((r) => `${r.method} ${r.url} ${r.headers['x-aptrinsic-api-key'] === TEST_PX_KEY}`)).toEqual([
      'POST /v1/custom_events true',
    ]);
    expect(stderr).not.toContain(TEST_PX_KEY);
  });
});

describe('gateway validate', () => {
  const validate = (args: string[], environment: Record<string, string> = {}) => {
    let stdout = '';
    let stderr = '';
    const code = runValidate(args, {
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
      environment,
      cwd: APP,
    });
    return { code, stdout, stderr };
  };

  it('prints the seed warnings with paths and exits 0 (a missing bound variable is a warning here)', () => {
    const { code, stdout } = validate([seedFile()]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/px-custom-events\.yaml:14:5: warning: binds\[0\]\.keys\.GAINSIGHT_API_KEY: GAINSIGHT_API_KEY is not set/);
    expect(stdout).toMatch(/px-custom-events\.yaml:22:7: warning: capability\.consumes\[0\]\.resources\[0\]\.name:/);
    expect(stdout).toMatch(/px-custom-events\.yaml:81:9: warning: capability\.exposes\[1\]\.tools\[0\]\.outputParameters\[0\]:/);
    expect(stdout).toMatch(/px-custom-events\.yaml: ok, can be served \(6 warnings\) — read as naftiko 1\.0\.0-alpha2/);
    expect(stdout).toMatch(
      /REST POST \/v1\/custom-events \+ MCP tool gainsight-send-custom-event -> POST https:\/\/api\.aptrinsic\.com\/v1\/custom_events/,
    );
  });

  it('--require-env makes a missing bound variable an error', () => {
    const { code, stdout } = validate(['--require-env', seedFile()]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/error: binds\[0\]\.keys\.GAINSIGHT_API_KEY: GAINSIGHT_API_KEY is not set/);
    expect(validate(['--require-env', seedFile()], { GAINSIGHT_API_KEY: 'x' }).code).toBe(0);
  });

  it('exits 1 when any file cannot be served, reporting every file', () => {
    const { code, stdout } = validate([fixture('user-directory.yaml'), fixture('bad/unknown-call.yaml'), fixture('bad/not-yaml.txt')]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/user-directory\.yaml: ok, can be served \(1 warning\) — read as naftiko 1\.0\.0-alpha2/);
    expect(stdout).toMatch(/unknown-call\.yaml: cannot be served \(1 error\)/);
    expect(stdout).toMatch(/not-yaml\.txt: cannot be served/);
  });

  it('exits 2 without a file or with an unknown option', () => {
    expect(validate([]).code).toBe(2);
    expect(validate(['--strict', seedFile()])).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown option --strict/) });
  });

  it('runs as the `gateway` bin (bin/gateway.js -> dist/cli.js)', () => {
    const result = spawnSync(process.execPath, ['bin/gateway.js', 'validate', seedFile()], {
      cwd: APP,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/ok, can be served/);
    const bad = spawnSync(process.execPath, ['bin/gateway.js', 'validate', fixture('bad/ikanos.yaml')], {
      cwd: APP,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/root key "ikanos:"/);
  });
});

describe('several capability files', () => {
  it('a copy of a file is reported against the copy, naming the original; the same file twice says so', () => {
    const directory = mkdtempSync(join(tmpdir(), 'capability-copy-'));
    try {
      const copy = join(directory, 'user-directory-copy.yaml');
      copyFileSync(fixture('user-directory.yaml'), copy);
      const environment = { TEST_DIRECTORY_TOKEN: 'directory-token-unit', PORT: '0', MCP_PORT: '0' };
      expect(() => capabilityStartup([fixture('user-directory.yaml'), copy], environment)).toThrow(
        /\n {2}\S*user-directory-copy\.yaml: error: clashes with \S*fixtures\/capabilities\/user-directory\.yaml: plugin "directory": id:/,
      );
      let printed = '';
      const io = {
        stdout: (text: string) => {
          printed += text;
        },
        stderr: () => {},
        environment,
        cwd: directory,
      };
      expect(runValidate([fixture('user-directory.yaml'), copy], io)).toBe(1);
      expect(printed).toMatch(/\nuser-directory-copy\.yaml: error: clashes with .*user-directory\.yaml: plugin "directory"/);
      expect(printed).toMatch(/\nuser-directory-copy\.yaml: cannot be served \(1 error/);
      expect(printed).toMatch(/capabilities\/user-directory\.yaml: ok, can be served/);
      expect(() => capabilityStartup([fixture('user-directory.yaml'), fixture('user-directory.yaml')], environment)).toThrow(
        /user-directory\.yaml: error: is given more than once/,
      );
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
