import type { IRouter, RequestHandler } from 'express';
import { restBatchLimits } from '../gateway-plugin/batch-limits.ts';
import { readBatchBody, UnreadableItem } from './batch-body.ts';
import type { Dispatch } from '../dispatch.ts';
import type { LoadedOperation } from '../plugins/plugin-registry.ts';
import { clientIdOf } from '../auth/client-identity.ts';
import { sendFailure, sendProblem } from './problem.ts';

const NDJSON = 'application/x-ndjson';
const JSON_TYPES = ['application/json', 'application/*+json'];

/** `POST <batch path>`: `{"<items>": [...]}` as JSON, or one item per line as NDJSON; each item queued or rejected on its own. */
export function mountBatchRoute(router: IRouter, entry: LoadedOperation, dispatch: Dispatch, bodyLimitBytes: number): string | undefined {
  const batch = entry.operation.delivery?.batch;
  if (!batch?.rest) return undefined;
  const { itemsName, maxItems } = batch;
  const requireType: RequestHandler = (request, response, next) => {
    if (request.is([...JSON_TYPES, NDJSON])) return next();
    sendProblem(response, {
      type: 'unsupported-media-type',
      title: 'Unsupported media type',
      status: 415,
      detail: `Send {"${itemsName}": [...]} as "Content-Type: application/json", or one item per line as "Content-Type: ${NDJSON}".`,
      instance: request.originalUrl,
    });
  };
  const limits = restBatchLimits(batch, bodyLimitBytes);
  router.post(batch.rest.path, requireType, async (request, response) => {
    const ndjson = request.is(NDJSON) === NDJSON;
    const body = await readBatchBody(request, ndjson ? 'ndjson' : 'json', itemsName, limits);
    if (!body.ok) {
      // Refused before the body was read to its end: the rest is dropped and this connection not reused.
      if (!request.complete) response.setHeader('Connection', 'close');
      return sendProblem(response, {
        type: body.type,
        title: body.title,
        status: body.status,
        detail: body.detail,
        instance: request.originalUrl,
        ...(body.pointer !== undefined ? { errors: [{ pointer: body.pointer, detail: body.detail }] } : {}),
      });
    }
    const { items } = body;
    const idempotencyKey = request.get('idempotency-key');
    const unreadable = new Map<number, string>();
    for (const [index, item] of items.entries()) if (item instanceof UnreadableItem) unreadable.set(index, item.detail);
    const call = {
      pluginId: entry.plugin.id,
      operationId: entry.operation.id,
      requestId: response.locals.requestId as string,
      clientId: clientIdOf(request),
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    };
    const result = await dispatch.batch(
      call,
      items.map((item) => (item instanceof UnreadableItem ? null : item)),
      { maxItems, unreadable },
    );
    if (result.replayed) response.setHeader('Idempotent-Replayed', 'true');
    if (!result.ok) {
      // Input pointers of a batch name the item: `/events/3/eventName` (JSON) or `/3/eventName` (NDJSON lines, from 0).
      const prefix = ndjson ? '' : `/${itemsName}`;
      const failure = result.failure.problems
        ? { ...result.failure, problems: result.failure.problems.map((p) => ({ ...p, pointer: `/body${prefix}${p.pointer}` })) }
        : result.failure;
      return sendFailure(response, failure, request.originalUrl);
    }
    response.status(202).json(result.body);
  });
  return batch.rest.path;
}
