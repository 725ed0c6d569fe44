export type * from './types.ts';
export type * from './executor.ts';
export { defineOperation, definePlugin, definePluginFactory } from './define.ts';
export { DescriptorError, InputError, type InputProblem, MAX_REPORTED_PROBLEMS } from './errors.ts';
export { createSchemaCompiler, FULLY_REPORTED_VALUES, type InputValidator, MAX_INPUT_DEPTH } from './schema-validator.ts';
export { compileDescriptors, type CompiledOperation } from './validate-descriptors.ts';
export { restParameterSources } from './rest-parameters.ts';
export { fillPathTemplate, hasDotSegment, type PathValue, pathTemplateNames, rewritePathTemplate } from './path-template.ts';
