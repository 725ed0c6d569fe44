import type { DeliveryExposure } from '@gateway/core';
import type { BatchLimits } from '../rest/batch-body.ts';

/** Bytes of one batch item (an NDJSON line, an array element); BODY_LIMIT when that is smaller. */
export const MAX_BATCH_ITEM_BYTES = 64 * 1024;

/**
 * Every limit of a REST batch, in one place: the items the operation declares (`delivery.batch.maxItems`), the
 * bytes of one item, and the body (BODY_LIMIT). The route enforces them while the body streams in; the OpenAPI
 * entry states them; the dispatch checks the item count for every door.
 */
export function restBatchLimits(batch: NonNullable<DeliveryExposure['batch']>, bodyLimitBytes: number): BatchLimits {
  return { maxItems: batch.maxItems, maxItemBytes: Math.min(MAX_BATCH_ITEM_BYTES, bodyLimitBytes), maxBodyBytes: bodyLimitBytes };
}
