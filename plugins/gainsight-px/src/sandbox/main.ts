/* Standalone PX sandbox: `npm run sandbox`. */
import { startPxSandbox } from './px-sandbox.ts';

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const number = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number (got "${raw}")`);
  return value;
};

const apiKeys = list(process.env.SANDBOX_API_KEYS);
const sandbox = await startPxSandbox({
  host: process.env.SANDBOX_HOST || '127.0.0.1',
  port: number('SANDBOX_PORT', 8081),
  apiKeys: apiKeys.length ? apiKeys : ['sandbox-key'],
  readOnlyKeys: list(process.env.SANDBOX_READONLY_KEYS),
  ratePerSecond: number('SANDBOX_RATE_LIMIT', 200),
  faults: {
    errorRate: number('SANDBOX_FAULT_RATE', 0),
    statuses: list(process.env.SANDBOX_FAULT_STATUSES).map(Number),
    dropRate: number('SANDBOX_DROP_RATE', 0),
    delayMs: number('SANDBOX_DELAY_MS', 0),
  },
});
process.stdout.write(
  `Gainsight PX sandbox listening: POST ${sandbox.baseUrl}/events/custom, GET ${sandbox.baseUrl}/events/custom\n` +
    (apiKeys.length
      ? `Accepting the ${apiKeys.length} key(s) in SANDBOX_API_KEYS.\n`
      : 'Accepting the key "sandbox-key" (set SANDBOX_API_KEYS to change it).\n'),
);
const stop = () => void sandbox.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
