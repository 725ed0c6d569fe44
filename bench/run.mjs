// `npm run bench`: what the gateway adds to every call, side by side with reference proxies.
//
// Every target runs in its own child process on 127.0.0.1; this process only generates load (autocannon,
// closed loop, same connections / warm-up / duration / body for every target) and a paced open-loop run at a
// fixed rate for the latency comparison. Prints a table and the ratios, writes bench/results.json.
//
//   BENCH_DURATION=10 BENCH_WARMUP=2 BENCH_CONNECTIONS=50   measured seconds, warm-up seconds, connections
//   BENCH_ONLY=c,d                                           run only these scenarios (ids as in the table)
//   BENCH_CPU_PROF=1                                         targets run with --cpu-prof (bench/profiles/<target>-<time>.cpuprofile)
//   BENCH_GATEWAY_ENV='{"LOG_LEVEL":"silent"}'               experiments: override gateway variables (not the deployed setup)
//   BENCH_GATEWAY_MAIN=/path/to/dist/main.js                 experiments: benchmark another gateway bundle
//   BENCH_KEEP_LOGS=1                                        keep the gateway's log files (their paths are printed)
//   BENCH_NODE_FLAGS='--trace-gc'                            experiments: node flags for the target children
//   BENCH_QUEUE_EVENTS=1000000                               events queued for the q-mem row (RSS with a deep queue)
//   BENCH_BASELINE_MAIN=/path/to/dist/main.js                t-base row: a bundle from before tracing, beside t0
import { execFileSync, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
// Experiments only: another gateway bundle (e.g. a patched copy) and extra gateway variables as JSON.
const gatewayMain = process.env.BENCH_GATEWAY_MAIN ?? join(root, 'apps/gateway/dist/main.js');
const gatewayEnvOverride = JSON.parse(process.env.BENCH_GATEWAY_ENV ?? '{}');

const int = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
};
const DURATION = int('BENCH_DURATION', 10);
const WARMUP = int('BENCH_WARMUP', 2);
const CONNECTIONS = int('BENCH_CONNECTIONS', 50);
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((s) => s.trim())) : undefined;
const CPU_PROF = process.env.BENCH_CPU_PROF === '1';
const KEEP_LOGS = process.env.BENCH_KEEP_LOGS === '1';
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const QUEUE_EVENTS = int('BENCH_QUEUE_EVENTS', 1_000_000);
/** The queue rows' gateway: the worker delivers at PX's default pace (150/s) while the routes accept. */
const QUEUE_GATEWAY_ENV = { UPSTREAM_RATE_LIMIT: '150', DELIVERY_MAX_QUEUED: '100000000' };
/** Slices per target when a pair is measured alternately (pairedLoops). */
const PAIR_SLICES = int('BENCH_PAIR_SLICES', 5);
/** Each gateway child gets its own delivery queue (DATA_DIR) under here; removed at the end. */
const DATA_ROOT = join(os.tmpdir(), `gateway-bench-data-${process.pid}`);

/** The V8 heap caps a memory-bound deployment would set (NODE_OPTIONS); the d-mem row measures their price. */
const MEMORY_FLAGS = ['--max-semi-space-size=8', '--max-old-space-size=256'];
const PX_KEY = 'bench-px-key';
const CLIENT_KEY = 'bench-client-key';
const EVENT = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' };
const EVENT_JSON = JSON.stringify(EVENT);
const TOOL = 'gainsight-send-custom-event';
const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
};
/** Production-like gateway settings; both limiters on, far above the offered load. */
const GATEWAY_ENV = {
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  PORT: '0',
  MCP_PORT: '0',
  LOG_LEVEL: 'info',
  GAINSIGHT_API_KEY: PX_KEY,
  GATEWAY_API_KEYS: CLIENT_KEY,
  INBOUND_RATE_LIMIT: '10000000', // per minute per client key: ~167k/s
  UPSTREAM_RATE_LIMIT: '100000', // per second
};

const out = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- child processes

const children = new Set();

/** Node flags that write a CPU profile of a target to bench/profiles/ when it exits (BENCH_CPU_PROF=1). */
function cpuProfArgs(name) {
  if (!CPU_PROF) return [];
  mkdirSync(join(here, 'profiles'), { recursive: true });
  return ['--cpu-prof', '--cpu-prof-dir', join(here, 'profiles'), '--cpu-prof-name', `${name}-${Date.now()}.cpuprofile`];
}

/** A reference server or the upstream: forked, answers `{ url }` over IPC when listening. */
async function forkTarget(file, env = {}) {
  const child = fork(join(here, file), [], {
    execArgv: file === 'upstream.mjs' ? [] : [...NODE_FLAGS, ...cpuProfArgs(file.replace(/^.*\/|\.mjs$/g, ''))],
    env: { PATH: process.env.PATH, NODE_ENV: 'production', BENCH_PX_KEY: PX_KEY, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  const [message] = await once(child, 'message');
  return { child, url: message.url };
}

/** The gateway as deployed: the esbuild bundle, JSON logs at info to a file, ports from its banner. */
async function startGatewayChild(name, upstreamUrl, extraEnv = {}, nodeFlags = [], main = gatewayMain) {
  const logFile = join(os.tmpdir(), `gateway-bench-${process.pid}-${name}.log`);
  const logFd = openSync(logFile, 'w');
  const child = spawn(process.execPath, [...NODE_FLAGS, ...nodeFlags, ...cpuProfArgs(`gateway-${name}`), main], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      ...GATEWAY_ENV,
      GAINSIGHT_PX_BASE_URL: `${upstreamUrl}/v1`,
      DATA_DIR: join(DATA_ROOT, name),
      ...extraEnv,
      ...gatewayEnvOverride,
    },
    stdio: ['ignore', logFd, 'pipe'],
  });
  closeSync(logFd);
  children.add(child);
  let banner = '';
  child.stderr.setEncoding('utf8');
  const urls = await new Promise((resolve, reject) => {
    const onData = (chunk) => {
      banner += chunk;
      const rest = /Gateway REST API: (\S+)/.exec(banner)?.[1];
      const mcp = /MCP endpoint \([^)]*\): (\S+)/.exec(banner)?.[1];
      if (rest && mcp) {
        child.stderr.off('data', onData);
        child.stderr.resume();
        resolve({ rest, mcp });
      }
    };
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}) before listening:\n${banner}`)));
  });
  return { child, logFile, ...urls };
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
  children.delete(child);
}

/** Resident set size of a child, from /proc (Linux); undefined elsewhere. */
function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    return { rssMb: round(kb('VmRSS') / 1024, 1), peakRssMb: round(kb('VmHWM') / 1024, 1) };
  } catch {
    return undefined;
  }
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
function cpuSecondsOf(pid) {
  if (!pid) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** V8 heap figures from the gateway's own /metrics (prom-client default metrics). */
async function heapOf(restUrl, headers) {
  const text = await (await fetch(`${restUrl}/metrics`, { headers })).text();
  const mb = (name) => round(Number(new RegExp(`^gateway_${name} (\\S+)`, 'm').exec(text)?.[1]) / 1048576, 1);
  return {
    heapUsedMb: mb('nodejs_heap_size_used_bytes'),
    heapTotalMb: mb('nodejs_heap_size_total_bytes'),
    externalMb: mb('nodejs_external_memory_bytes'),
  };
}

/** What the OTLP sink took: exports (POSTs) and bytes. */
async function sinkCounts(sink) {
  sink.child.send('counts');
  const [message] = await once(sink.child, 'message');
  return message.counts;
}

/** The upstream's count of answers by status, to check that every 2xx really went through. */
async function upstreamCounts(upstream) {
  return (await upstreamState(upstream)).counts;
}

/** Counts, and when the upstream answered its first and latest 201 (epoch ms). */
async function upstreamState(upstream) {
  upstream.child.send('counts');
  const [message] = await once(upstream.child, 'message');
  return message;
}

/** A redis-server of the bench's own on a free port (none when it is not installed). */
async function startRedis() {
  const port = await new Promise((resolve) => {
    const server = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
  let child;
  try {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await once(child, 'spawn');
  } catch {
    return undefined;
  }
  children.add(child);
  for (let i = 0; i < 100; i += 1) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) break;
    await sleep(50);
  }
  return { url: `redis://127.0.0.1:${port}/0`, stop: () => stop(child) };
}

// ---------------------------------------------------------------- load

/** Closed loop: CONNECTIONS keep-alive connections, each sending its next request when the last is answered. */
function closedLoop(load, pid, duration = DURATION) {
  return closedLoopWith(load, pid, CONNECTIONS, duration);
}

/** An autocannon run of `load` for `duration` s; with `latencies`, each 2xx answer's time is pushed there. */
function loadRunner({ url, method = 'POST', headers, body, makeBody, verifyBody }, connections) {
  const request = makeBody ? { method, headers, setupRequest: (req) => ({ ...req, body: makeBody() }) } : { method, headers, body };
  return (duration, latencies) => {
    const instance = autocannon({ url, connections, duration, requests: [request], ...(verifyBody ? { verifyBody } : {}) });
    if (latencies) {
      instance.on('response', (_client, statusCode, _bytes, responseTime) => {
        if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      });
    }
    return instance;
  };
}

async function closedLoopWith(load, pid, connections, duration = DURATION) {
  const run = loadRunner(load, connections);
  const warm = await run(WARMUP);
  const latencies = [];
  const cpuBefore = cpuSecondsOf(pid);
  const result = await run(duration, latencies);
  return {
    rps: round(result.requests.average, 0),
    ...cpuPerRequest(pid, cpuBefore, result.requests.total, duration),
    completed: result.requests.total,
    served: result.requests.total + warm.requests.total,
    ...percentiles(latencies),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    badAnswers: result.mismatches,
  };
}

/**
 * Two targets measured in alternating slices (A B A B ...: PAIR_SLICES each, DURATION split between them) rather than
 * one after the other: a shared machine whose speed drifts during the run then slows both alike, so their ratio (what
 * the bench asserts for such a pair) holds still. `settleMs` after each slice lets background work of the target just
 * measured (a span export) finish before the other is measured.
 */
async function pairedLoops(first, second, settleMs = 0) {
  const targets = [first, second].map(({ load, pid }) => ({
    pid,
    run: loadRunner(load, CONNECTIONS),
    latencies: [],
    requests: 0,
    warm: 0,
    cpu: 0,
    seconds: 0,
    errors: 0,
    non2xx: 0,
    mismatches: 0,
  }));
  for (const target of targets) target.warm = (await target.run(WARMUP)).requests.total;
  const slice = Math.max(1, Math.round(DURATION / PAIR_SLICES));
  for (let round = 0; round < PAIR_SLICES; round++) {
    for (const target of targets) {
      const cpuBefore = cpuSecondsOf(target.pid);
      const result = await target.run(slice, target.latencies);
      const cpuAfter = cpuSecondsOf(target.pid);
      if (cpuBefore !== undefined && cpuAfter !== undefined) target.cpu += cpuAfter - cpuBefore;
      target.requests += result.requests.total;
      target.seconds += slice;
      target.errors += result.errors + result.timeouts;
      target.non2xx += result.non2xx;
      target.mismatches += result.mismatches;
      if (settleMs > 0) await sleep(settleMs);
    }
  }
  return targets.map((target) => ({
    rps: round(target.requests / target.seconds, 0),
    ...(target.cpu > 0 && target.requests > 0
      ? { cpuUsPerRequest: round((target.cpu * 1e6) / target.requests, 0), cpuCores: round(target.cpu / target.seconds, 2) }
      : {}),
    completed: target.requests,
    served: target.requests + target.warm,
    ...percentiles(target.latencies),
    errors: target.errors,
    non2xx: target.non2xx,
    badAnswers: target.mismatches,
    pairedSlices: PAIR_SLICES,
  }));
}

/** Open loop at a fixed rate, spread evenly over time (autocannon's rate mode sends each second's quota in a burst). */
async function pacedLoop({ url, headers, body }, rate, pid) {
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const payload = Buffer.from(body);
  const requestHeaders = { ...headers, 'content-length': payload.length };
  const latencies = [];
  let errors = 0;
  let non2xx = 0;
  let served = 0;
  const send = (record) =>
    new Promise((resolve) => {
      const started = performance.now();
      const request = http.request(
        { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: requestHeaders },
        (response) => {
          response.resume();
          response.on('end', () => {
            served += 1;
            const status = response.statusCode ?? 0;
            if (record) {
              if (status >= 200 && status < 300) latencies.push(performance.now() - started);
              else non2xx += 1;
            }
            resolve();
          });
        },
      );
      request.on('error', () => {
        if (record) errors += 1;
        resolve();
      });
      request.end(payload);
    });
  const runFor = async (seconds, record) => {
    const inflight = new Set();
    const start = performance.now();
    let sent = 0;
    await new Promise((resolve) => {
      const timer = setInterval(() => {
        const elapsed = (performance.now() - start) / 1000;
        const due = Math.min(Math.floor(elapsed * rate), Math.round(seconds * rate));
        for (; sent < due; sent += 1) {
          const pending = send(record);
          inflight.add(pending);
          void pending.then(() => inflight.delete(pending));
        }
        if (elapsed >= seconds) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    await Promise.all(inflight);
    return (performance.now() - start) / 1000;
  };
  await runFor(WARMUP, false);
  const cpuBefore = cpuSecondsOf(pid);
  const elapsed = await runFor(DURATION, true);
  agent.destroy();
  return {
    rps: round(latencies.length / elapsed, 0),
    ...cpuPerRequest(pid, cpuBefore, latencies.length),
    completed: latencies.length,
    served,
    ...percentiles(latencies),
    errors,
    non2xx,
    badAnswers: 0,
    rate,
  };
}

/** The target's CPU time per answered request over the measured run (µs), and its CPU use (cores). */
function cpuPerRequest(pid, before, requests, duration = DURATION) {
  const after = cpuSecondsOf(pid);
  if (before === undefined || after === undefined || requests === 0) return {};
  return { cpuUsPerRequest: round(((after - before) * 1e6) / requests, 0), cpuCores: round((after - before) / duration, 2) };
}

/** Upstream answers other than 201 between two counts (upstreamCounts). */
function upstreamOther(before, after) {
  return Object.entries(after).reduce((n, [code, count]) => (code === '201' ? n : n + count - (before[code] ?? 0)), 0);
}

function percentiles(values) {
  if (values.length === 0) return { p50: undefined, p99: undefined };
  const sorted = Float64Array.from(values).sort();
  const at = (q) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))], 2);
  return { p50: at(0.5), p99: at(0.99) };
}

function round(value, digits) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

// ---------------------------------------------------------------- requests

const restLoad = (base, headers = {}) => ({
  url: `${base}/v1/custom-events`,
  headers: { 'content-type': 'application/json', ...headers },
  body: EVENT_JSON,
});
const BATCH_SIZE = 1000;
const BATCH_JSON = JSON.stringify({ events: Array.from({ length: BATCH_SIZE }, (_, i) => ({ ...EVENT, identifyId: `u-${i}` })) });
const batchLoad = (base, headers = {}) => ({
  url: `${base}/v1/custom-events/batch`,
  headers: { 'content-type': 'application/json', ...headers },
  body: BATCH_JSON,
});

/** Queues `events` events in 1000-event batches, `connections` batches in flight; the accepted count. */
async function queueEvents(base, headers, events, connections = 4) {
  let sent = 0;
  let accepted = 0;
  const worker = async () => {
    while (sent < events) {
      sent += BATCH_SIZE;
      const response = await fetch(`${base}/v1/custom-events/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: BATCH_JSON,
      });
      const body = await response.json();
      if (response.status !== 202) throw new Error(`batch answered ${response.status}: ${JSON.stringify(body)}`);
      accepted += body.accepted;
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  return accepted;
}

/** The 2026-07-28 revision: the revision in a header and a `_meta` envelope on every request, plus the method and name headers. */
const MODERN_HEADERS = { ...MCP_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': TOOL };
const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** tools/call with a fresh JSON-RPC id per request (ids must not collide inside one session); `modern`: as a 2026-07-28 client sends it. */
function mcpLoad(url, headers = {}, modern = false) {
  let id = 0;
  const params = JSON.stringify({ name: TOOL, arguments: { body: EVENT }, ...(modern ? { _meta: MODERN_META } : {}) });
  return {
    url,
    headers: { ...(modern ? MODERN_HEADERS : MCP_HEADERS), ...headers },
    makeBody: () => `{"jsonrpc":"2.0","id":${++id},"method":"tools/call","params":${params}}`,
    // An HTTP 200 can still carry a failed tool call: count answers without the upstream's 201 as bad.
    verifyBody: (body) => body.includes('"status":201') && !body.includes('"isError":true'),
  };
}

/** Sessions mode: one initialize (and its initialized notification); every call then carries the session id. */
async function openSession(url, headers) {
  const initialize = await fetch(url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...headers },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '0' } },
    }),
  });
  await initialize.text();
  const sessionId = initialize.headers.get('mcp-session-id');
  if (!initialize.ok || !sessionId) throw new Error(`initialize failed: ${initialize.status}`);
  const initialized = await fetch(url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...headers, 'mcp-session-id': sessionId },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await initialized.text();
  return sessionId;
}

// ---------------------------------------------------------------- scenarios

const SCENARIOS = {
  a: 'upstream directly (node:http, 201)',
  b: 'bare proxy: node:http + undici keep-alive pool',
  c: 'Express 5 proxy: express.json() + 1 route + undici',
  'c½': 'c, paced at half of c’s peak rate',
  d: 'gateway REST, all production features',
  'd½': 'd, paced at half of c’s peak rate',
  'd-low': 'd, paced at half of d’s own peak rate',
  'c-low': 'c, paced at the same rate as d-low',
  e: 'gateway MCP tools/call, stateless',
  'e-2026': 'e with 2026-07-28 requests (_meta envelope, Mcp-Method/Mcp-Name headers)',
  f: 'gateway MCP tools/call, sessions',
  g: 'SDK minimal MCP server, stateless',
  'g-2026': 'g with 2026-07-28 requests',
  'g+': 'g with one shared schema validator, hosted as the gateway hosts Express',
  'c+': 'c hosted as the gateway hosts Express (prototype-bound requests)',
  'd-again': 'd again for 2× the duration, after d½ and e',
  'd-mem': 'd in a fresh gateway with a capped V8 heap, 2× the duration',
  q: 'gateway REST, Prefer: respond-async (accept into the SQLite queue; delivery at 150/s meanwhile)',
  'q-batch': 'gateway batch route, 1000-event batches, 4 connections (req/s = batches/s)',
  'q-drain': '3,000 queued events drained at UPSTREAM_RATE_LIMIT=150 against an upstream allowing 200/s',
  'q-slow': '2,000 queued events drained against an upstream answering in 2–5 s (UPSTREAM_RATE_LIMIT=150)',
  'q-mem': 'RSS with BENCH_QUEUE_EVENTS (1,000,000) events queued, the upstream unreachable',
  'q-list': 'GET /v1/deliveries?limit=1000 over 1,000 queued events of 1 MB each, paused (req/s = pages/s; RSS after)',
  r: 'd with REDIS_URL: idempotency, inbound and outbound budgets in a local redis-server',
  'r-q': 'q with REDIS_URL: async accept into the Redis (BullMQ) queue',
  r2: 'two gateway instances on one Redis, driven together (req/s = both)',
  t0: 'd in a fresh gateway, tracing off (no OTLP endpoint): the base of t',
  t: 'd with tracing on: every request sampled (always_on), OTLP http/protobuf to a local receiver',
  't-base': 't0 on the bundle in BENCH_BASELINE_MAIN (before tracing existed): tracing off costs the same',
};
const wanted = (...ids) => !ONLY || ids.some((id) => ONLY.has(id));

async function main() {
  if (!existsSync(gatewayMain)) throw new Error(`${gatewayMain} is missing: build it with "npx turbo run build --filter=@gateway/app"`);
  const started = Date.now();
  const loadBefore = os.loadavg().map((v) => round(v, 2));
  out(
    `bench: ${DURATION} s measured after ${WARMUP} s warm-up, ${CONNECTIONS} connections, on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'} (load average ${loadBefore.join(' ')})`,
  );
  const upstream = await forkTarget('upstream.mjs');
  const results = {};
  const gatewayMemory = [];
  const record = async (id, run, pid) => {
    out(`  ${id.padEnd(8)} ${SCENARIOS[id]} ...`);
    const before = await upstreamCounts(upstream);
    const result = await run();
    const after = await upstreamCounts(upstream);
    results[id] = {
      id,
      target: SCENARIOS[id],
      ...result,
      upstream201: after[201] - before[201],
      upstreamOther: upstreamOther(before, after),
      ...(pid ? memoryOf(pid) : {}),
    };
    return results[id];
  };
  /** Two rows measured together (pairedLoops over `{ id, pid, load }` each): the upstream's counts cover both. */
  const recordPair = async (rows, settleMs = 0) => {
    for (const { id } of rows)
      out(`  ${id.padEnd(8)} ${SCENARIOS[id]} ... (measured in alternating slices with ${rows.map((r) => r.id).join(', ')})`);
    const before = await upstreamCounts(upstream);
    const measured = await pairedLoops(rows[0], rows[1], settleMs);
    const after = await upstreamCounts(upstream);
    rows.forEach(({ id, pid }, i) => {
      results[id] = { id, target: SCENARIOS[id], ...measured[i], upstreamOther: upstreamOther(before, after), ...memoryOf(pid) };
    });
  };
  const pxHeader = { 'x-aptrinsic-api-key': PX_KEY };

  if (wanted('a')) {
    const load = {
      url: `${upstream.url}/v1/events/custom`,
      headers: { 'content-type': 'application/json', ...pxHeader },
      body: EVENT_JSON,
    };
    await record('a', () => closedLoop(load, upstream.child.pid));
  }

  if (wanted('b')) {
    const bare = await forkTarget('reference/bare-proxy.mjs', { UPSTREAM_URL: upstream.url });
    await record('b', () => closedLoop(restLoad(bare.url), bare.child.pid), bare.child.pid);
    await stop(bare.child);
  }

  let halfRate;
  if (wanted('c', 'c½', 'd½')) {
    const express = await forkTarget('reference/express-proxy.mjs', { UPSTREAM_URL: upstream.url });
    const c = await record('c', () => closedLoop(restLoad(express.url), express.child.pid), express.child.pid);
    halfRate = Math.max(1, Math.round(c.rps / 2));
    if (wanted('c½', 'd½')) await record('c½', () => pacedLoop(restLoad(express.url), halfRate, express.child.pid), express.child.pid);
    await stop(express.child);
  }

  if (wanted('c+')) {
    const express = await forkTarget('reference/express-proxy.mjs', { UPSTREAM_URL: upstream.url, PROTOTYPE_BOUND: 'true' });
    await record('c+', () => closedLoop(restLoad(express.url), express.child.pid), express.child.pid);
    await stop(express.child);
  }

  let lowRate;
  if (wanted('d', 'd½', 'd-low', 'e', 'e-2026', 'd-again')) {
    const gateway = await startGatewayChild('stateless', upstream.url);
    const auth = { 'x-api-key': CLIENT_KEY };
    let served = 0;
    /** The gateway's memory after a row that served `requests` more. */
    const sampleMemory = async (id, requests) => {
      served += requests;
      gatewayMemory.push({ after: id, requestsServed: served, ...memoryOf(gateway.child.pid), ...(await heapOf(gateway.rest, auth)) });
    };
    const phase = async (id, run) => sampleMemory(id, (await record(id, run, gateway.child.pid)).served);
    if (wanted('d') && wanted('q')) {
      // q (async accept into a queue gateway) against d, in alternating slices so their ratio is not the machine's drift.
      const queue = await startGatewayChild('queue-paired', upstream.url, QUEUE_GATEWAY_ENV);
      await recordPair([
        { id: 'd', pid: gateway.child.pid, load: restLoad(gateway.rest, auth) },
        { id: 'q', pid: queue.child.pid, load: restLoad(queue.rest, { ...auth, prefer: 'respond-async' }) },
      ]);
      await sampleMemory('d', results.d.served);
      await stop(queue.child);
      rmSync(queue.logFile, { force: true });
    } else if (wanted('d')) await phase('d', () => closedLoop(restLoad(gateway.rest, auth), gateway.child.pid));
    // d-low before d½: its latencies are then those of a gateway that has not just been overloaded (d½ usually
    // runs above the gateway's capacity and leaves a heap full of queued requests' garbage).
    if (wanted('d-low') && results.d) {
      lowRate = Math.max(1, Math.round(results.d.rps / 2));
      await phase('d-low', () => pacedLoop(restLoad(gateway.rest, auth), lowRate, gateway.child.pid));
    }
    if (wanted('d½') && halfRate) await phase('d½', () => pacedLoop(restLoad(gateway.rest, auth), halfRate, gateway.child.pid));
    // With their reference rows wanted, e and e-2026 are measured paired with g and g-2026 (below) instead.
    if (wanted('e') && !wanted('g')) await phase('e', () => closedLoop(mcpLoad(gateway.mcp, auth), gateway.child.pid));
    if (wanted('e-2026') && !wanted('g-2026')) await phase('e-2026', () => closedLoop(mcpLoad(gateway.mcp, auth, true), gateway.child.pid));
    if (wanted('d-again')) await phase('d-again', () => closedLoop(restLoad(gateway.rest, auth), gateway.child.pid, 2 * DURATION));
    await stop(gateway.child);
    const logBytes = statSync(gateway.logFile).size;
    results.gatewayLog = { bytes: logBytes, lines: readFileSync(gateway.logFile, 'utf8').split('\n').length - 1 };
    if (KEEP_LOGS) out(`  gateway log kept: ${gateway.logFile}`);
    else rmSync(gateway.logFile, { force: true });
  }

  if (wanted('d-mem')) {
    const gateway = await startGatewayChild('memory-capped', upstream.url, {}, MEMORY_FLAGS);
    await record(
      'd-mem',
      () => closedLoop(restLoad(gateway.rest, { 'x-api-key': CLIENT_KEY }), gateway.child.pid, 2 * DURATION),
      gateway.child.pid,
    );
    await stop(gateway.child);
    rmSync(gateway.logFile, { force: true });
  }

  if (wanted('q-batch') || (wanted('q') && !wanted('d'))) {
    // Default UPSTREAM_RATE_LIMIT (150/s): the worker delivers at PX's pace while the routes accept.
    const gateway = await startGatewayChild('queue', upstream.url, QUEUE_GATEWAY_ENV);
    const auth = { 'x-api-key': CLIENT_KEY };
    if (wanted('q') && !wanted('d'))
      await record(
        'q',
        () => closedLoop(restLoad(gateway.rest, { ...auth, prefer: 'respond-async' }), gateway.child.pid),
        gateway.child.pid,
      );
    if (wanted('q-batch')) {
      await record(
        'q-batch',
        async () => ({ ...(await closedLoopWith(batchLoad(gateway.rest, auth), gateway.child.pid, 4)), eventsPerBatch: BATCH_SIZE }),
        gateway.child.pid,
      );
    }
    await stop(gateway.child);
    rmSync(gateway.logFile, { force: true });
  }

  if (wanted('q-drain')) {
    const limited = await forkTarget('upstream.mjs', { BENCH_UPSTREAM_RATE: '200' });
    const gateway = await startGatewayChild('drain', limited.url, { UPSTREAM_RATE_LIMIT: '150' });
    out(`  ${'q-drain'.padEnd(8)} ${SCENARIOS['q-drain']} ...`);
    const events = 3000;
    const accepted = await queueEvents(gateway.rest, { 'x-api-key': CLIENT_KEY }, events, 1);
    const deadline = Date.now() + 120_000;
    let state = await upstreamState(limited);
    while ((state.counts[201] ?? 0) < events && Date.now() < deadline) {
      await sleep(250);
      state = await upstreamState(limited);
    }
    const seconds = (state.answered.last - state.answered.first) / 1000;
    const delivered = state.counts[201] ?? 0;
    results['q-drain'] = {
      id: 'q-drain',
      target: SCENARIOS['q-drain'],
      accepted,
      delivered,
      upstream429: state.counts[429] ?? 0,
      drainSeconds: round(seconds, 2),
      rps: round((delivered - 1) / seconds, 1),
      errors: accepted - delivered,
      non2xx: state.counts[429] ?? 0,
      ...memoryOf(gateway.child.pid),
    };
    await stop(gateway.child);
    await stop(limited.child);
    rmSync(gateway.logFile, { force: true });
  }

  if (wanted('q-slow')) {
    // A slow PX: the worker's in-flight deliveries follow budget × latency (up to DELIVERY_MAX_CONCURRENCY).
    const slow = await forkTarget('upstream.mjs', { BENCH_UPSTREAM_DELAY_MS: '2000-5000' });
    const gateway = await startGatewayChild('slow', slow.url, { UPSTREAM_RATE_LIMIT: '150', LOG_LEVEL: 'warn' });
    out(`  ${'q-slow'.padEnd(8)} ${SCENARIOS['q-slow']} ...`);
    const started = Date.now();
    const accepted = await queueEvents(gateway.rest, { 'x-api-key': CLIENT_KEY }, 2000, 1);
    const deadline = Date.now() + 180_000;
    let state = await upstreamState(slow);
    while ((state.counts[201] ?? 0) < accepted && Date.now() < deadline) {
      await sleep(250);
      state = await upstreamState(slow);
    }
    const seconds = (state.answered.last - started) / 1000;
    const delivered = state.counts[201] ?? 0;
    results['q-slow'] = {
      id: 'q-slow',
      target: SCENARIOS['q-slow'],
      accepted,
      delivered,
      drainSeconds: round(seconds, 2),
      rps: round(delivered / seconds, 1),
      maxInFlight: state.maxConcurrent,
      errors: accepted - delivered,
      non2xx: 0,
      ...memoryOf(gateway.child.pid),
    };
    await stop(gateway.child);
    await stop(slow.child);
    rmSync(gateway.logFile, { force: true });
  }

  if (wanted('q-mem')) {
    // An address nothing listens on: every delivery attempt is refused and retried later, so the queue only grows.
    const gateway = await startGatewayChild('deep-queue', 'http://127.0.0.1:9', {
      UPSTREAM_RATE_LIMIT: '150',
      LOG_LEVEL: 'warn',
      DELIVERY_MAX_QUEUED: '100000000',
    });
    out(`  ${'q-mem'.padEnd(8)} ${SCENARIOS['q-mem']} ...`);
    const started = performance.now();
    const accepted = await queueEvents(gateway.rest, { 'x-api-key': CLIENT_KEY }, QUEUE_EVENTS);
    const seconds = (performance.now() - started) / 1000;
    // The queue at rest: V8's memory reducer returns what the burst of acceptance left behind within seconds.
    const samples = [];
    for (let i = 0; i < 6; i += 1) {
      await sleep(5000);
      samples.push(memoryOf(gateway.child.pid)?.rssMb);
    }
    out(`    RSS every 5 s after the last batch: ${samples.join(', ')} MB`);
    const metrics = await (await fetch(`${gateway.rest}/metrics`, { headers: { 'x-api-key': CLIENT_KEY } })).text();
    results['q-mem'] = {
      id: 'q-mem',
      target: SCENARIOS['q-mem'],
      accepted,
      queued: Number(/^gateway_delivery_queued (\d+)/m.exec(metrics)?.[1]),
      rps: round(accepted / seconds, 0),
      errors: 0,
      non2xx: 0,
      ...memoryOf(gateway.child.pid),
      ...(await heapOf(gateway.rest, { 'x-api-key': CLIENT_KEY })),
    };
    await stop(gateway.child);
    rmSync(gateway.logFile, { force: true });
  }

  if (wanted('q-list')) {
    // Large stored requests must not cost a listing anything: the ledger is read, never the payloads. The upstream
    // refuses the gateway's key (401), so deliveries pause and stay queued, probed one at a time.
    const gateway = await startGatewayChild('list', upstream.url, {
      GAINSIGHT_API_KEY: 'a-key-the-upstream-refuses',
      UPSTREAM_RATE_LIMIT: '150',
      LOG_LEVEL: 'warn',
      BODY_LIMIT: String(2 * 1024 * 1024),
      DELIVERY_MAX_BYTES_PER_CLIENT: '4gb',
    });
    out(`  ${'q-list'.padEnd(8)} ${SCENARIOS['q-list']} ...`);
    const auth = { 'x-api-key': CLIENT_KEY };
    const big = JSON.stringify({ ...EVENT, attributes: { blob: 'x'.repeat(1024 * 1024 - 200) } });
    let next = 0;
    const queueOne = async () => {
      while (next < 1000) {
        next += 1;
        const response = await fetch(`${gateway.rest}/v1/custom-events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', prefer: 'respond-async', ...auth },
          body: big,
        });
        await response.text();
        if (response.status !== 202) throw new Error(`1 MB event answered ${response.status}`);
      }
    };
    await Promise.all(Array.from({ length: 4 }, queueOne));
    const latencies = [];
    let listed = 0;
    for (let i = 0; i < 30; i += 1) {
      const started = performance.now();
      const response = await fetch(`${gateway.rest}/v1/deliveries?limit=1000`, { headers: auth });
      listed = (await response.json()).items.length;
      latencies.push(performance.now() - started);
    }
    results['q-list'] = {
      id: 'q-list',
      target: SCENARIOS['q-list'],
      listed,
      rps: round(1000 / (latencies.reduce((a, b) => a + b, 0) / latencies.length), 1),
      ...percentiles(latencies),
      errors: listed === 1000 ? 0 : 1,
      non2xx: 0,
      ...memoryOf(gateway.child.pid),
    };
    await stop(gateway.child);
    rmSync(gateway.logFile, { force: true });
  }

  if (wanted('r', 'r-q', 'r2')) {
    const redis = await startRedis();
    if (!redis) out('  r, r-q, r2 skipped: redis-server not installed (apt-get install -y redis-server)');
    else {
      const auth = { 'x-api-key': CLIENT_KEY };
      const env = { REDIS_URL: redis.url };
      if (wanted('r', 'r-q')) {
        const gateway = await startGatewayChild('redis', upstream.url, env);
        if (wanted('r')) await record('r', () => closedLoop(restLoad(gateway.rest, auth), gateway.child.pid), gateway.child.pid);
        if (wanted('r-q'))
          await record(
            'r-q',
            () => closedLoop(restLoad(gateway.rest, { ...auth, prefer: 'respond-async' }), gateway.child.pid),
            gateway.child.pid,
          );
        await stop(gateway.child);
        rmSync(gateway.logFile, { force: true });
      }
      if (wanted('r2')) {
        const [one, two] = await Promise.all([
          startGatewayChild('redis-a', upstream.url, env),
          startGatewayChild('redis-b', upstream.url, env),
        ]);
        await record('r2', async () => {
          const half = Math.max(1, Math.floor(CONNECTIONS / 2));
          const [x, y] = await Promise.all([
            closedLoopWith(restLoad(one.rest, auth), one.child.pid, half),
            closedLoopWith(restLoad(two.rest, auth), two.child.pid, half),
          ]);
          return {
            ...x,
            rps: x.rps + y.rps,
            completed: x.completed + y.completed,
            served: x.served + y.served,
            errors: x.errors + y.errors,
            non2xx: x.non2xx + y.non2xx,
            badAnswers: x.badAnswers + y.badAnswers,
            cpuUsPerRequest: undefined,
          };
        });
        await Promise.all([stop(one.child), stop(two.child)]);
        rmSync(one.logFile, { force: true });
        rmSync(two.logFile, { force: true });
      }
      await redis.stop();
    }
  }

  if (wanted('t', 't0', 't-base')) {
    // Fresh gateways: the same bundle without (t0) and with tracing (t), measured in alternating slices so the ratio
    // is not the machine's drift; then (when given) a bundle from before tracing, so "tracing off costs the same as
    // before" is measured too.
    const auth = { 'x-api-key': CLIENT_KEY };
    const sink = await forkTarget('otlp-sink.mjs');
    const runFresh = async (id, name, env, main) => {
      const gateway = await startGatewayChild(name, upstream.url, env, [], main);
      await record(id, () => closedLoop(restLoad(gateway.rest, auth), gateway.child.pid), gateway.child.pid);
      await stop(gateway.child);
      rmSync(gateway.logFile, { force: true });
    };
    if (wanted('t')) {
      const off = await startGatewayChild('tracing-off', upstream.url, {});
      const on = await startGatewayChild('tracing-on', upstream.url, {
        OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
        OTEL_TRACES_SAMPLER: 'always_on',
        OTEL_BSP_SCHEDULE_DELAY: '1000',
      });
      const before = await sinkCounts(sink);
      await recordPair(
        [
          { id: 't0', pid: off.child.pid, load: restLoad(off.rest, auth) },
          { id: 't', pid: on.child.pid, load: restLoad(on.rest, auth) },
        ],
        // Past OTEL_BSP_SCHEDULE_DELAY: the spans of a slice are exported before the other gateway is measured.
        1500,
      );
      const after = await sinkCounts(sink);
      results.t.otlpExports = after.exports - before.exports;
      results.t.otlpBytes = after.bytes - before.bytes;
      for (const gateway of [off, on]) {
        await stop(gateway.child);
        rmSync(gateway.logFile, { force: true });
      }
    } else if (wanted('t0')) await runFresh('t0', 'tracing-off', {});
    const baseline = process.env.BENCH_BASELINE_MAIN;
    if (wanted('t-base') && baseline) await runFresh('t-base', 'tracing-baseline', {}, baseline);
    else if (wanted('t-base')) out('  t-base skipped: set BENCH_BASELINE_MAIN to a bundle built before tracing');
    await stop(sink.child);
  }

  if (wanted('c-low') && lowRate) {
    // The latency the gateway adds at a load both sustain: the Express proxy again, at d-low's rate.
    const express = await forkTarget('reference/express-proxy.mjs', { UPSTREAM_URL: upstream.url });
    await record('c-low', () => pacedLoop(restLoad(express.url), lowRate, express.child.pid), express.child.pid);
    await stop(express.child);
  }

  if (wanted('f')) {
    const gateway = await startGatewayChild('sessions', upstream.url, { MCP_SESSIONS: 'true' });
    const auth = { 'x-api-key': CLIENT_KEY };
    const sessionId = await openSession(gateway.mcp, auth);
    await record(
      'f',
      () => closedLoop(mcpLoad(gateway.mcp, { ...auth, 'mcp-session-id': sessionId }), gateway.child.pid),
      gateway.child.pid,
    );
    await stop(gateway.child);
    if (KEEP_LOGS) out(`  gateway log kept: ${gateway.logFile}`);
    else rmSync(gateway.logFile, { force: true });
  }

  // The gateway's MCP door against the SDK's minimal server, each pair in alternating slices (pairedLoops) so the
  // ratio is not the machine's drift; a reference row alone when its gateway row is not wanted.
  for (const [gatewayRow, sdkRow, modern] of [
    ['e', 'g', false],
    ['e-2026', 'g-2026', true],
  ]) {
    if (!wanted(sdkRow)) continue;
    const sdk = await forkTarget('reference/sdk-mcp.mjs', { UPSTREAM_URL: upstream.url });
    if (wanted(gatewayRow)) {
      const gateway = await startGatewayChild(`mcp-${gatewayRow}`, upstream.url);
      const auth = { 'x-api-key': CLIENT_KEY };
      await recordPair([
        { id: gatewayRow, pid: gateway.child.pid, load: mcpLoad(gateway.mcp, auth, modern) },
        { id: sdkRow, pid: sdk.child.pid, load: mcpLoad(sdk.url, {}, modern) },
      ]);
      // Its own gateway process: its memory is the row's, not a sample of the d-phase gateway's RSS over time.
      Object.assign(results[gatewayRow], await heapOf(gateway.rest, auth));
      out(
        `  ${gatewayRow}: V8 heap used / total ${results[gatewayRow].heapUsedMb} / ${results[gatewayRow].heapTotalMb} MB after ${results[gatewayRow].served} requests`,
      );
      await stop(gateway.child);
      rmSync(gateway.logFile, { force: true });
    } else await record(sdkRow, () => closedLoop(mcpLoad(sdk.url, {}, modern), sdk.child.pid), sdk.child.pid);
    await stop(sdk.child);
  }

  if (wanted('g+')) {
    const sdk = await forkTarget('reference/sdk-mcp.mjs', {
      UPSTREAM_URL: upstream.url,
      SHARED_VALIDATOR: 'true',
      PROTOTYPE_BOUND: 'true',
    });
    await record('g+', () => closedLoop(mcpLoad(sdk.url), sdk.child.pid), sdk.child.pid);
    await stop(sdk.child);
  }

  await stop(upstream.child);
  rmSync(DATA_ROOT, { recursive: true, force: true });
  report(results, gatewayMemory, halfRate, Date.now() - started, { before: loadBefore, after: os.loadavg().map((v) => round(v, 2)) });
}

// ---------------------------------------------------------------- report

function report(results, gatewayMemory, halfRate, elapsedMs, loadAverage) {
  const { gatewayLog, ...scenarios } = results;
  const fmt = (v, digits = 2) => (v === undefined ? '–' : typeof v === 'number' ? v.toFixed(digits) : String(v));
  const rows = Object.values(scenarios).map((r) => [
    r.id,
    r.target,
    fmt(r.rps, 0),
    fmt(r.p50),
    fmt(r.p99),
    String(r.errors + (r.badAnswers ?? 0)),
    String(r.non2xx),
    fmt(r.cpuUsPerRequest, 0),
    r.rssMb === undefined ? '–' : fmt(r.rssMb, 0),
  ]);
  const header = ['', 'target', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'CPU µs/req', 'RSS MB'];
  const table = [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i >= 2 ? '---:' : '---')).join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ];
  out();
  for (const line of table) out(line);

  const ratio = (x, y) => (x && y ? round(x.rps / y.rps, 2) : undefined);
  const { b, c, d, e, f, g, 'g+': gShared, 'c+': cBound } = scenarios;
  const { q, 'q-batch': qBatch, 'q-drain': qDrain, 'q-mem': qMem, 'q-list': qList } = scenarios;
  const { r, 'r-q': rq, r2 } = scenarios;
  const { t, t0, 't-base': tBase } = scenarios;
  const ratios = {
    't/t0': ratio(t, t0),
    't0/t-base': ratio(t0, tBase),
    'r/d': ratio(r, d),
    'r-q/q': ratio(rq, q),
    'r2/r': ratio(r2, r),
    'q/d': ratio(q, d),
    'd/c': ratio(d, c),
    'd/c+': ratio(d, cBound),
    'd/b': ratio(d, b),
    'e/g': ratio(e, g),
    'e-2026/g-2026': ratio(scenarios['e-2026'], scenarios['g-2026']),
    'f/g': ratio(f, g),
    'e/g+': ratio(e, gShared),
    'c/b': ratio(c, b),
  };
  out();
  out(
    `ratios: ${Object.entries(ratios)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k} = ${v.toFixed(2)}`)
      .join(', ')}`,
  );
  if (halfRate) out(`c½ and d½ paced at ${halfRate} req/s (half of c's peak)`);
  if (scenarios['d-low'] && scenarios['c-low']) {
    const [dl, cl] = [scenarios['d-low'], scenarios['c-low']];
    out(
      `at ${dl.rate} req/s (half of d's peak) the gateway adds p50 ${fmt(dl.p50 - cl.p50)} ms, p99 ${fmt(dl.p99 - cl.p99)} ms over the Express proxy`,
    );
  }
  if (gatewayMemory.length) {
    out(
      `gateway RSS: ${gatewayMemory.map((m) => `${m.rssMb} MB after ${m.after} (${m.requestsServed} requests)`).join(', ')}; peak ${Math.max(...gatewayMemory.map((m) => m.peakRssMb))} MB`,
    );
    out(`gateway V8 heap used / total: ${gatewayMemory.map((m) => `${m.heapUsedMb} / ${m.heapTotalMb} MB after ${m.after}`).join(', ')}`);
  }
  const capped = scenarios['d-mem'];
  if (capped) {
    const of = d ?? scenarios['d-again'];
    out(
      `heap capped (${MEMORY_FLAGS.join(' ')}): RSS ${capped.rssMb} MB after ${capped.served} requests at ${fmt(capped.rps, 0)} req/s${of ? ` (${fmt(capped.rps / of.rps, 2)} × d)` : ''}`,
    );
  }
  const qSlow = scenarios['q-slow'];
  if (qSlow)
    out(
      `slow upstream (2–5 s): ${qSlow.delivered} of ${qSlow.accepted} delivered in ${qSlow.drainSeconds} s = ${qSlow.rps}/s, at most ${qSlow.maxInFlight} in flight`,
    );
  if (qBatch) out(`batch accept: ${fmt(qBatch.rps * BATCH_SIZE, 0)} events/s in ${BATCH_SIZE}-event batches`);
  if (qDrain)
    out(
      `drain: ${qDrain.delivered} of ${qDrain.accepted} delivered in ${qDrain.drainSeconds} s = ${qDrain.rps}/s, ${qDrain.upstream429} upstream 429`,
    );
  if (qMem)
    out(
      `deep queue: ${qMem.queued} queued (accepted at ${qMem.rps} events/s), RSS ${qMem.rssMb} MB (peak ${qMem.peakRssMb} MB), heap used ${qMem.heapUsedMb} MB`,
    );
  if (t?.otlpExports !== undefined)
    out(`tracing (t): ${t.otlpExports} OTLP exports, ${round(t.otlpBytes / 1048576, 1)} MB of spans for ${t.served} requests`);
  if (qList)
    out(
      `listing 1,000 deliveries of 1 MB events: p50 ${fmt(qList.p50)} ms, p99 ${fmt(qList.p99)} ms per page, RSS ${qList.rssMb} MB after`,
    );
  if (gatewayLog) out(`gateway access log (info, to a file): ${gatewayLog.lines} lines, ${round(gatewayLog.bytes / 1048576, 1)} MB`);

  const first = gatewayMemory[0];
  const last = gatewayMemory.at(-1);
  const checks = {
    'REST ≥ 0.9 × Express proxy (d/c)': ratios['d/c'] === undefined ? undefined : ratios['d/c'] >= 0.9,
    'REST p99 ≤ Express p99 + 1 ms at half rate (d½ vs c½)':
      scenarios['d½'] && scenarios['c½'] ? scenarios['d½'].p99 <= scenarios['c½'].p99 + 1 : undefined,
    'MCP stateless ≥ 0.9 × SDK minimal (e/g)': ratios['e/g'] === undefined ? undefined : ratios['e/g'] >= 0.9,
    'MCP 2026-07-28 stateless ≥ 0.9 × SDK minimal (e-2026/g-2026)':
      ratios['e-2026/g-2026'] === undefined ? undefined : ratios['e-2026/g-2026'] >= 0.9,
    [`gateway RSS < 150 MB at the end (${last?.requestsServed ?? 0} requests served)`]: last ? last.rssMb < 150 : undefined,
    // No growth: a leak would push the last sample above every earlier one (each lands somewhere in a GC cycle).
    'gateway RSS flat: last sample ≤ 110 % of the highest before it':
      last && first !== last ? last.rssMb <= 1.1 * Math.max(...gatewayMemory.slice(0, -1).map((m) => m.rssMb)) : undefined,
    'zero errors and non-2xx': Object.values(scenarios).every(
      (r) => r.errors === 0 && r.non2xx === 0 && !r.badAnswers && (r.upstreamOther ?? 0) === 0,
    ),
    'REST with REDIS_URL ≥ 0.8 × in memory (r/d)': ratios['r/d'] === undefined ? undefined : ratios['r/d'] >= 0.8,
    'async accept ≥ 0.9 × synchronous REST (q/d)': ratios['q/d'] === undefined ? undefined : ratios['q/d'] >= 0.9,
    'REST with every request traced ≥ 0.85 × tracing off (t/t0)':
      ratios['t/t0'] === undefined ? undefined : ratios['t/t0'] >= 0.85 && (t?.otlpExports ?? 0) > 0,
    'tracing off costs the same as before tracing (t0/t-base ≥ 0.95)':
      ratios['t0/t-base'] === undefined ? undefined : ratios['t0/t-base'] >= 0.95,
    'batch accept ≥ 20,000 events/s (q-batch)': qBatch ? qBatch.rps * BATCH_SIZE >= 20_000 : undefined,
    'drain within ±5 % of 150/s with 0 upstream 429 (q-drain)': qDrain
      ? Math.abs(qDrain.rps - 150) <= 7.5 && qDrain.upstream429 === 0 && qDrain.delivered === qDrain.accepted
      : undefined,
    'listing 1,000 deliveries of 1 MB events: p99 < 250 ms, RSS < 250 MB (q-list)': qList
      ? qList.p99 < 250 && qList.rssMb < 250 && qList.listed === 1000
      : undefined,
    [`RSS < 200 MB with ${QUEUE_EVENTS} events queued (q-mem)`]: qMem ? qMem.rssMb < 200 && qMem.queued === qMem.accepted : undefined,
  };
  out();
  for (const [name, ok] of Object.entries(checks)) out(`${ok === undefined ? 'n/a ' : ok ? 'PASS' : 'FAIL'}  ${name}`);
  out(
    `(${round(elapsedMs / 1000, 0)} s in all; load average before ${loadAverage.before.join(' ')}, after ${loadAverage.after.join(' ')})`,
  );

  const cpus = os.cpus();
  const document = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model,
      memoryGb: round(os.totalmem() / 2 ** 30, 1),
      os: `${os.type()} ${os.release()}`,
      node: process.version,
      loadAverage,
    },
    settings: {
      durationSeconds: DURATION,
      warmupSeconds: WARMUP,
      connections: CONNECTIONS,
      halfRate,
      lowRate: scenarios['d-low']?.rate,
      gatewayEnv: { ...GATEWAY_ENV, GAINSIGHT_API_KEY: '[bench key]' },
    },
    scenarios,
    ratios,
    gatewayMemory,
    gatewayLog,
    checks,
    table: table.join('\n'),
  };
  writeFileSync(join(here, 'results.json'), `${JSON.stringify(document, null, 2)}\n`);
  out(`wrote ${join('bench', 'results.json')}`);
}

const cleanup = () => {
  for (const child of children) child.kill('SIGKILL');
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});
main().then(
  () => sleep(0),
  (error) => {
    process.stderr.write(`bench: ${error.stack ?? error}\n`);
    cleanup();
    process.exitCode = 1;
  },
);
