import type { IncomingHttpHeaders } from 'node:http';

const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?)(?::\d{1,5})?$/;

/**
 * The base URL a caller reached the gateway at, so that trial calls go back there: `X-Forwarded-Proto` /
 * `X-Forwarded-Host` (first hop) from a reverse proxy, else the `Host` header. `/` (the document's own
 * host) when there is no usable host.
 */
export function serverUrlFrom(headers: IncomingHttpHeaders, encrypted: boolean): string {
  const forwardedProto = first(headers['x-forwarded-proto'])?.toLowerCase();
  const proto = forwardedProto === 'http' || forwardedProto === 'https' ? forwardedProto : encrypted ? 'https' : 'http';
  const forwardedHost = first(headers['x-forwarded-host']);
  const host = forwardedHost && HOST.test(forwardedHost) ? forwardedHost : first(headers.host);
  return host && HOST.test(host) ? `${proto}://${host}` : '/';
}

/** First value of a header that may be repeated or a comma-separated list. */
function first(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  return raw?.split(',')[0]?.trim() || undefined;
}
