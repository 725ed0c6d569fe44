import type { JsonSchema } from '@gateway/core';
import { DELIVERY_STATUSES } from './delivery-store.ts';

/** JSON Schemas of what the delivery routes and tools answer: one definition for OpenAPI and MCP alike. */

export const DELIVERY_ACCEPTED_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'The request is committed to the delivery queue; follow `Location` (or the id) for its status.',
  properties: {
    id: { type: 'string', description: 'The delivery id.' },
    status: { type: 'string', enum: ['queued'] },
  },
  required: ['id', 'status'],
  additionalProperties: false,
};

const ITEM_ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    pointer: { type: 'string', description: 'JSON pointer into the item ("" for the item itself).' },
    detail: { type: 'string' },
  },
  required: ['pointer', 'detail'],
  additionalProperties: false,
};

export const BATCH_ACCEPTED_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'Valid items are queued (in one transaction); each invalid one is listed with its problems and nothing of it is kept.',
  properties: {
    accepted: { type: 'integer', minimum: 0 },
    rejected: { type: 'integer', minimum: 0 },
    results: {
      type: 'array',
      description:
        'In order: every accepted item with its delivery id, and rejected items with their errors until 20 problems are listed in all (the rest are counted in `omittedErrors`).',
      items: {
        type: 'object',
        properties: {
          index: { type: 'integer', minimum: 0 },
          id: { type: 'string' },
          errors: { type: 'array', items: ITEM_ERROR_SCHEMA },
        },
        required: ['index'],
        additionalProperties: false,
      },
    },
    omittedErrors: {
      type: 'integer',
      minimum: 1,
      description: 'How many problems of rejected items are not listed; their items are left out of `results`.',
    },
  },
  required: ['accepted', 'rejected', 'results'],
  additionalProperties: false,
};

export const DELIVERY_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'A queued delivery and where it stands.',
  properties: {
    id: { type: 'string' },
    operation: { type: 'string', description: 'plugin.operation, e.g. gainsight-px.sendCustomEvent.' },
    plugin: { type: 'string', description: 'The plugin id, e.g. gainsight-px.' },
    status: {
      type: 'string',
      enum: [...DELIVERY_STATUSES],
      description:
        'queued (waiting, or waiting for a retry), delivering (an attempt is in flight), delivered, dead (rejected by the upstream or out of retry window).',
    },
    attempts: { type: 'integer', minimum: 0 },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    nextAttemptAt: { type: 'string', format: 'date-time' },
    deliveredAt: { type: 'string', format: 'date-time' },
    lastError: {
      type: 'object',
      description: 'Why the latest attempt did not deliver.',
      properties: {
        status: { type: 'integer', description: 'The upstream HTTP status; absent for a transport failure.' },
        type: {
          type: 'string',
          description: 'The failure kind, e.g. upstream-rejected-input, upstream-unreachable, retry-window-exhausted.',
        },
        detail: { type: 'string' },
      },
      required: ['type', 'detail'],
      additionalProperties: false,
    },
    summary: {
      type: 'object',
      description:
        'What the delivery is, kept for its whole life (the stored request is dropped once delivered): the fields the operation picks (for a PX custom event eventName, identifyId, accountId), and the stored request size.',
      properties: {
        eventName: { type: 'string' },
        identifyId: { type: 'string' },
        accountId: { type: 'string' },
        bytes: {
          type: 'integer',
          minimum: 0,
          description: 'Size of the stored request in bytes (what DELIVERY_MAX_BYTES_PER_CLIENT counts).',
        },
      },
      required: ['bytes'],
      additionalProperties: false,
    },
    traceId: { type: 'string', pattern: '^[0-9a-f]{32}$', description: 'The trace id of the request that queued it, when traced.' },
  },
  required: ['id', 'operation', 'plugin', 'status', 'attempts', 'createdAt', 'updatedAt', 'summary'],
  additionalProperties: false,
};

export const DELIVERY_PAGE_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    items: { type: 'array', items: DELIVERY_SCHEMA },
    nextCursor: { type: 'string', description: 'Pass as `cursor` for the next page; absent on the last page.' },
  },
  required: ['items'],
  additionalProperties: false,
};
