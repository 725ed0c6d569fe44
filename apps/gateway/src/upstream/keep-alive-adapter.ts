import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';
import axios, { type AxiosAdapter, AxiosError, AxiosHeaders, type AxiosResponse, CanceledError, type InternalAxiosRequestConfig } from 'axios';

// What axios's http adapter advertises on Node 20 (zstd needs a newer Node).
const ACCEPT_ENCODING = 'gzip, compress, deflate, br';

/**
 * An axios adapter for the gateway's upstream calls: one HTTP/1.1 exchange over the instance's keep-alive
 * agents, the body a string or Buffer, the answer read as text. It does what axios's `http` adapter does for
 * such a call (User-Agent, Accept-Encoding and transparent decompression, wall-clock `timeout`, `signal`,
 * `validateStatus`, `maxContentLength`, the same error codes) without the per-request work that call never
 * needs (redirect and proxy handling, stream and form bodies, progress events, HTTP/2 sessions). Any request
 * outside that shape goes to axios's own `http` adapter, unchanged.
 */
export function keepAliveAdapter(): AxiosAdapter {
  const fallback = axios.getAdapter('http');
  return (config) => (isPlainExchange(config) ? exchange(config) : fallback(config));
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

function exchange(config: InternalAxiosRequestConfig): Promise<AxiosResponse<string>> {
  return new Promise((resolve, reject) => {
    const url = new URL(config.url as string);
    const secure = url.protocol === 'https:';
    const headers = config.headers;
    if (!headers.has('user-agent')) headers.set('User-Agent', `axios/${axios.VERSION}`, false);
    if (!headers.has('accept-encoding')) headers.set('Accept-Encoding', ACCEPT_ENCODING, false);
    const body = config.data === undefined || config.data === null ? undefined : (config.data as string | Buffer);
    if (body !== undefined) headers.set('Content-Length', String(Buffer.byteLength(body)));
    const method = (config.method ?? 'get').toUpperCase();

    let settled = false;
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
      request.destroy();
      reject(error);
    };
    const onAbort = () => fail(new CanceledError(undefined, config, request));

    const request = (secure ? https : http).request(
      {
        protocol: url.protocol,
        hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        headers: headers.toJSON() as http.OutgoingHttpHeaders,
        agent: secure ? config.httpsAgent : config.httpAgent,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const limit = config.maxContentLength ?? -1;
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          if (limit > -1 && size > limit) {
            fail(new AxiosError(`maxContentLength size of ${limit} exceeded`, AxiosError.ERR_BAD_RESPONSE, config, request));
          }
        });
        response.on('aborted', () => fail(new AxiosError('stream has been aborted', AxiosError.ERR_BAD_RESPONSE, config, request)));
        response.on('error', (error) => fail(AxiosError.from(error, undefined, config, request)));
        response.on('end', () => {
          if (settled) return;
          const raw = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
          decode(raw, response, method, config.decompress !== false, (error, decoded) => {
            if (error) return fail(AxiosError.from(error, AxiosError.ERR_BAD_RESPONSE, config, request));
            if (!finish()) return;
            let text = decoded.toString((config.responseEncoding as BufferEncoding | undefined) ?? 'utf8');
            if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
            const answer: AxiosResponse<string> = {
              status: response.statusCode ?? 0,
              statusText: response.statusMessage ?? '',
              // As axios's http adapter does; axios then reuses this instance instead of converting twice.
              headers: new AxiosHeaders(response.headers as Record<string, string>),
              config,
              request,
              data: text,
            };
            const validate = config.validateStatus;
            if (!answer.status || !validate || validate(answer.status)) return resolve(answer);
            const code = answer.status >= 500 ? AxiosError.ERR_BAD_RESPONSE : AxiosError.ERR_BAD_REQUEST;
            reject(new AxiosError(`Request failed with status code ${answer.status}`, code, config, request, answer));
          });
        });
      },
    );
    request.on('error', (error) => fail(AxiosError.from(error, (error as NodeJS.ErrnoException).code, config, request)));

    if (signal) {
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
    }
    const timeout = config.timeout ?? 0;
    if (timeout > 0) {
      timer = setTimeout(() => {
        const code = config.transitional?.clarifyTimeoutError ? AxiosError.ETIMEDOUT : AxiosError.ECONNABORTED;
        fail(new AxiosError(config.timeoutErrorMessage ?? `timeout of ${timeout}ms exceeded`, code, config, request));
      }, timeout);
    }
    request.end(body);
  });
}

/** Undoes a Content-Encoding the way axios's http adapter does (and drops the header once decoded). */
function decode(raw: Buffer, response: http.IncomingMessage, method: string, decompress: boolean, done: (error: Error | null, body: Buffer) => void): void {
  const encoding = response.headers['content-encoding']?.toLowerCase();
  if (!decompress || !encoding || raw.length === 0 || method === 'HEAD' || response.statusCode === 204) return done(null, raw);
  const decoded = (error: Error | null, body: Buffer) => {
    if (!error) delete response.headers['content-encoding'];
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
