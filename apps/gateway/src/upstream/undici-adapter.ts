import zlib from 'node:zlib';
import axios, {
  type AxiosAdapter,
  AxiosError,
  AxiosHeaders,
  type AxiosResponse,
  CanceledError,
  type InternalAxiosRequestConfig,
} from 'axios';
import type { Dispatcher } from 'undici';

// What axios's http adapter advertises on Node 20 (zstd needs a newer Node).
const ACCEPT_ENCODING = 'gzip, compress, deflate, br';

/**
 * An axios adapter that moves the gateway's upstream calls over an undici dispatcher (keep-alive pools per
 * origin): one HTTP/1.1 exchange, the body a string or Buffer, the answer read as text. It does what axios's
 * `http` adapter does for such a call (User-Agent, Accept-Encoding and transparent decompression, wall-clock
 * `timeout`, `signal`, `validateStatus`, `maxContentLength`, the same error codes) without the per-request
 * work that call never needs (redirect and proxy handling, stream and form bodies, progress events). Any
 * request outside that shape goes to axios's own `http` adapter, unchanged.
 */
export function undiciAdapter(dispatcher: Dispatcher): AxiosAdapter {
  const fallback = axios.getAdapter('http');
  return (config) => (isPlainExchange(config) ? exchange(dispatcher, config) : fallback(config));
}

function isPlainExchange(config: InternalAxiosRequestConfig): boolean {
  const { data } = config;
  return (
    config.proxy === false &&
    !config.maxRedirects &&
    !config.baseURL &&
    isEmpty(config.params) &&
    !config.socketPath &&
    !config.onUploadProgress &&
    !config.onDownloadProgress &&
    !config.maxRate &&
    !config.lookup &&
    !config.family &&
    !config.insecureHTTPParser &&
    (config.responseType === 'text' || config.responseType === undefined) &&
    (data === undefined || data === null || typeof data === 'string' || Buffer.isBuffer(data)) &&
    !config.auth &&
    typeof config.url === 'string' &&
    // http(s) only, and no credentials in the URL (axios turns those into Basic auth).
    /^https?:\/\/[^/?#@]*(?:[/?#]|$)/i.test(config.url)
  );
}

function isEmpty(params: unknown): boolean {
  if (params === undefined || params === null) return true;
  if (typeof params !== 'object') return false;
  for (const _ in params) return false;
  return true;
}

/** An upstream URL split for undici; a gateway calls the same few URLs over and over, so each is parsed once. */
interface Target {
  readonly origin: string;
  readonly path: string;
}
const targets = new Map<string, Target>();
const MAX_TARGETS = 256;

function targetOf(href: string): Target {
  let target = targets.get(href);
  if (!target) {
    const url = new URL(href);
    target = { origin: url.origin, path: url.pathname + url.search };
    if (targets.size >= MAX_TARGETS) targets.clear();
    targets.set(href, target);
  }
  return target;
}

function exchange(dispatcher: Dispatcher, config: InternalAxiosRequestConfig): Promise<AxiosResponse<string>> {
  return new Promise((resolve, reject) => {
    const { origin, path } = targetOf(config.url as string);
    const headers = config.headers;
    if (!headers.has('user-agent')) headers.set('User-Agent', `axios/${axios.VERSION}`, false);
    if (!headers.has('accept-encoding')) headers.set('Accept-Encoding', ACCEPT_ENCODING, false);
    const body = config.data === undefined || config.data === null ? null : (config.data as string | Buffer);
    if (body !== null) headers.set('Content-Length', String(Buffer.byteLength(body)));
    const method = (config.method ?? 'get').toUpperCase();
    const limit = config.maxContentLength ?? -1;

    let settled = false;
    let controller: Dispatcher.DispatchController | undefined;
    let timer: NodeJS.Timeout | undefined;
    const signal = config.signal as AbortSignal | undefined;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const fail = (error: Error): void => {
      if (!finish()) return;
      if (controller && !controller.aborted) controller.abort(error);
      reject(error);
    };
    const onAbort = () => fail(new CanceledError(undefined, config));

    // Deadline and abort first, so that a request refused at dispatch (an invalid header value) leaves neither behind.
    if (signal) {
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
    }
    const timeout = config.timeout ?? 0;
    if (timeout > 0) {
      timer = setTimeout(() => {
        const code = config.transitional?.clarifyTimeoutError ? AxiosError.ETIMEDOUT : AxiosError.ECONNABORTED;
        fail(new AxiosError(config.timeoutErrorMessage ?? `timeout of ${timeout}ms exceeded`, code, config));
      }, timeout);
    }

    let status = 0;
    let statusText = '';
    let responseHeaders: Record<string, string | string[] | undefined> = {};
    const chunks: Buffer[] = [];
    let size = 0;

    dispatcher.dispatch(
      { origin, path, method, headers: headers.toJSON() as Record<string, string>, body },
      {
        onRequestStart(started) {
          controller = started;
          // The deadline passed or the signal fired while the request waited for a connection.
          if (settled) started.abort(new CanceledError(undefined, config));
        },
        onResponseStart(_controller, statusCode, received, message) {
          if (statusCode < 200) return; // 1xx informational: the final answer follows
          status = statusCode;
          statusText = message ?? '';
          responseHeaders = received;
        },
        onResponseData(_controller, chunk) {
          chunks.push(chunk);
          size += chunk.length;
          if (limit > -1 && size > limit)
            fail(new AxiosError(`maxContentLength size of ${limit} exceeded`, AxiosError.ERR_BAD_RESPONSE, config));
        },
        onResponseEnd() {
          if (settled) return;
          const raw = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
          decode(raw, responseHeaders, status, method, config.decompress !== false, (error, decoded) => {
            // zlib's own code (Z_DATA_ERROR, …), as axios's http adapter reports it.
            if (error) return fail(AxiosError.from(error, undefined, config));
            if (!finish()) return;
            let text = decoded.toString((config.responseEncoding as BufferEncoding | undefined) ?? 'utf8');
            if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
            const answer: AxiosResponse<string> = {
              status,
              statusText,
              // As axios's http adapter does; axios then reuses this instance instead of converting twice.
              headers: new AxiosHeaders(responseHeaders as Record<string, string>),
              config,
              request: undefined,
              data: text,
            };
            const validate = config.validateStatus;
            if (!status || !validate || validate(status)) return resolve(answer);
            const code = status >= 500 ? AxiosError.ERR_BAD_RESPONSE : AxiosError.ERR_BAD_REQUEST;
            reject(new AxiosError(`Request failed with status code ${status}`, code, config, undefined, answer));
          });
        },
        onResponseError(_controller, error) {
          fail(AxiosError.from(error, axiosCode(error), config));
        },
      },
    );
  });
}

/** undici's codes for a connection lost mid-exchange, as node:http (and so axios's http adapter) names them. */
function axiosCode(error: Error): string | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
    case 'UND_ERR_DESTROYED':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return 'ECONNRESET';
    case 'UND_ERR_HEADERS_OVERFLOW':
      return 'HPE_HEADER_OVERFLOW';
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return AxiosError.ETIMEDOUT;
    default:
      return code;
  }
}

/** Undoes a Content-Encoding the way axios's http adapter does (and drops the header once decoded). */
function decode(
  raw: Buffer,
  headers: Record<string, string | string[] | undefined>,
  status: number,
  method: string,
  decompress: boolean,
  done: (error: Error | null, body: Buffer) => void,
): void {
  const header = headers['content-encoding'];
  const encoding = (Array.isArray(header) ? header[header.length - 1] : header)?.toLowerCase();
  if (!decompress || !encoding || raw.length === 0 || method === 'HEAD' || status === 204) return done(null, raw);
  const decoded = (error: Error | null, body: Buffer) => {
    if (!error) delete headers['content-encoding'];
    done(error, body);
  };
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
    case 'compress':
    case 'x-compress':
      return zlib.unzip(raw, decoded);
    case 'deflate':
      // A zlib-wrapped stream (0x78 header, as axios checks it) or, as some servers send it, raw deflate.
      return (raw[0] === 0x78 ? zlib.inflate : zlib.inflateRaw)(raw, decoded);
    case 'br':
      return zlib.brotliDecompress(raw, decoded);
    default:
      return done(null, raw);
  }
}
