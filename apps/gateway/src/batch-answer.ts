import { MAX_REPORTED_PROBLEMS } from '@gateway/core';

/** Per item of a batch: its delivery id, or why it was not accepted (pointers into the item). */
export type BatchItemResult =
  | { readonly index: number; readonly id: string }
  | { readonly index: number; readonly errors: readonly { readonly pointer: string; readonly detail: string }[] };

/**
 * A batch answer's `results`, its size bounded by what was accepted: every accepted item's id, and rejected items
 * only until MAX_REPORTED_PROBLEMS problems are listed in all. `omittedErrors` counts the problems left out (their
 * items are not in `results`), so a thousand empty lines cannot make a thousand error reports.
 */
export function boundedResults(results: readonly BatchItemResult[]): { results: BatchItemResult[]; omittedErrors?: number } {
  const kept: BatchItemResult[] = [];
  let listed = 0;
  let omitted = 0;
  for (const result of results) {
    if (!('errors' in result)) {
      kept.push(result);
      continue;
    }
    const room = MAX_REPORTED_PROBLEMS - listed;
    if (room <= 0) {
      omitted += result.errors.length;
      continue;
    }
    const errors = result.errors.slice(0, room);
    listed += errors.length;
    omitted += result.errors.length - errors.length;
    kept.push({ index: result.index, errors });
  }
  return { results: kept, ...(omitted > 0 ? { omittedErrors: omitted } : {}) };
}
