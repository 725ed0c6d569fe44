import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The seed as the team keeps it beside the clone (`../shared`, read-only in CI). */
export const SHARED_SEED = fileURLToPath(new URL('../../../../shared/seed/px-custom-events.yaml', import.meta.url));
/** A committed verbatim copy, used when `../shared` is absent. */
export const COMMITTED_SEED = fileURLToPath(new URL('../../../apps/gateway/test/fixtures/px-custom-events.yaml', import.meta.url));

/** The seed capability file, verbatim: from ../shared when present, else the committed copy. */
export function seedPath(): string {
  return existsSync(SHARED_SEED) ? SHARED_SEED : COMMITTED_SEED;
}

export function seedText(): string {
  return readFileSync(seedPath(), 'utf8');
}
