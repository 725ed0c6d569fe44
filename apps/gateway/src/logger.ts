import { type DestinationStream, type Logger, pino } from 'pino';

/** Header and field names whose values never reach a log line, wherever they appear. */
export const REDACTED_PATHS = [
  'req.headers["x-aptrinsic-api-key"]',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers["x-aptrinsic-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  '*.apiKey',
  '*.secret',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, base: { service: 'gateway' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
