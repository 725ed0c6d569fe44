// Summarises a V8 .cpuprofile (from `BENCH_CPU_PROF=1 npm run bench` or `node --cpu-prof`):
// self time by package, the hottest functions by self time, and by inclusive time.
//
//   node bench/profile-summary.mjs bench/profiles/<file>.cpuprofile [top=25]
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/profile-summary.mjs <file.cpuprofile> [top]\n');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const out = (line = '') => process.stdout.write(`${line}\n`);
process.stdout.on('error', () => process.exit(0));

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

// Self time per node from the samples and their time deltas (microseconds).
const self = new Map();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  self.set(id, (self.get(id) ?? 0) + dt);
  total += dt;
});

/** Which package (or area) a script URL belongs to. */
function area(url) {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:'))
    return url.replace(/^node:(internal\/)?/, 'node:').split('/')[0] === 'node:'
      ? url
      : `node:${url.replace(/^node:(internal\/)?/, '').split('/')[0]}`;
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.includes('/apps/gateway/dist/')) return 'gateway (dist bundle)';
  return url
    .replace(/^file:\/\//, '')
    .split('/')
    .slice(-2)
    .join('/');
}

const label = (node) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  if (!url) return name;
  return `${name}  ${url.replace(/^file:\/\/.*node_modules\//, '').replace(/^file:\/\/.*\/apps\//, 'apps/')}:${lineNumber + 1}`;
};

const selfByArea = new Map();
const selfByFunction = new Map();
const inclusiveByFunction = new Map();
for (const node of profile.nodes) {
  const time = self.get(node.id) ?? 0;
  if (time === 0) continue;
  const a = area(node.callFrame.url);
  selfByArea.set(a, (selfByArea.get(a) ?? 0) + time);
  const l = label(node);
  selfByFunction.set(l, (selfByFunction.get(l) ?? 0) + time);
  // Inclusive: charge this node's self time to every distinct function on its stack.
  const seen = new Set();
  for (let id = node.id; id !== undefined; id = parent.get(id)) {
    const frame = label(byId.get(id));
    if (seen.has(frame)) continue;
    seen.add(frame);
    inclusiveByFunction.set(frame, (inclusiveByFunction.get(frame) ?? 0) + time);
  }
}

// Bottom-up attribution: each sample goes to the innermost frame that is a package or a gateway source file
// (mapped through the bundle's source map); Node internals and native code count for whoever called them.
const sourceMaps = new Map();
function sourceOf(url, line, column) {
  if (!url.startsWith('file://') || url.includes('/node_modules/')) return undefined;
  let map = sourceMaps.get(url);
  if (map === undefined) {
    const path = `${fileURLToPath(url)}.map`;
    map = existsSync(path) ? new SourceMap(JSON.parse(readFileSync(path, 'utf8'))) : null;
    sourceMaps.set(url, map);
  }
  const entry = map?.findEntry(line, column);
  return entry?.originalSource ? entry.originalSource.replace(/^.*\/(apps|packages|plugins)\//, '$1/') : url.replace(/^file:\/\/.*\//, '');
}
function owner(node) {
  const { url, lineNumber, columnNumber } = node.callFrame;
  if (!url || url.startsWith('node:')) return undefined;
  if (url.includes('/node_modules/')) return area(url);
  return sourceOf(url, lineNumber, columnNumber) ?? area(url);
}
const ownerCache = new Map();
const attributed = new Map();
const attributedFunctions = new Map();
for (const node of profile.nodes) {
  const time = self.get(node.id) ?? 0;
  if (time === 0) continue;
  let bucket;
  let frame;
  for (let id = node.id; id !== undefined && bucket === undefined; id = parent.get(id)) {
    if (!ownerCache.has(id)) ownerCache.set(id, owner(byId.get(id)) ?? null);
    bucket = ownerCache.get(id) ?? undefined;
    frame = byId.get(id);
  }
  bucket ??= `(node runtime) ${node.callFrame.functionName || node.callFrame.url || '?'}`.replace(/^\(node runtime\) (\(.*\))$/, '$1');
  attributed.set(bucket, (attributed.get(bucket) ?? 0) + time);
  const where =
    frame && !bucket.startsWith('(')
      ? `${bucket}  ${frame.callFrame.functionName || '(anonymous)'}:${frame.callFrame.lineNumber + 1}`
      : bucket;
  attributedFunctions.set(where, (attributedFunctions.get(where) ?? 0) + time);
}

const pct = (t) => `${((100 * t) / total).toFixed(1).padStart(5)} %`;
const print = (title, map, n) => {
  out(title);
  for (const [name, time] of [...map.entries()].sort((x, y) => y[1] - x[1]).slice(0, n)) out(`  ${pct(time)}  ${name}`);
  out();
};
out(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
out();
print('time by innermost package or gateway source file (Node internals count for their caller)', attributed, top);
print('the same, by function (line in the bundle or package file)', attributedFunctions, top);
print('self time by package / area', selfByArea, 20);
print('self time by function', selfByFunction, top);
print('inclusive time by function', inclusiveByFunction, top);
