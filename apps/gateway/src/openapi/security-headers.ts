import helmet from 'helmet';
import type { RequestHandler } from 'express';

/**
 * Helmet's security headers for the whole REST app, with a Content-Security-Policy Swagger UI works under:
 * scripts and styles from the gateway itself (Swagger UI's inline styles need 'unsafe-inline' for styles only),
 * images from the gateway and data: URLs, fetches (the document, trial calls) to the gateway only. No
 * `upgrade-insecure-requests`: the gateway serves plain HTTP unless a proxy in front of it terminates TLS.
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
      },
    },
  });
}
