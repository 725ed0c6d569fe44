/** An error Express or a body parser (express.json) passed on; `type` is set for every failure body-parser names itself. */
export interface RequestError {
  readonly type?: string;
  readonly status?: number;
  readonly code?: unknown;
}

/**
 * A body whose `Content-Encoding` (gzip, deflate, br) does not decode: body-parser passes the decompressor's
 * error on (zlib's `Z_DATA_ERROR`, `Z_BUF_ERROR`, brotli's codes) as a 400 without a `type`. The caller's
 * fault, so it is answered 400, never 500.
 */
export function isUndecodableBody(error: RequestError): boolean {
  return error.type === undefined && error.status === 400 && typeof error.code === 'string';
}

/** A path parameter whose percent-encoding does not decode (`%zz`, a cut UTF-8 sequence): Express's router throws a URIError marked 400. */
export function isUndecodablePath(error: RequestError): boolean {
  return error instanceof URIError && error.status === 400;
}
