import type { IncomingHttpHeaders } from 'node:http';

const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?)(?::\d{1,5})?$/;

/**
 * The base URL a caller reached the gateway at, so that trial calls go back there: the `Host` header, or, only
 * when the gateway sits behind a trusted reverse proxy (`trustForwarded`, from TRUST_PROXY), that proxy's
 * `X-Forwarded-Proto` / `X-Forwarded-Host` (first hop). Anyone can send those headers, so without a proxy they
 * would let a caller point the document's trial calls elsewhere. `/` (the document's own host) when there is
 * no usable host.
 */
export function serverUrlFrom(headers: IncomingHttpHeaders, encrypted: boolean, trustForwarded: boolean): string {
  const forwardedProto = trustForwarded ? first(headers['x-forwarded-proto'])?.toLowerCase() : undefined;
  const proto = forwardedProto === 'http' || forwardedProto === 'https' ? forwardedProto : encrypted ? 'https' : 'http';
  const forwardedHost = trustForwarded ? first(headers['x-forwarded-host']) : undefined;
  const host = forwardedHost && HOST.test(forwardedHost) ? forwardedHost : first(headers.host);
  return host && HOST.test(host) ? `${proto}://${host}` : '/';
}

/** First value of a header that may be repeated or a comma-separated list. */
function first(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  return raw?.split(',')[0]?.trim() || undefined;
}
