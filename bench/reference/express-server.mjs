// How the gateway hosts its Express apps (apps/gateway/src/ops/listen.ts), for the c+ and g+ references:
// requests and responses born with the app's prototypes, so Express 5's per-request Object.setPrototypeOf
// changes nothing. PROTOTYPE_BOUND=true turns it on; otherwise the reference listens as Express documents.
import { createServer, IncomingMessage, ServerResponse } from 'node:http';

export function listen(app, onListening) {
  if (process.env.PROTOTYPE_BOUND !== 'true') return app.listen(0, '127.0.0.1', onListening);
  function AppRequest(socket) {
    IncomingMessage.call(this, socket);
  }
  AppRequest.prototype = app.request;
  function AppResponse(request, options) {
    ServerResponse.call(this, request, options);
  }
  AppResponse.prototype = app.response;
  return createServer({ IncomingMessage: AppRequest, ServerResponse: AppResponse }, app).listen(0, '127.0.0.1', onListening);
}
