import type { RequestHandler } from 'express';
import { type InboundKeys, WWW_AUTHENTICATE } from '../auth/inbound-keys.ts';
import { identityOf } from '../auth/client-identity.ts';
import { sendProblem } from './problem.ts';

/** Lets a request through with a valid inbound key (X-API-Key or Bearer), else 401. */
export function requireInboundKey(keys: InboundKeys): RequestHandler {
  return (request, response, next) => {
    const identity = identityOf(keys, request, response);
    if (identity.ok) {
      response.locals.clientId = identity.clientId;
      return next();
    }
    response.setHeader('WWW-Authenticate', WWW_AUTHENTICATE);
    sendProblem(response, {
      type: 'unauthorized',
      title: 'Unauthorized',
      status: 401,
      detail:
        identity.reason === 'missing'
          ? 'This gateway requires an API key: send "X-API-Key: <key>" or "Authorization: Bearer <key>".'
          : 'The API key is not valid for this gateway.',
      instance: request.originalUrl,
    });
  };
}
