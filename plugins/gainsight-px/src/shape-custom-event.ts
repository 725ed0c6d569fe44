import { InputError } from '@gateway/core';

export type PropertyValue = string | number | boolean | null | Record<string, unknown> | unknown[];

/** A CustomEvent as callers send it (already schema-valid). */
export interface CustomEventInput {
  eventName: string;
  identifyId: string;
  propertyKey?: string;
  userType?: string;
  date?: number | string;
  accountId?: string;
  sessionId?: string;
  attributes?: Record<string, PropertyValue>;
  globalContext?: Record<string, PropertyValue>;
  url?: string;
  referrer?: string;
  remoteHost?: string;
}

/** The body PX receives. */
export interface PxCustomEvent extends Omit<CustomEventInput, 'date' | 'attributes' | 'globalContext'> {
  propertyKey: string;
  userType: string;
  date?: number;
  attributes?: Record<string, string | number | boolean>;
  globalContext?: Record<string, string | number | boolean>;
}

/**
 * Applies the gateway's defaults and PX's conventions: userType USER, a configured product key,
 * dates as epoch ms, nested property values as JSON strings, nulls dropped.
 */
export function shapeCustomEvent(event: CustomEventInput, defaults: { propertyKey?: string }): PxCustomEvent {
  const propertyKey = event.propertyKey ?? defaults.propertyKey;
  if (!propertyKey) {
    throw new InputError([
      { pointer: '/body/propertyKey', message: 'is required: no default product key (GAINSIGHT_PX_PRODUCT_KEY) is configured' },
    ]);
  }
  const { date, attributes, globalContext, ...rest } = event;
  const shaped: PxCustomEvent = { ...rest, propertyKey, userType: event.userType ?? 'USER' };
  if (date !== undefined) shaped.date = toEpochMillis(date);
  if (attributes) shaped.attributes = flattenProperties(attributes);
  if (globalContext) shaped.globalContext = flattenProperties(globalContext);
  return shaped;
}

function toEpochMillis(date: number | string): number {
  if (typeof date === 'number') return date;
  const millis = Date.parse(date);
  if (Number.isNaN(millis)) throw new InputError([{ pointer: '/body/date', message: 'is not a valid ISO-8601 date-time' }]);
  // Epoch milliseconds are non-negative (the schema's integer form says so too); PX has no use for earlier dates.
  if (millis < 0) throw new InputError([{ pointer: '/body/date', message: 'must not be before 1970-01-01T00:00:00Z' }]);
  return millis;
}

function flattenProperties(values: Record<string, PropertyValue>): Record<string, string | number | boolean> {
  const flat: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === null) continue;
    flat[key] = typeof value === 'object' ? JSON.stringify(value) : value;
  }
  return flat;
}
