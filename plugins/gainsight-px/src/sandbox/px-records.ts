import type { IncomingMessage, ServerResponse } from 'node:http';
import { USER_TYPES } from '../custom-event-schema.ts';
import { GENDERS } from '../user-account-schemas.ts';
import type { SubError } from './px-validation.ts';

/** What a record route needs from the sandbox: its auth check, body reader and PX-shaped answers. */
export interface RecordContext {
  authorise(request: IncomingMessage, response: ServerResponse, write: boolean): boolean;
  readJson(request: IncomingMessage, response: ServerResponse, then: (body: unknown) => void): void;
  sendError(response: ServerResponse, status: number, code: string, message: string, subErrors?: SubError[]): void;
  sendJson(response: ServerResponse, status: number, body: unknown): void;
}

export type StoredRecord = Record<string, unknown>;

interface Kind {
  /** `users` or `accounts`, as in the path and the page's list property. */
  readonly plural: 'users' | 'accounts';
  readonly noun: 'User' | 'Account';
  /** The id field: `identifyId` or `id`. */
  readonly idField: string;
  readonly required: readonly string[];
  readonly violations: (record: StoredRecord) => SubError[];
}

const USER: Kind = {
  plural: 'users',
  noun: 'User',
  idField: 'identifyId',
  required: ['identifyId', 'propertyKeys'],
  violations: (record) => [
    ...enumViolation(record, 'type', USER_TYPES),
    ...enumViolation(record, 'gender', GENDERS),
    ...integerViolations(record, ['signUpDate', 'firstVisitDate', 'score']),
  ],
};

const ACCOUNT: Kind = {
  plural: 'accounts',
  noun: 'Account',
  idField: 'id',
  required: ['id', 'name', 'propertyKeys'],
  violations: (record) => integerViolations(record, ['lastSeenDate', 'numberOfEmployees', 'renewalDate', 'healthScore']),
};

/** Fields PX computes; a caller's values for them are ignored. */
const READ_ONLY = ['aptrinsicId', 'lastSeenDate', 'numberOfVisits', 'createDate', 'lastModifiedDate', 'numberOfUsers', 'globalId'];

/** PX's users and accounts, in memory: create 201, update 204, delete 204, unknown id 404, PX's 400 error shape. */
export function recordRoutes(context: RecordContext) {
  const users = new Map<string, StoredRecord>();
  const accounts = new Map<string, StoredRecord>();
  const softDeletedUsers = new Map<string, StoredRecord>();
  const storeOf = (kind: Kind) => (kind === USER ? users : accounts);

  /** Serves `/v1/users…` and `/v1/accounts…`; false for any other path. */
  const handle = (request: IncomingMessage, response: ServerResponse, url: URL): boolean => {
    const match = /^\/v1\/(users|accounts)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!match) return false;
    const kind = match[1] === 'users' ? USER : ACCOUNT;
    route(kind, match[2] === undefined ? undefined : decodeSegment(match[2]), request, response, url);
    return true;
  };

  const route = (kind: Kind, segment: string | undefined, request: IncomingMessage, response: ServerResponse, url: URL): void => {
    const method = request.method ?? 'GET';
    if (segment === undefined) {
      if (method === 'GET') return list(kind, request, response, url);
      if (method === 'POST') return create(kind, request, response);
    } else if (segment === 'update' && method === 'PUT') {
      return byBodyId(kind, request, response, (id, body) => update(kind, response, id, body));
    } else if (segment === 'delete' && method === 'DELETE' && kind === USER) {
      return byBodyId(kind, request, response, (id) => remove(kind, response, id, url));
    } else if (method === 'GET') {
      return get(kind, request, response, segment);
    } else if (method === 'PUT') {
      return withBody(request, response, true, (body) => update(kind, response, segment, body));
    } else if (method === 'DELETE') {
      if (context.authorise(request, response, true)) remove(kind, response, segment, url);
      return;
    }
    response.setHeader('allow', segment === undefined ? 'GET, POST' : 'GET, PUT, DELETE');
    context.sendError(response, 405, 'METHOD_NOT_ALLOWED', `Request method '${method}' not supported`);
  };

  const withBody = (request: IncomingMessage, response: ServerResponse, write: boolean, then: (body: StoredRecord) => void): void => {
    if (!context.authorise(request, response, write)) return;
    context.readJson(request, response, (body) => {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return context.sendError(response, 400, 'BAD_REQUEST', 'Malformed JSON request');
      }
      then(body as StoredRecord);
    });
  };

  const byBodyId = (kind: Kind, request: IncomingMessage, response: ServerResponse, then: (id: string, body: StoredRecord) => void): void =>
    withBody(request, response, true, (body) => {
      const id = body[kind.idField];
      if (typeof id !== 'string' || id === '') {
        return context.sendError(response, 400, 'BAD_REQUEST', 'Validation error', [
          { field: kind.idField, rejectedValue: id ?? null, message: 'must not be null' },
        ]);
      }
      then(id, body);
    });

  const notFound = (kind: Kind, response: ServerResponse, id: string) =>
    context.sendError(response, 404, 'NOT_FOUND', `${kind.noun} was not found for parameters {id=${id}}`);

  const get = (kind: Kind, request: IncomingMessage, response: ServerResponse, id: string): void => {
    if (!context.authorise(request, response, false)) return;
    const record = storeOf(kind).get(id);
    if (!record) return notFound(kind, response, id);
    context.sendJson(response, 200, record);
  };

  const create = (kind: Kind, request: IncomingMessage, response: ServerResponse): void =>
    withBody(request, response, true, (body) => {
      const violations = [...requiredViolations(body, kind.required), ...kind.violations(body)];
      if (violations.length > 0) return context.sendError(response, 400, 'BAD_REQUEST', 'Validation error', violations);
      const id = body[kind.idField] as string;
      if (storeOf(kind).has(id))
        return context.sendError(
          response,
          400,
          'BAD_REQUEST',
          `${kind.noun} with ${kind.idField} ${id} already exists (possible duplicate)`,
        );
      const now = Date.now();
      const record: StoredRecord = { ...withoutReadOnly(body), createDate: now, lastModifiedDate: now };
      if (kind === USER) Object.assign(record, { id, aptrinsicId: `sandbox-${users.size + 1}`, numberOfVisits: 0 });
      storeOf(kind).set(id, record);
      softDeletedUsers.delete(id);
      response.writeHead(201);
      response.end();
    });

  const update = (kind: Kind, response: ServerResponse, id: string, body: StoredRecord): void => {
    const record = storeOf(kind).get(id);
    if (!record) return notFound(kind, response, id);
    const violations = kind.violations(body);
    if (violations.length > 0) return context.sendError(response, 400, 'BAD_REQUEST', 'Validation error', violations);
    // The id is the record's key: a body naming another id does not move the record.
    storeOf(kind).set(id, { ...record, ...withoutReadOnly(body), [kind.idField]: id, lastModifiedDate: Date.now() });
    response.writeHead(204);
    response.end();
  };

  const remove = (kind: Kind, response: ServerResponse, id: string, url: URL): void => {
    const record = storeOf(kind).get(id);
    if (!record) return notFound(kind, response, id);
    storeOf(kind).delete(id);
    if (kind === USER && url.searchParams.get('hardDelete') !== 'true') softDeletedUsers.set(id, record);
    if (kind === ACCOUNT) {
      // Deleting an account deletes its users, as PX does.
      for (const [userId, user] of users) if (user.accountId === id) users.delete(userId);
    }
    response.writeHead(204);
    response.end();
  };

  const list = (kind: Kind, request: IncomingMessage, response: ServerResponse, url: URL): void => {
    if (!context.authorise(request, response, false)) return;
    const query = url.searchParams;
    const pageSize = Number(query.get('pageSize') ?? 25);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      return context.sendError(response, 400, 'BAD_REQUEST', 'pageSize must be an integer from 1 to 1000');
    }
    const filters: [string, string][] = [];
    for (const filter of query.getAll('filter')) {
      for (const clause of filter.split(';')) {
        const [field, value] = clause.split('==');
        if (!field || value === undefined)
          return context.sendError(response, 400, 'BAD_REQUEST', `filter "${clause}" must be field==value`);
        filters.push([field.trim(), value.trim().toLowerCase()]);
      }
    }
    const matching = [...storeOf(kind).values()].filter((record) =>
      filters.every(([field, value]) => String(record[field] ?? '').toLowerCase() === value),
    );
    const sort = query.get('sort');
    if (sort) {
      const descending = sort.startsWith('-') || sort.endsWith(',desc');
      const field = sort.replace(/^-/, '').replace(/,(asc|desc)$/, '');
      matching.sort((a, b) => compare(a[field], b[field]) * (descending ? -1 : 1));
    }
    const scrollId = query.get('scrollId');
    const offset = scrollId ? Number(Buffer.from(scrollId, 'base64url').toString()) : 0;
    if (!Number.isSafeInteger(offset) || offset < 0)
      return context.sendError(response, 400, 'BAD_REQUEST', 'scrollId is not one this server handed out');
    const page = matching.slice(offset, offset + pageSize);
    const next = offset + page.length;
    context.sendJson(response, 200, {
      [kind.plural]: page,
      totalHits: matching.length,
      scrollId: next < matching.length ? Buffer.from(String(next)).toString('base64url') : null,
    });
  };

  return {
    handle,
    users: users as ReadonlyMap<string, StoredRecord>,
    accounts: accounts as ReadonlyMap<string, StoredRecord>,
    clear: () => {
      users.clear();
      accounts.clear();
      softDeletedUsers.clear();
    },
  };
}

/** A path segment as PX reads it; an undecodable one stays as it came. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a ?? '').localeCompare(String(b ?? ''));
}

function withoutReadOnly(body: StoredRecord): StoredRecord {
  return Object.fromEntries(Object.entries(body).filter(([field]) => !READ_ONLY.includes(field)));
}

function requiredViolations(body: StoredRecord, required: readonly string[]): SubError[] {
  return required.flatMap((field) => {
    const value = body[field];
    const missing = value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);
    return missing ? [{ field, rejectedValue: value ?? null, message: 'must not be empty' }] : [];
  });
}

function enumViolation(body: StoredRecord, field: string, allowed: readonly string[]): SubError[] {
  const value = body[field];
  if (value === undefined || value === null || allowed.includes(value as string)) return [];
  return [{ field, rejectedValue: value, message: `must be one of ${allowed.join(', ')}` }];
}

function integerViolations(body: StoredRecord, fields: readonly string[]): SubError[] {
  return fields.flatMap((field) => {
    const value = body[field];
    return value === undefined || value === null || Number.isInteger(value)
      ? []
      : [{ field, rejectedValue: value, message: 'must be an integer' }];
  });
}
