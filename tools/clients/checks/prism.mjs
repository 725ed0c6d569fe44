// Prism as a validating proxy in front of the gateway: good, bad-input and error requests through it; every request
// and answer must match the document (Prism reports each mismatch as a violation).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { check, done, MINIMAL, restUrl } from './support.mjs';

const prismBin = createRequire(import.meta.url).resolve('@stoplight/prism-cli/dist/index.js');
const port = Number(process.env.PRISM_PORT ?? 4010);
const prism = spawn(
  process.execPath,
  [prismBin, 'proxy', `${restUrl}/openapi.json`, restUrl, '--port', String(port), '--host', '127.0.0.1', '--errors=false'],
  {
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
let log = '';
prism.stdout.on('data', (chunk) => (log += chunk));
prism.stderr.on('data', (chunk) => (log += chunk));
for (let i = 0; i < 100 && !/listening|Prism is listening/i.test(log); i++) await new Promise((r) => setTimeout(r, 200));
check(/listening/i.test(log), 'prism proxy started');
const base = `http://127.0.0.1:${port}`;
const json = { 'content-type': 'application/json' };
const cases = [
  ['valid event', '/v1/custom-events', { method: 'POST', headers: json, body: JSON.stringify(MINIMAL) }, 201],
  [
    'missing eventName',
    '/v1/custom-events',
    { method: 'POST', headers: json, body: JSON.stringify({ identifyId: 'u-1', propertyKey: 'AP-1' }) },
    400,
  ],
  ['date -1', '/v1/custom-events', { method: 'POST', headers: json, body: JSON.stringify({ ...MINIMAL, date: -1 }) }, 400],
  ['date in seconds', '/v1/custom-events', { method: 'POST', headers: json, body: JSON.stringify({ ...MINIMAL, date: 1700000000 }) }, 400],
  ['unknown field', '/v1/custom-events', { method: 'POST', headers: json, body: JSON.stringify({ ...MINIMAL, typo: 1 }) }, 400],
  [
    'bad Idempotency-Key',
    '/v1/custom-events',
    { method: 'POST', headers: { ...json, 'idempotency-key': 'has spaces' }, body: JSON.stringify(MINIMAL) },
    400,
  ],
  [
    'key reused with another body (first)',
    '/v1/custom-events',
    { method: 'POST', headers: { ...json, 'idempotency-key': `k-${process.pid}` }, body: JSON.stringify(MINIMAL) },
    201,
  ],
  [
    'key reused with another body (replay)',
    '/v1/custom-events',
    { method: 'POST', headers: { ...json, 'idempotency-key': `k-${process.pid}` }, body: JSON.stringify(MINIMAL) },
    201,
  ],
  [
    'key reused with another body',
    '/v1/custom-events',
    {
      method: 'POST',
      headers: { ...json, 'idempotency-key': `k-${process.pid}` },
      body: JSON.stringify({ ...MINIMAL, eventName: 'Other' }),
    },
    422,
  ],
  ['sandbox read', '/sandbox/v1/events/custom', { method: 'GET' }, 200],
];
for (const [what, path, init, expected] of cases) {
  const before = log.length;
  const answer = await fetch(`${base}${path}`, init);
  await answer.text();
  await new Promise((r) => setTimeout(r, 100));
  // Bad-input cases are request violations on purpose; what the gateway answers must match the document.
  const violations = JSON.parse(answer.headers.get('sl-violations') ?? '[]').filter((v) => v.location?.[0] === 'response');
  const logged = log
    .slice(before)
    .split('\n')
    .filter((line) => /Violation: response/i.test(line));
  check(answer.status === expected, `prism: ${what} -> ${answer.status} (expected ${expected})`);
  check(
    violations.length === 0 && logged.length === 0,
    `prism: ${what}: no response violations ${JSON.stringify(violations)} ${logged.join(' | ').slice(0, 600)}`,
  );
}
prism.kill();
done('prism');
