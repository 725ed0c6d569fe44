export type * from './types.ts';
export type * from './executor.ts';
export { defineOperation, definePlugin, definePluginFactory } from './define.ts';
export { DescriptorError, InputError, type InputProblem } from './errors.ts';
export { createSchemaCompiler, type InputValidator } from './schema-validator.ts';
export { compileDescriptors, type CompiledOperation } from './validate-descriptors.ts';
export { restParameterSources } from './rest-parameters.ts';
