import type { JsonSchema } from '@gateway/core';
import { USER_TYPES } from './custom-event-schema.ts';

/**
 * PX users and accounts (JSON Schema 2020-12), from the vendor's Swagger definitions. Written `as const` so that
 * the operations take their input types from them (`InputOf<typeof ...>`). Inputs reject unknown fields (typos
 * are caught); answers keep whatever PX adds.
 */

const epochMs = (what: string) => ({ type: 'integer', minimum: 0, description: `${what}, epoch milliseconds.` }) as const;

const location = {
  type: 'object',
  additionalProperties: false,
  description: 'Where the user or account is.',
  properties: {
    countryName: { type: 'string' },
    countryCode: { type: 'string', description: 'ISO 3166 code.' },
    stateName: { type: 'string' },
    stateCode: { type: 'string', description: 'ISO 3166 code.' },
    city: { type: 'string' },
    street: { type: 'string' },
    postalCode: { type: 'string' },
    continent: { type: 'string' },
    regionName: { type: 'string' },
    timeZone: { type: 'string' },
    coordinates: {
      type: 'object',
      additionalProperties: false,
      properties: { latitude: { type: 'number' }, longitude: { type: 'number' } },
    },
  },
} as const;

const propertyKeys = {
  type: 'array',
  minItems: 1,
  items: { type: 'string', minLength: 1 },
  description: 'PX product keys (AP-XXXXXXXXXX-2), at least one; may be omitted when the gateway has a default (GAINSIGHT_PX_PRODUCT_KEY).',
} as const;

const customAttributes = {
  type: 'object',
  additionalProperties: true,
  description: 'Custom attributes by their PX apiName.',
} as const;

export const GENDERS = ['MALE', 'FEMALE', 'OTHER', 'EMPTY_GENDER'] as const;

/** The user fields a caller may set (PX's read-only ones are left out). */
const userFields = {
  type: { type: 'string', enum: USER_TYPES },
  gender: { type: 'string', enum: GENDERS },
  email: { type: 'string' },
  firstName: { type: 'string' },
  lastName: { type: 'string' },
  signUpDate: epochMs('When the user signed up'),
  firstVisitDate: epochMs('When the user first visited'),
  title: { type: 'string' },
  phone: { type: 'string' },
  score: { type: 'integer' },
  role: { type: 'string' },
  subscriptionId: { type: 'string' },
  accountId: { type: 'string', description: 'The id of the PX account the user belongs to (as custom events carry it).' },
  location,
  propertyKeys,
  customAttributes,
  globalUnsubscribe: { type: 'boolean' },
  sfdcContactId: { type: 'string' },
} as const;

export const identifyIdSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 1024,
  description: 'The PX user id (identifyId), as the product identifies the user and custom events carry it. Case-sensitive.',
} as const;

export const accountIdSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 1024,
  description: 'The PX account id, as custom events carry it in accountId. Case-sensitive.',
} as const;

export const newUserSchema = {
  title: 'NewUser',
  description: 'A PX user to create.',
  type: 'object',
  additionalProperties: false,
  required: ['identifyId'],
  properties: { identifyId: identifyIdSchema, ...userFields },
  examples: [{ identifyId: 'u-1', email: 'ada@example.com', firstName: 'Ada', accountId: 'acme', propertyKeys: ['AP-TEST-1'] }],
} as const;

export const userChangesSchema = {
  title: 'UserChanges',
  description: 'The user fields to change; fields left out keep their value.',
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: userFields,
  examples: [{ email: 'ada@example.org', title: 'CTO' }],
} as const;

/** In answers a location is whatever PX keeps (it may add fields). */
const ANSWERED_LOCATIONS = { location: { type: 'object', description: 'Where the user or account is.' } } as const;

/** A scroll id, or null on (some) last pages. Single-type branches: a type array is not portable to every tool client. */
const answeredScrollId = { anyOf: [{ type: 'string' }, { type: 'null' }], description: 'Pass as scrollId to get the next page.' } as const;

/** Fields PX computes: in answers only. */
const readOnlyUserFields = {
  aptrinsicId: { type: 'string' },
  id: { type: 'string', description: 'Same as identifyId.' },
  lastSeenDate: epochMs('When the user was last seen'),
  numberOfVisits: { type: 'integer' },
  createDate: epochMs('When PX created the user'),
  lastModifiedDate: epochMs('When the user last changed'),
  globalId: { type: 'string' },
} as const;

export const userSchema: JsonSchema = {
  title: 'User',
  description: 'A PX user as PX answers it.',
  type: 'object',
  required: ['identifyId'],
  properties: { identifyId: { type: 'string' }, ...userFields, ...readOnlyUserFields, ...ANSWERED_LOCATIONS },
};

export const usersPageSchema: JsonSchema = {
  title: 'UsersPage',
  description: 'One page of users. Ask for the next one with `scrollId`; the last page is shorter than pageSize.',
  type: 'object',
  properties: {
    users: { type: 'array', items: userSchema },
    totalHits: { type: 'integer', description: 'How many users match the filters.' },
    scrollId: answeredScrollId,
  },
};

/** The account fields a caller may set. */
const accountFields = {
  name: { type: 'string', minLength: 1 },
  trackedSubscriptionId: { type: 'string' },
  sfdcId: { type: 'string' },
  lastSeenDate: epochMs('When a user of the account was last seen'),
  dunsNumber: { type: 'string' },
  industry: { type: 'string' },
  numberOfEmployees: { type: 'integer', minimum: 0 },
  sicCode: { type: 'string' },
  website: { type: 'string' },
  naicsCode: { type: 'string' },
  plan: { type: 'string' },
  location,
  propertyKeys,
  customAttributes,
  parentGroupId: { type: 'string', description: 'Groups accounts together.' },
  renewalDate: epochMs('When the account renews'),
  healthScore: { type: 'integer' },
  gsId: { type: 'string' },
  nps: { type: 'number' },
  csm: { type: 'string' },
} as const;

export const newAccountSchema = {
  title: 'NewAccount',
  description: 'A PX account to create.',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name'],
  properties: { id: accountIdSchema, ...accountFields },
  examples: [{ id: 'acme', name: 'Acme Corp', plan: 'enterprise', propertyKeys: ['AP-TEST-1'] }],
} as const;

export const accountChangesSchema = {
  title: 'AccountChanges',
  description: 'The account fields to change; fields left out keep their value.',
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: accountFields,
  examples: [{ plan: 'enterprise', healthScore: 80 }],
} as const;

export const accountSchema: JsonSchema = {
  title: 'Account',
  description: 'A PX account as PX answers it.',
  type: 'object',
  required: ['id'],
  properties: {
    id: { type: 'string' },
    ...accountFields,
    ...ANSWERED_LOCATIONS,
    numberOfUsers: { type: 'integer' },
    createDate: epochMs('When PX created the account'),
    lastModifiedDate: epochMs('When the account last changed'),
  },
};

export const accountsPageSchema: JsonSchema = {
  title: 'AccountsPage',
  description: 'One page of accounts. Ask for the next one with `scrollId`; the last page is shorter than pageSize.',
  type: 'object',
  properties: {
    accounts: { type: 'array', items: accountSchema },
    totalHits: { type: 'integer', description: 'How many accounts match the filters.' },
    scrollId: answeredScrollId,
  },
};

/** The paging inputs both lists take (query parameters, as PX reads them). */
export const pagingProperties = {
  filter: {
    type: 'array',
    maxItems: 20,
    items: { type: 'string', minLength: 1, maxLength: 1024 },
    description: 'Filters, each `field==value` (e.g. `email==ada@example.com`); case-insensitive. Repeat for several.',
  },
  pageSize: { type: 'integer', minimum: 1, maximum: 1000, description: 'Records per page, 1 to 1000 (PX default 25).' },
  scrollId: { type: 'string', minLength: 1, maxLength: 4096, description: 'The scrollId of the previous page, to get the next one.' },
  sort: { type: 'string', minLength: 1, maxLength: 200, description: 'A field to sort by; `-field` sorts descending.' },
} as const;
