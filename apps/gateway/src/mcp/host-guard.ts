import type { RequestHandler } from 'express';
import { JSON_RPC, sendJsonRpcError } from './json-rpc-error.ts';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const WILDCARD_BINDS = new Set(['0.0.0.0', '::', '[::]', '']);

/**
 * Host names the MCP listener answers to: the loopback names, the address it is bound to, and MCP_ALLOWED_HOSTS.
 * `undefined` means any (MCP_ALLOWED_HOSTS=*), for a deployment whose proxy already checks Host.
 */
export function allowedHostnames(bindHost: string, configured: readonly string[]): ReadonlySet<string> | undefined {
  if (configured.includes('*')) return undefined;
  const names = new Set(LOOPBACK_NAMES);
  if (!WILDCARD_BINDS.has(bindHost)) names.add(hostnameOf(bindHost.includes(':') && !bindHost.startsWith('[') ? `[${bindHost}]` : bindHost) ?? bindHost);
  for (const entry of configured) {
    const name = hostnameOf(entry.replace(/^[a-z]+:\/\//i, ''));
    if (name) names.add(name);
  }
  return names;
}

/**
 * DNS-rebinding protection: a page on evil.example that re-resolves its name to this machine reaches us with
 * `Host: evil.example` (and `Origin: http://evil.example`). Both must name a host we serve, port aside.
 */
export function hostGuard(allowed: ReadonlySet<string> | undefined): RequestHandler {
  // A client sends the same Host on every call: parse each value once (bounded, so junk cannot grow it).
  const hostnames = new Map<string, string | undefined>();
  return (request, response, next) => {
    if (!allowed) return next();
    const host = request.headers.host;
    let hostname = host ? hostnames.get(host) : undefined;
    if (host && hostname === undefined && !hostnames.has(host)) {
      if (hostnames.size >= 64) hostnames.clear();
      hostname = hostnameOf(host);
      hostnames.set(host, hostname);
    }
    if (!hostname || !allowed.has(hostname)) {
      return sendJsonRpcError(
        response,
        403,
        JSON_RPC.serverError,
        `Forbidden: Host ${JSON.stringify(host ?? '')} is not served here (DNS-rebinding protection). The operator can add a host name to MCP_ALLOWED_HOSTS.`,
      );
    }
    const origin = request.headers.origin;
    if (origin !== undefined) {
      const originHost = /^https?:\/\//i.test(origin) ? hostnameOf(origin.replace(/^https?:\/\//i, '')) : undefined;
      if (!originHost || !allowed.has(originHost)) {
        return sendJsonRpcError(response, 403, JSON_RPC.serverError, `Forbidden: Origin ${JSON.stringify(origin)} is not allowed (DNS-rebinding protection).`);
      }
    }
    next();
  };
}

/** `Example.COM:9090` -> `example.com`, `[::1]:9090` -> `[::1]`; undefined when it is not a host. */
function hostnameOf(authority: string): string | undefined {
  try {
    const url = new URL(`http://${authority}`);
    if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return undefined;
    return url.hostname.toLowerCase();
  } catch {
    return undefined;
  }
}
