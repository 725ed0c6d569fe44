import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The seed capability file, shipped verbatim in the repository as an example. */
export const SEED = fileURLToPath(new URL('../../../examples/px-custom-events.yaml', import.meta.url));

export function seedText(): string {
  return readFileSync(SEED, 'utf8');
}
