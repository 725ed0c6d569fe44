export type * from './types.ts';
export type * from './executor.ts';
export { defineOperation, definePlugin, definePluginFactory, type InputOf } from './define.ts';
export { bodyPointer, DescriptorError, InputError, type InputProblem, MAX_REPORTED_PROBLEMS } from './errors.ts';
export {
  compileTextCoercion,
  createSchemaCompiler,
  FULLY_REPORTED_VALUES,
  type InputValidator,
  MAX_INPUT_DEPTH,
  type TextCoercion,
} from './schema-validator.ts';
export { compileDescriptors, type CompiledOperation } from './validate-descriptors.ts';
export { inputPropertyFor, normalisedRoute, restParameterSources, restPathNames, upstreamPlacements } from './rest-parameters.ts';
export { fillPathTemplate, hasDotSegment, type PathValue, pathTemplateNames, rewritePathTemplate } from './path-template.ts';
