import { createHash } from 'node:crypto';
import type { ExecutionRequest, OperationFailure, OperationResult } from '@gateway/core';
import { stringify } from 'safe-stable-stringify';
import { inject, injectable } from 'tsyringe';
import { IDEMPOTENCY_STORE } from '../tokens.ts';
import { isValidIdempotencyKey } from './idempotency-key.ts';
import type { IdempotencyStore } from './idempotency-store.ts';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** Where a bad key is reported: the `idempotencyKey` argument of an MCP tool; REST reports its `Idempotency-Key` header instead. */
export const IDEMPOTENCY_KEY_POINTER = '/idempotencyKey';

/**
 * The same key with the same input returns the first result; the same key with another input is 422;
 * while the first is in flight, 409. Only definitive results are kept: a transient failure (timeout,
 * 5xx, 429, unreachable) frees the key so the caller can retry with it.
 */
@injectable()
export class IdempotencyGuard {
  constructor(@inject(IDEMPOTENCY_STORE) private readonly store: IdempotencyStore) {}

  async run(request: ExecutionRequest, call: () => Promise<OperationResult>): Promise<OperationResult> {
    const { requestId } = request;
    const refuse = (failure: OperationFailure): OperationResult => ({ ok: false, failure, requestId, attempts: 0 });
    const idempotencyKey = request.idempotencyKey ?? '';
    if (!isValidIdempotencyKey(idempotencyKey)) {
      return refuse({
        kind: 'invalid-input',
        status: 400,
        title: 'Invalid idempotency key',
        detail: 'An idempotency key must be 1 to 255 printable ASCII characters without spaces.',
        problems: [{ pointer: IDEMPOTENCY_KEY_POINTER, message: 'must be 1 to 255 printable ASCII characters without spaces' }],
      });
    }
    const clientId = request.clientId ?? 'anonymous';
    const key = `${clientId}\n${request.pluginId}/${request.operationId}\n${idempotencyKey}`;
    const fingerprint = createHash('sha256')
      .update(stringify(request.input) ?? '')
      .digest('base64url');
    let claim: Awaited<ReturnType<IdempotencyStore['claim']>>;
    try {
      claim = await this.store.claim(clientId, key, fingerprint, IDEMPOTENCY_TTL_MS);
    } catch {
      // A shared store (Redis) that cannot be reached: never run the call unguarded, never replay without it.
      return refuse({
        kind: 'store-unavailable',
        status: 503,
        title: 'Idempotency store unavailable',
        detail:
          'The store that keeps idempotency records cannot be reached, so this request was not run. Retry it with the same key shortly.',
        retryAfterSeconds: 5,
      });
    }
    if (!claim.claimed) {
      const { existing } = claim;
      if (existing.fingerprint !== fingerprint) {
        return refuse({
          kind: 'idempotency-key-reused',
          status: 422,
          title: 'Idempotency key reused with another request',
          detail:
            'This idempotency key was already used with a different request body in the last 24 hours. Use a new key for a new request.',
        });
      }
      if (existing.state === 'in-flight') {
        return refuse({
          kind: 'idempotency-in-flight',
          status: 409,
          title: 'Request with this idempotency key in progress',
          detail: 'A request with this idempotency key is still being processed. Wait for it, then retry to get its result.',
          retryAfterSeconds: 1,
        });
      }
      return { ...existing.result, requestId, attempts: 0, replayed: true, originalRequestId: existing.result.requestId };
    }
    let result: OperationResult;
    try {
      result = await call();
    } catch (error) {
      await this.store.release(key).catch(() => undefined);
      throw error;
    }
    // The call has happened: its answer goes out even if a shared store was lost meanwhile (the claim then
    // expires with its TTL).
    const settle = isDefinitive(result)
      ? this.store.complete(clientId, key, fingerprint, result, IDEMPOTENCY_TTL_MS)
      : this.store.release(key);
    await settle.catch(() => undefined);
    return result;
  }
}

function isDefinitive(result: OperationResult): boolean {
  if (result.ok) return true;
  const { kind, status } = result.failure;
  if (kind === 'upstream-rejected-input') return true;
  return kind === 'upstream-status' && status < 500 && status !== 408 && status !== 429;
}
