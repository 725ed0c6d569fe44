import type { OperationDescriptor, PluginDescriptor, PluginFactory } from './types.ts';

/** Identity helpers that give plugin authors type checking and inference. */
export function defineOperation<Input>(operation: OperationDescriptor<Input>): OperationDescriptor<Input> {
  return operation;
}

export function definePlugin(descriptor: PluginDescriptor): PluginDescriptor {
  return descriptor;
}

export function definePluginFactory(factory: PluginFactory): PluginFactory {
  return factory;
}
