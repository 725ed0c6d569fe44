/* Standalone PX sandbox: `npm run sandbox`. */
import { startPxSandbox } from './px-sandbox.ts';
import { describeFaults, readSandboxBehaviour } from './sandbox-settings.ts';

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const port = Number(process.env.SANDBOX_PORT || 8081);
if (!Number.isInteger(port) || port < 0 || port > 65535)
  throw new Error(`SANDBOX_PORT must be a port number (got "${process.env.SANDBOX_PORT}")`);

const apiKeys = list(process.env.SANDBOX_API_KEYS);
const behaviour = readSandboxBehaviour(process.env);
const sandbox = await startPxSandbox({
  host: process.env.SANDBOX_HOST || '127.0.0.1',
  port,
  apiKeys: apiKeys.length ? apiKeys : ['sandbox-key'],
  readOnlyKeys: list(process.env.SANDBOX_READONLY_KEYS),
  ...behaviour,
});
process.stdout.write(
  `Gainsight PX sandbox listening: POST ${sandbox.baseUrl}/events/custom, GET ${sandbox.baseUrl}/events/custom\n` +
    (apiKeys.length
      ? `Accepting the ${apiKeys.length} key(s) in SANDBOX_API_KEYS.\n`
      : 'Accepting the key "sandbox-key" (set SANDBOX_API_KEYS to change it).\n') +
    `Faults: ${describeFaults(behaviour)}.\n`,
);
const stop = () => void sandbox.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
