import { USER_TYPES } from '../custom-event-schema.ts';

export interface SubError {
  readonly field: string;
  readonly rejectedValue: unknown;
  readonly message: string;
}

const REQUIRED_STRINGS = ['eventName', 'identifyId', 'propertyKey', 'userType'] as const;
const OPTIONAL_STRINGS = ['accountId', 'sessionId', 'url', 'referrer', 'remoteHost'] as const;
const PROPERTY_BAGS = ['attributes', 'globalContext'] as const;

/** The checks PX itself makes on a CustomEvent (not the gateway's stricter ones): unknown fields are ignored. */
export function pxSchemaViolations(event: unknown): SubError[] {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    return [{ field: '', rejectedValue: event, message: 'must be a JSON object' }];
  }
  const record = event as Record<string, unknown>;
  const errors: SubError[] = [];
  for (const field of REQUIRED_STRINGS) {
    const value = record[field];
    if (value === undefined || value === null || value === '')
      errors.push({ field, rejectedValue: value ?? null, message: 'must not be null' });
    else if (typeof value !== 'string') errors.push({ field, rejectedValue: value, message: 'must be a string' });
  }
  if (typeof record.userType === 'string' && !(USER_TYPES as readonly string[]).includes(record.userType)) {
    errors.push({ field: 'userType', rejectedValue: record.userType, message: `must be one of ${USER_TYPES.join(', ')}` });
  }
  if (record.date !== undefined && record.date !== null && !Number.isInteger(record.date)) {
    errors.push({ field: 'date', rejectedValue: record.date, message: 'must be epoch milliseconds (integer)' });
  }
  for (const field of OPTIONAL_STRINGS) {
    const value = record[field];
    if (value !== undefined && value !== null && typeof value !== 'string')
      errors.push({ field, rejectedValue: value, message: 'must be a string' });
  }
  for (const field of PROPERTY_BAGS) {
    const bag = record[field];
    if (bag === undefined || bag === null) continue;
    if (typeof bag !== 'object' || Array.isArray(bag)) {
      errors.push({ field, rejectedValue: bag, message: 'must be an object' });
      continue;
    }
    const entries = Object.entries(bag);
    if (entries.length > 50) errors.push({ field, rejectedValue: entries.length, message: 'must have at most 50 keys' });
    for (const [key, value] of entries) {
      if (!['string', 'number', 'boolean'].includes(typeof value)) {
        errors.push({ field: `${field}.${key}`, rejectedValue: value, message: 'must be a string, number or boolean' });
      }
    }
  }
  return errors;
}
