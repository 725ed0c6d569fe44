import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type { OperationDescriptor, PluginDescriptor, PluginFactory } from './types.ts';

/** The TypeScript type of the values a JSON Schema (written `as const`) accepts. */
export type InputOf<Schema extends JSONSchema> = FromSchema<Schema>;

/**
 * Identity helper that type-checks an operation. Write the input schema once, `as const`, and take the input type
 * from it: `defineOperation<InputOf<typeof getUserInput>>({ input: getUserInput, ... })`.
 */
export function defineOperation<Input>(operation: OperationDescriptor<Input>): OperationDescriptor<Input> {
  return operation;
}

export function definePlugin(descriptor: PluginDescriptor): PluginDescriptor {
  return descriptor;
}

export function definePluginFactory(factory: PluginFactory): PluginFactory {
  return factory;
}
