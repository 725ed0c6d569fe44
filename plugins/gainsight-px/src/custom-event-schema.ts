import { type JsonSchema, MAX_INPUT_DEPTH } from '@gateway/core';

export const USER_TYPES = ['USER', 'LEAD', 'VISITOR', 'EMPTY_USER_TYPE'] as const;
export const MAX_ATTRIBUTES = 50;

/**
 * The event dates the gateway sends on: from 2000-01-01T00:00:00Z to a day past the gateway's clock. A date
 * in seconds (1700000000) read as milliseconds is January 1970, and PX would store it without a word.
 */
export const EARLIEST_EVENT_DATE_MS = Date.UTC(2000, 0, 1);
export const EVENT_DATE_LEEWAY_MS = 24 * 60 * 60 * 1000;
const DATE_RANGE_TEXT = 'from 2000-01-01T00:00:00Z to 24 hours after the gateway receives it';

const propertyBag = (what: string, example: Record<string, unknown>): JsonSchema => ({
  type: 'object',
  description:
    `${what}: up to ${MAX_ATTRIBUTES} keys (1-1024 characters, not "__proto__") with string, number, boolean or ISO-8601 UTC date values; ` +
    `objects and arrays are sent as JSON strings, nulls dropped. The body nests at most ${MAX_INPUT_DEPTH} levels deep.`,
  maxProperties: MAX_ATTRIBUTES,
  propertyNames: { minLength: 1, maxLength: 1024, not: { const: '__proto__' } },
  // Any JSON value is accepted (the description says what becomes of each kind). `true`, not a union of the
  // kinds: tool clients that flatten unions (LangChain's MCP adapters keep only an `anyOf`'s object branch and
  // validate calls against that) would refuse every string or number, and a type array is not portable to
  // single-type dialects (MCP Inspector --strict warns). `true` is also what openapi-typescript maps to `unknown`.
  additionalProperties: true,
  examples: [example],
});

/**
 * CustomEvent as the gateway accepts it (JSON Schema 2020-12), from the PX "Create custom event" contract.
 * `propertyKey` is required only when no default product key is configured.
 */
export function customEventSchema(options: { propertyKeyRequired: boolean; defaultPropertyKey?: string }): JsonSchema {
  const required = ['eventName', 'identifyId', ...(options.propertyKeyRequired ? ['propertyKey'] : [])];
  return {
    title: 'CustomEvent',
    description: 'One product-analytics event for Gainsight PX. Unknown top-level fields are rejected so typos are caught.',
    type: 'object',
    additionalProperties: false,
    required,
    properties: {
      eventName: {
        type: 'string',
        minLength: 1,
        maxLength: 2000,
        description: 'Name of the event, as it should appear in PX analytics.',
        examples: ['Signup'],
      },
      identifyId: {
        type: 'string',
        minLength: 1,
        description: 'The PX user id of the person who did it (the id your app passes to identify).',
        examples: ['u-1'],
      },
      propertyKey: {
        type: 'string',
        minLength: 1,
        description: options.defaultPropertyKey
          ? 'The PX product key (looks like AP-XXXXXXXXXX-2). Defaults to the product key the gateway is configured with.'
          : 'The PX product key (looks like AP-XXXXXXXXXX-2). Required: this gateway has no default product key configured.',
        examples: ['AP-TEST-1'],
      },
      userType: {
        type: 'string',
        enum: [...USER_TYPES],
        // No `default` keyword: the gateway fills USER in when it is absent, but code generators read `default`
        // as "always present" (openapi-typescript makes such a property required) and would demand it.
        description: 'Kind of PX user the identifyId names. Optional: USER when absent.',
        examples: ['USER'],
      },
      date: {
        description:
          `When it happened: epoch milliseconds (not seconds: 1970 dates are rejected) or ISO-8601, ${DATE_RANGE_TEXT}. ` +
          'Omitted: when PX receives it (queued: when the gateway accepted it).',
        oneOf: [
          { type: 'integer', minimum: 0, description: `Epoch milliseconds, UTC (not seconds), ${DATE_RANGE_TEXT}.` },
          { type: 'string', format: 'date-time', description: 'ISO-8601 date-time, e.g. 2026-11-26T10:00:00Z.' },
        ],
        examples: [1764151200000],
      },
      accountId: { type: 'string', minLength: 1, description: 'The PX account id the user belongs to.', examples: ['acme-corp'] },
      sessionId: {
        type: 'string',
        minLength: 1,
        description: 'The PX session id, when the event belongs to a web session.',
        examples: ['s-42'],
      },
      attributes: propertyBag('Event properties', { plan: 'pro', seats: 5, trial: false }),
      globalContext: propertyBag('Global context ("super properties") sent with the event', { appVersion: '2.3.1' }),
      url: { type: 'string', description: 'URL of the page where the event happened.', examples: ['https://app.example.com/signup'] },
      referrer: { type: 'string', description: 'Referrer of that page.', examples: ['https://www.example.com/'] },
      remoteHost: { type: 'string', description: 'Host or IP address of the client that caused the event.', examples: ['203.0.113.7'] },
    },
    examples: [{ eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' }],
  };
}
