import { InputError } from '@gateway/core';
import { EARLIEST_EVENT_DATE_MS, EVENT_DATE_LEEWAY_MS } from './custom-event-schema.ts';

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
 * Applies the gateway's defaults and PX's conventions: userType USER, a configured product key, a default date,
 * dates as epoch ms (refused outside the plausible range), nested property values as JSON strings, nulls dropped.
 */
export function shapeCustomEvent(event: CustomEventInput, defaults: { propertyKey?: string; date?: number }): PxCustomEvent {
  const propertyKey = event.propertyKey ?? defaults.propertyKey;
  if (!propertyKey) {
    throw new InputError([
      { pointer: '/body/propertyKey', message: 'is required: no default product key (GAINSIGHT_PX_PRODUCT_KEY) is configured' },
    ]);
  }
  const { date, attributes, globalContext, ...rest } = event;
  const shaped: PxCustomEvent = { ...rest, propertyKey, userType: event.userType ?? 'USER' };
  if (date !== undefined) shaped.date = toEpochMillis(date);
  else if (defaults.date !== undefined) shaped.date = defaults.date;
  if (attributes) shaped.attributes = flattenProperties(attributes);
  if (globalContext) shaped.globalContext = flattenProperties(globalContext);
  return shaped;
}

function toEpochMillis(date: number | string): number {
  const millis = typeof date === 'number' ? date : Date.parse(date);
  if (Number.isNaN(millis)) throw new InputError([{ pointer: '/body/date', message: 'is not a valid ISO-8601 date-time' }]);
  const latest = Date.now() + EVENT_DATE_LEEWAY_MS;
  if (millis >= EARLIEST_EVENT_DATE_MS && millis <= latest) return millis;
  throw new InputError([{ pointer: '/body/date', message: outOfRange(date, millis, latest) }]);
}

/** Says which range a date must be in, and what the one sent means, in the unit the caller most likely used. */
function outOfRange(date: number | string, millis: number, latest: number): string {
  const range = `must be from ${iso(EARLIEST_EVENT_DATE_MS)} to 24 hours from now: epoch milliseconds ${EARLIEST_EVENT_DATE_MS} to ${latest}, or an ISO-8601 date-time`;
  if (typeof date === 'string') return `${range} (${date} is outside it)`;
  if (!Number.isSafeInteger(millis)) return `${range} (${date} is beyond 2^53, so not an exact integer)`;
  const asSeconds = millis * 1000;
  const readAsSeconds = asSeconds >= EARLIEST_EVENT_DATE_MS && asSeconds <= latest ? `; if it is in seconds, send ${asSeconds}` : '';
  return `${range} (${date} milliseconds is ${iso(millis)}${readAsSeconds})`;
}

function iso(millis: number): string {
  const date = new Date(millis);
  return Number.isNaN(date.getTime()) ? 'past the last date JavaScript can represent' : date.toISOString().replace('.000Z', 'Z');
}

function flattenProperties(values: Record<string, PropertyValue>): Record<string, string | number | boolean> {
  const flat: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === null) continue;
    flat[key] = typeof value === 'object' ? JSON.stringify(value) : value;
  }
  return flat;
}
