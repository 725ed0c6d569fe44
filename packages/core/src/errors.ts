/** One problem with a caller's input, located by a JSON pointer into the operation input. */
export interface InputProblem {
  readonly pointer: string;
  readonly message: string;
}

/** An invalid input's answer lists at most this many problems, and says how many more there were. */
export const MAX_REPORTED_PROBLEMS = 20;

/** Thrown by `toRequest` when a schema-valid input still cannot be sent (e.g. a missing default). */
export class InputError extends Error {
  readonly problems: readonly InputProblem[];
  constructor(problems: readonly InputProblem[]) {
    super(problems.map((p) => `${p.pointer || '/'}: ${p.message}`).join('; '));
    this.name = 'InputError';
    this.problems = problems;
  }
}

/** A plugin descriptor that cannot be loaded: names the plugin and the offending field. */
export class DescriptorError extends Error {
  constructor(
    readonly pluginId: string,
    readonly field: string,
    reason: string,
  ) {
    super(`plugin "${pluginId}": ${field}: ${reason}`);
    this.name = 'DescriptorError';
  }
}

/** A pointer into an operation input (`/body/eventName`) as a pointer into its JSON body (`/eventName`); others as they are. */
export function bodyPointer(pointer: string): string {
  return pointer === '/body' ? '' : pointer.startsWith('/body/') ? pointer.slice('/body'.length) : pointer;
}
