import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, STATUS_CODES, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { RunningSandbox, SandboxFactory, SandboxOptions } from '@gateway/core';
import { recordRoutes, type StoredRecord } from './px-records.ts';
import { pxSchemaViolations, type SubError } from './px-validation.ts';
import { describeFaults } from './sandbox-settings.ts';

export const PX_KEY_HEADER = 'x-aptrinsic-api-key';
const EVENTS_PATH = '/v1/events/custom';
const MAX_BODY_BYTES = 1024 * 1024;

/** One scripted answer, taken in order before the random faults apply. */
export type ScriptedFault = { readonly status: number; readonly body?: string } | { readonly drop: true } | { readonly delayMs: number };

export interface PxSandboxOptions extends SandboxOptions {
  /** Keys with write permission. */
  readonly apiKeys?: readonly string[];
  /** Keys that may only read (POST answers 403). */
  readonly readOnlyKeys?: readonly string[];
  /** Requests per second before 429 (PX allows about 200). 0 turns the limit off. */
  readonly ratePerSecond?: number;
  readonly faults?: {
    /** Share (0..1) of POSTs that fail with one of `statuses`. */
    readonly errorRate?: number;
    readonly statuses?: readonly number[];
    /** Share (0..1) of POSTs whose connection is dropped without an answer. */
    readonly dropRate?: number;
    /** Delay before every answer. */
    readonly delayMs?: number;
  };
  /** Oldest events are forgotten past this many. */
  readonly maxStoredEvents?: number;
}

export interface StoredEvent {
  readonly [field: string]: unknown;
}

export interface RunningPxSandbox extends RunningSandbox {
  readonly events: readonly StoredEvent[];
  /** Every POST to the events path, valid or not, with the headers PX would see. */
  readonly requests: readonly { readonly headers: IncomingMessage['headers']; readonly body: string }[];
  /** PX users by identifyId and accounts by id, as created and updated through the sandbox. */
  readonly users: ReadonlyMap<string, StoredRecord>;
  readonly accounts: ReadonlyMap<string, StoredRecord>;
  script(...faults: ScriptedFault[]): void;
  clear(): void;
}

export async function startPxSandbox(options: PxSandboxOptions = {}): Promise<RunningPxSandbox> {
  const writeKeys = new Set(options.apiKeys?.length ? options.apiKeys : [`sandbox-${randomBytes(12).toString('hex')}`]);
  const readKeys = new Set(options.readOnlyKeys ?? []);
  const ratePerSecond = options.ratePerSecond ?? 200;
  const faults = options.faults ?? {};
  const maxStored = options.maxStoredEvents ?? 10_000;
  const events: StoredEvent[] = [];
  const requests: { headers: IncomingMessage['headers']; body: string }[] = [];
  const scripted: ScriptedFault[] = [];
  let window = { second: 0, count: 0 };

  /** Keeps at most `maxStored` entries (0 keeps none), dropping the oldest. */
  const forgetOldest = (list: unknown[]): void => {
    if (list.length > maxStored) list.splice(0, list.length - Math.max(0, maxStored));
  };

  const overRate = (): boolean => {
    if (ratePerSecond <= 0) return false;
    const second = Math.floor(Date.now() / 1000);
    if (window.second !== second) window = { second, count: 0 };
    window.count += 1;
    return window.count > ratePerSecond;
  };

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const url = new URL(request.url ?? '/', 'http://sandbox');
    if (records.handle(request, response, url)) return;
    if (url.pathname !== EVENTS_PATH) {
      return sendError(response, 404, 'NOT_FOUND', `No handler found for ${request.method} ${url.pathname}`);
    }
    if (request.method === 'GET') return readEvents(request, response, url);
    if (request.method !== 'POST') {
      response.setHeader('allow', 'GET, POST');
      return sendError(response, 405, 'METHOD_NOT_ALLOWED', `Request method '${request.method}' not supported`);
    }
    readBody(request, response, (body) => {
      requests.push({ headers: request.headers, body });
      forgetOldest(requests);
      const fault = scripted.shift() ?? randomFault();
      const delayMs = fault && 'delayMs' in fault ? fault.delayMs : (faults.delayMs ?? 0);
      const answer = () => {
        if (fault && 'drop' in fault) return request.socket.destroy();
        if (fault && 'status' in fault) {
          response.writeHead(fault.status, { 'content-type': 'application/json' });
          return response.end(fault.body ?? JSON.stringify(apiError(statusCode(fault.status), 'Injected fault')));
        }
        acceptEvent(request, response, body);
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  };

  const randomFault = (): ScriptedFault | undefined => {
    if (faults.dropRate && Math.random() < faults.dropRate) return { drop: true };
    if (faults.errorRate && Math.random() < faults.errorRate) {
      const statuses = faults.statuses?.length ? faults.statuses : [500, 502, 503];
      return { status: statuses[Math.floor(Math.random() * statuses.length)] ?? 500 };
    }
    return undefined;
  };

  const authorise = (request: IncomingMessage, response: ServerResponse, write: boolean): boolean => {
    const key = request.headers[PX_KEY_HEADER];
    if (typeof key !== 'string' || !(writeKeys.has(key) || readKeys.has(key))) {
      sendError(response, 401, 'UNAUTHORIZED', 'Missing or invalid API key');
      return false;
    }
    if (write && !writeKeys.has(key)) {
      sendError(response, 403, 'FORBIDDEN', 'API key has no write permission');
      return false;
    }
    return true;
  };

  const acceptEvent = (request: IncomingMessage, response: ServerResponse, body: string): void => {
    if (!authorise(request, response, true)) return;
    if (overRate()) {
      response.writeHead(429);
      return void response.end();
    }
    if (!/^application\/(.+\+)?json\b/i.test(request.headers['content-type'] ?? '')) {
      return sendError(response, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content type must be application/json');
    }
    let event: unknown;
    try {
      event = JSON.parse(body);
    } catch {
      return sendError(response, 400, 'BAD_REQUEST', 'Malformed JSON request');
    }
    const violations = pxSchemaViolations(event);
    if (violations.length > 0) return sendError(response, 400, 'BAD_REQUEST', 'Validation error', violations);
    const record = event as Record<string, unknown>;
    events.push({ ...record, date: record.date ?? Date.now() });
    forgetOldest(events);
    response.writeHead(201);
    response.end();
  };

  const readEvents = (request: IncomingMessage, response: ServerResponse, url: URL): void => {
    if (!authorise(request, response, false)) return;
    const query = url.searchParams;
    const pageSize = Number(query.get('pageSize') ?? 25);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      return sendError(response, 400, 'BAD_REQUEST', 'pageSize must be an integer from 1 to 1000');
    }
    const filters = parseFilter(query);
    const start = Number(query.get('dateRangeStart') ?? Number.NEGATIVE_INFINITY);
    const end = Number(query.get('dateRangeEnd') ?? Number.POSITIVE_INFINITY);
    const matching = events.filter(
      (event) =>
        Number(event.date) >= start && Number(event.date) <= end && filters.every(([field, value]) => String(event[field]) === value),
    );
    const descending = parseSort(query.get('sort'));
    if (descending === undefined) {
      return sendError(response, 400, 'BAD_REQUEST', 'sort must be date, date,asc, date,desc or -date');
    }
    // By event date (not arrival order); equal dates keep arrival order, reversed when descending.
    const ordered = matching
      .map((event, index) => ({ event, index }))
      .sort((a, b) => Number(a.event.date) - Number(b.event.date) || a.index - b.index)
      .map(({ event }) => event);
    if (descending) ordered.reverse();
    const scrollId = query.get('scrollId');
    const offset = scrollId ? Number(Buffer.from(scrollId, 'base64url').toString()) : 0;
    if (!Number.isSafeInteger(offset) || offset < 0) {
      return sendError(response, 400, 'BAD_REQUEST', 'scrollId is not one this server handed out');
    }
    const page = ordered.slice(offset, offset + pageSize);
    const next = offset + page.length;
    sendJson(response, 200, {
      customEvents: page,
      totalHits: matching.length,
      ...(next < matching.length ? { scrollId: Buffer.from(String(next)).toString('base64url') } : {}),
    });
  };

  const records = recordRoutes({
    authorise,
    sendError,
    sendJson,
    readJson: (request, response, then) =>
      readBody(request, response, (body) => {
        if (!/^application\/(.+\+)?json\b/i.test(request.headers['content-type'] ?? '')) {
          return sendError(response, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content type must be application/json');
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          return sendError(response, 400, 'BAD_REQUEST', 'Malformed JSON request');
        }
        then(parsed);
      }),
  });

  const server = createServer(handle);
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { port, address, family } = server.address() as AddressInfo;
  const host = family === 'IPv6' ? `[${address}]` : address;

  return {
    baseUrl: `http://${host}:${port}/v1`,
    apiKey: [...writeKeys][0] as string,
    readRoutes: [EVENTS_PATH],
    ...(describeFaults(options) !== 'none' ? { notice: `injected faults: ${describeFaults(options)}` } : {}),
    events,
    requests,
    users: records.users,
    accounts: records.accounts,
    handle,
    script: (...steps) => void scripted.push(...steps),
    clear: () => {
      events.length = 0;
      requests.length = 0;
      records.clear();
      scripted.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** `sort=date` / `date,asc` (oldest first) or `-date` / `date,desc` (newest first, the default); undefined when unknown. */
function parseSort(sort: string | null): boolean | undefined {
  if (sort === null || sort === '' || sort === '-date' || sort === 'date,desc') return true;
  if (sort === 'date' || sort === 'date,asc') return false;
  return undefined;
}

/** `INTERNAL_SERVER_ERROR` for 500, `SERVICE_UNAVAILABLE` for 503: the status names PX's error bodies carry. */
function statusCode(status: number): string {
  return (STATUS_CODES[status] ?? 'Error').toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/** `filter=eventName==Signup;identifyId==u-1`, or the fields as plain query parameters. */
function parseFilter(query: URLSearchParams): [string, string][] {
  const pairs: [string, string][] = [];
  for (const clause of (query.get('filter') ?? '').split(';')) {
    const [field, value] = clause.split('==');
    if (field && value !== undefined) pairs.push([field.trim(), value.trim()]);
  }
  for (const field of ['identifyId', 'eventName', 'accountId']) {
    const value = query.get(field);
    if (value !== null) pairs.push([field, value]);
  }
  return pairs;
}

function readBody(request: IncomingMessage, response: ServerResponse, then: (body: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  request.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  });
  request.on('end', () => {
    if (size > MAX_BODY_BYTES) return sendError(response, 413, 'PAYLOAD_TOO_LARGE', 'Request body too large');
    then(Buffer.concat(chunks).toString('utf8'));
  });
}

function apiError(code: string, message: string, subErrors: SubError[] = []) {
  return { externalapierror: { status: code, message, debugMessage: null, subErrors } };
}

function sendError(response: ServerResponse, status: number, code: string, message: string, subErrors?: SubError[]): void {
  sendJson(response, status, apiError(code, message, subErrors));
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

export const pxSandbox: SandboxFactory = { start: (options) => startPxSandbox(options) };
