import type { Request, RequestHandler, Response } from 'express';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const WILDCARD_BINDS = new Set(['0.0.0.0', '::', '[::]', '']);

/**
 * Host names both listeners (REST and MCP) answer to: the loopback names, the address they are bound to, and
 * ALLOWED_HOSTS. `undefined` means any (ALLOWED_HOSTS=*), for a deployment whose proxy already checks Host.
 */
export function allowedHostnames(bindHost: string, configured: readonly string[]): ReadonlySet<string> | undefined {
  if (configured.includes('*')) return undefined;
  const names = new Set(LOOPBACK_NAMES);
  if (!WILDCARD_BINDS.has(bindHost))
    names.add(hostnameOf(bindHost.includes(':') && !bindHost.startsWith('[') ? `[${bindHost}]` : bindHost) ?? bindHost);
  for (const entry of configured) {
    const name = hostnameOf(entry.replace(/^[a-z]+:\/\//i, ''));
    if (name) names.add(name);
  }
  return names;
}

/** True when the listener on `bindHost` answers only loopback names although it is reachable from elsewhere. */
export function servesOnlyLoopbackNames(bindHost: string, configured: readonly string[]): boolean {
  return configured.length === 0 && WILDCARD_BINDS.has(bindHost);
}

export interface HostGuardOptions {
  /** From allowedHostnames; undefined accepts any Host. */
  readonly allowed: ReadonlySet<string> | undefined;
  /** Exact origins accepted besides those of the allowed hosts (REST: CORS_ORIGINS). */
  readonly extraOrigins?: readonly string[];
  /** Writes the front door's own 403 (problem+json on REST, a JSON-RPC error on MCP). */
  readonly refuse: (request: Request, response: Response, detail: string) => void;
}

/**
 * DNS-rebinding protection: a page on evil.example that re-resolves its name to this machine reaches us with
 * `Host: evil.example` (and `Origin: http://evil.example`). Both must name a host we serve, port aside.
 */
export function hostGuard({ allowed, extraOrigins = [], refuse }: HostGuardOptions): RequestHandler {
  // A client sends the same Host on every call: parse each value once (bounded, so junk cannot grow it).
  const hostnames = new Map<string, string | undefined>();
  const origins = new Set(extraOrigins);
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
      return refuse(
        request,
        response,
        `Host ${JSON.stringify(host ?? '')} is not served here (DNS-rebinding protection). The operator can add a host name to ALLOWED_HOSTS.`,
      );
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !origins.has(origin)) {
      const originHost = /^https?:\/\//i.test(origin) ? hostnameOf(origin.replace(/^https?:\/\//i, '')) : undefined;
      if (!originHost || !allowed.has(originHost)) {
        return refuse(request, response, `Origin ${JSON.stringify(origin)} is not allowed (DNS-rebinding protection).`);
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
