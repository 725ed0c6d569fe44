import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/** What a batch body may hold; each limit is enforced while the body streams in, before anything past it is parsed. */
export interface BatchLimits {
  /** Items per batch: reading stops at the first item past it. */
  readonly maxItems: number;
  /** Bytes of one item (one NDJSON line, one array element): reading stops inside the first item past it. */
  readonly maxItemBytes: number;
  /** Decoded bytes of the whole body (BODY_LIMIT). */
  readonly maxBodyBytes: number;
}

/** An NDJSON line that is not JSON: that item's own error, the others go on. */
export class UnreadableItem {
  constructor(readonly detail: string) {}
}

/** Why the body as a whole was refused; `pointer` names the place (`/events`, `/3`) when there is one. */
export interface BatchBodyRefusal {
  readonly status: 400 | 413 | 415;
  readonly type: 'invalid-input' | 'malformed-json' | 'malformed-body' | 'payload-too-large' | 'unsupported-media-type';
  readonly title: string;
  readonly detail: string;
  readonly pointer?: string;
}

export type BatchBody = { readonly ok: true; readonly items: readonly unknown[] } | ({ readonly ok: false } & BatchBodyRefusal);

export type BatchFormat = 'json' | 'ndjson';

/**
 * Reads a batch body as it streams (decompressing gzip, deflate or br on the way): `{"<itemsName>": [...]}` or one
 * item per line. Each item is parsed on its own as soon as it is complete; the first item past `maxItems`, an item
 * over `maxItemBytes` or a body over `maxBodyBytes` stops the reading at once, so a small compressed body that
 * expands to millions of items costs no more than the first `maxItems + 1` of them.
 */
export function readBatchBody(request: IncomingMessage, format: BatchFormat, itemsName: string, limits: BatchLimits): Promise<BatchBody> {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
    return Promise.resolve(refused(415, 'unsupported-media-type', 'Unsupported media type', 'Send the batch as UTF-8.'));
  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const decoder = DECODERS[encoding];
  if (encoding !== 'identity' && !decoder)
    return Promise.resolve(
      refused(
        415,
        'unsupported-media-type',
        'Unsupported media type',
        `Content-Encoding "${encoding}" is not supported: send gzip, deflate, br or none.`,
      ),
    );
  const scanner = format === 'ndjson' ? new NdjsonScanner(limits) : new EnvelopeScanner(itemsName, limits);
  return new Promise((resolve) => {
    const inflate: Transform | undefined = decoder?.();
    const source = inflate ? request.pipe(inflate) : request;
    let done = false;
    let decoded = 0;
    const finish = (result: BatchBody): void => {
      if (done) return;
      done = true;
      source.removeAllListeners('data');
      if (inflate) {
        request.unpipe(inflate);
        inflate.destroy();
      }
      // Whatever the client still sends is read and dropped (the answer closes the connection when it refuses early).
      request.resume();
      resolve(result);
    };
    source.on('data', (chunk: Buffer) => {
      if (done) return;
      decoded += chunk.length;
      if (decoded > limits.maxBodyBytes)
        return finish(
          refused(
            413,
            'payload-too-large',
            'Payload too large',
            `The request body is larger than the ${limits.maxBodyBytes} bytes this gateway accepts (BODY_LIMIT), decompressed.`,
          ),
        );
      const stop = scanner.push(chunk);
      if (stop) finish(stop);
    });
    source.on('end', () => finish(scanner.end()));
    source.on('error', () =>
      finish(
        refused(
          400,
          'malformed-body',
          'Malformed body',
          `The request body does not decode as its Content-Encoding (${encoding}) says. Send it compressed correctly, or uncompressed.`,
        ),
      ),
    );
    request.on('aborted', () => finish(refused(400, 'malformed-body', 'Bad request', 'The request body was incomplete.')));
  });
}

const DECODERS: Readonly<Record<string, () => Transform>> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

function refused(
  status: BatchBodyRefusal['status'],
  type: BatchBodyRefusal['type'],
  title: string,
  detail: string,
  pointer?: string,
): BatchBody {
  return { ok: false, status, type, title, detail, ...(pointer !== undefined ? { pointer } : {}) };
}

interface Scanner {
  /** Takes the next decoded bytes; a refusal stops the reading. */
  push(chunk: Buffer): BatchBody | undefined;
  end(): BatchBody;
}

const NEWLINE = 0x0a;
const isSpace = (byte: number): boolean => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

function tooManyItems(maxItems: number, pointer: string): BatchBody {
  return refused(
    400,
    'invalid-input',
    'Invalid batch',
    `The batch has more than ${maxItems} items; at most ${maxItems} are accepted at once.`,
    pointer,
  );
}

function itemTooLarge(index: number, maxItemBytes: number, pointer: string): BatchBody {
  return refused(
    413,
    'payload-too-large',
    'Batch item too large',
    `Item ${index} is larger than the ${maxItemBytes} bytes one batch item may have; send it on its own.`,
    pointer,
  );
}

/** One JSON value per non-blank line; a line that is not JSON becomes that item's UnreadableItem. */
class NdjsonScanner implements Scanner {
  private readonly items: unknown[] = [];
  private line: Buffer[] = [];
  private lineBytes = 0;

  constructor(private readonly limits: BatchLimits) {}

  push(chunk: Buffer): BatchBody | undefined {
    let from = 0;
    while (from < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, from);
      const to = newline === -1 ? chunk.length : newline;
      if (to > from) {
        this.line.push(chunk.subarray(from, to));
        this.lineBytes += to - from;
        if (this.lineBytes > this.limits.maxItemBytes)
          return itemTooLarge(this.items.length, this.limits.maxItemBytes, `/${this.items.length}`);
      }
      if (newline === -1) break;
      const stop = this.endLine();
      if (stop) return stop;
      from = newline + 1;
    }
    return undefined;
  }

  end(): BatchBody {
    return this.endLine() ?? { ok: true, items: this.items };
  }

  private endLine(): BatchBody | undefined {
    const bytes = this.line.length === 1 ? (this.line[0] as Buffer) : Buffer.concat(this.line, this.lineBytes);
    this.line = [];
    this.lineBytes = 0;
    if (bytes.every(isSpace)) return undefined;
    if (this.items.length >= this.limits.maxItems) return tooManyItems(this.limits.maxItems, '');
    try {
      this.items.push(JSON.parse(bytes.toString('utf8')));
    } catch {
      this.items.push(new UnreadableItem('this line is not valid JSON'));
    }
    return undefined;
  }
}

type EnvelopeState =
  | 'start'
  | 'key-or-end'
  | 'key'
  | 'in-key'
  | 'colon'
  | 'value'
  | 'item-or-end'
  | 'item'
  | 'in-item'
  | 'after-value'
  | 'end';

/**
 * `{"<itemsName>": [item, ...]}`, scanned byte by byte for its structure only (the structural characters are
 * ASCII, which never occurs inside a multi-byte UTF-8 sequence); each item's bytes go to JSON.parse on their own.
 */
class EnvelopeScanner implements Scanner {
  private readonly items: unknown[] = [];
  private state: EnvelopeState = 'start';
  private key: Buffer[] = [];
  private keyBytes = 0;
  private item: Buffer[] = [];
  private itemBytes = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private sawItems = false;

  constructor(
    private readonly itemsName: string,
    private readonly limits: BatchLimits,
  ) {}

  push(chunk: Buffer): BatchBody | undefined {
    let itemFrom = this.state === 'in-item' ? 0 : -1;
    let keyFrom = this.state === 'in-key' ? 0 : -1;
    for (let i = 0; i < chunk.length; i += 1) {
      const byte = chunk[i] as number;
      switch (this.state) {
        case 'in-item': {
          if (this.inString) {
            if (this.escaped) this.escaped = false;
            else if (byte === 0x5c) this.escaped = true;
            else if (byte === 0x22) this.inString = false;
            continue;
          }
          if (byte === 0x22) this.inString = true;
          else if (byte === 0x7b || byte === 0x5b) this.depth += 1;
          else if ((byte === 0x7d || byte === 0x5d) && this.depth > 0) this.depth -= 1;
          else if (this.depth === 0 && (byte === 0x2c || byte === 0x5d)) {
            const stop = this.endItem(chunk.subarray(itemFrom, i));
            if (stop) return stop;
            itemFrom = -1;
            this.state = byte === 0x2c ? 'item' : 'after-value';
          }
          continue;
        }
        case 'in-key': {
          if (this.escaped) this.escaped = false;
          else if (byte === 0x5c) this.escaped = true;
          else if (byte === 0x22) {
            this.key.push(chunk.subarray(keyFrom, i + 1));
            keyFrom = -1;
            this.state = 'colon';
          }
          continue;
        }
      }
      if (isSpace(byte)) continue;
      switch (this.state) {
        case 'start':
          if (byte !== 0x7b) return this.notAnObject();
          this.state = 'key-or-end';
          break;
        case 'key-or-end':
        case 'key':
          if (byte === 0x7d && this.state === 'key-or-end') this.state = 'end';
          else if (byte === 0x22) {
            this.state = 'in-key';
            this.key = [];
            keyFrom = i;
          } else return malformed();
          break;
        case 'colon':
          if (byte !== 0x3a) return malformed();
          this.state = 'value';
          break;
        case 'value': {
          const name = this.keyName();
          if (name === undefined) return malformed();
          if (name !== this.itemsName)
            return this.envelopeError(`Unknown property ${JSON.stringify(name)}: the body holds only "${this.itemsName}".`);
          if (this.sawItems) return this.envelopeError(`"${this.itemsName}" appears twice.`);
          if (byte !== 0x5b) return this.envelopeError(`"${this.itemsName}" must be an array of items.`);
          this.sawItems = true;
          this.state = 'item-or-end';
          break;
        }
        case 'item-or-end':
        case 'item':
          if (byte === 0x5d && this.state === 'item-or-end') {
            this.state = 'after-value';
            break;
          }
          if (byte === 0x5d || byte === 0x2c) return malformed();
          if (this.items.length >= this.limits.maxItems) return tooManyItems(this.limits.maxItems, `/${this.itemsName}`);
          this.state = 'in-item';
          this.item = [];
          this.itemBytes = 0;
          this.depth = 0;
          this.inString = false;
          this.escaped = false;
          itemFrom = i;
          i -= 1; // the item's first byte is scanned as part of it
          break;
        case 'after-value':
          if (byte === 0x2c) this.state = 'key';
          else if (byte === 0x7d) this.state = 'end';
          else return malformed();
          break;
        case 'end':
          return malformed();
      }
    }
    if (this.state === 'in-item' && itemFrom !== -1) return this.addToItem(chunk.subarray(itemFrom));
    if (this.state === 'in-key' && keyFrom !== -1) {
      this.key.push(chunk.subarray(keyFrom));
      this.keyBytes += chunk.length - keyFrom;
      if (this.keyBytes > MAX_KEY_BYTES) return this.envelopeError(`The body holds only "${this.itemsName}".`);
    }
    return undefined;
  }

  end(): BatchBody {
    if (this.state === 'start') return this.notAnObject();
    if (this.state !== 'end') return malformed('the body ends before the JSON does');
    if (!this.sawItems) return this.envelopeError(`"${this.itemsName}" must be an array of items.`);
    return { ok: true, items: this.items };
  }

  private addToItem(bytes: Buffer): BatchBody | undefined {
    this.item.push(bytes);
    this.itemBytes += bytes.length;
    if (this.itemBytes > this.limits.maxItemBytes)
      return itemTooLarge(this.items.length, this.limits.maxItemBytes, `/${this.itemsName}/${this.items.length}`);
    return undefined;
  }

  private endItem(last: Buffer): BatchBody | undefined {
    const stop = this.addToItem(last);
    if (stop) return stop;
    const bytes = this.item.length === 1 ? (this.item[0] as Buffer) : Buffer.concat(this.item, this.itemBytes);
    this.item = [];
    try {
      this.items.push(JSON.parse(bytes.toString('utf8')));
    } catch {
      return malformed(`item ${this.items.length} is not valid JSON`);
    }
    return undefined;
  }

  private keyName(): string | undefined {
    try {
      const name: unknown = JSON.parse(Buffer.concat(this.key).toString('utf8'));
      return typeof name === 'string' ? name : undefined;
    } catch {
      return undefined;
    }
  }

  private notAnObject(): BatchBody {
    return this.envelopeError(`The body must be an object {"${this.itemsName}": [...]}.`);
  }

  private envelopeError(detail: string): BatchBody {
    return refused(400, 'invalid-input', 'Invalid batch', detail, `/${this.itemsName}`);
  }
}

/** A property name longer than this is not the items' name. */
const MAX_KEY_BYTES = 1024;

function malformed(why?: string): BatchBody {
  return refused(400, 'malformed-json', 'Malformed JSON', `The request body is not valid JSON${why ? ` (${why})` : ''}.`);
}
