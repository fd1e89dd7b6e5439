/**
 * The CloudFormation template engine: pure functions (no I/O, no timers) that the CloudFormation service
 * calls to parse, validate and evaluate templates. Every failure is a TemplateError carrying AWS's text.
 */
export { TemplateError } from './types';
export type {
  EvaluationContext,
  GivenParameter,
  OutputDeclaration,
  ParameterDeclaration,
  ResolvedParameters,
  ResourceDeclaration,
  Template,
  TemplateSummary,
} from './types';

export { parseTemplate, templateSize, TEMPLATE_BODY_MAX_BYTES } from './parse';
export {
  summarize,
  missingCapabilities,
  CAPABILITY_IAM,
  CAPABILITY_NAMED_IAM,
  CAPABILITY_AUTO_EXPAND,
} from './summary';
export { resolveParameters, NO_ECHO_MASK } from './parameters';
export { evaluateConditions } from './conditions';
export type { ConditionContext } from './conditions';
export { dependencyGraph, creationWaves, deletionWaves } from './graph';
export type { DependencyGraph } from './graph';
export { resolveValue, resolvePartially, partitionOf, urlSuffixOf } from './intrinsics';
export type { EvaluationScope } from './intrinsics';
export { structuralDiff } from './diff';
export type {
  ChangeScope,
  ResourceChange,
  StackIdentity,
  StructuralDiff,
  StructuralDiffOptions,
} from './diff';
export { isRecognizedParameterType, isListParameterType } from './parameter-types';
