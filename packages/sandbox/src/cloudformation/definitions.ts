import { AwsError } from '../aws/errors';
import type { ExportDirectory } from './exports';
import type { StackDefinition } from './model';
import type { ProviderRegistry } from './providers';
import {
  dependencyGraph,
  evaluateConditions,
  missingCapabilities,
  parseTemplate,
  resolveParameters,
  summarize,
  TemplateError,
} from './template';
import type { EvaluationContext, GivenParameter, Template, TemplateSummary } from './template';

/**
 * Everything CreateStack / UpdateStack / CreateChangeSet check synchronously before anything runs: template
 * format, resource types, parameters, conditions, references and capabilities — each as AWS's ValidationError.
 */

export interface DefinitionInput {
  body: string;
  given: GivenParameter[];
  capabilities: string[];
  /** Previous parameter values (UsePreviousValue) on updates. */
  previous?: ReadonlyMap<string, string | string[]>;
  stackName: string;
  stackId: string;
}

/** Engine errors carry AWS's exact wording; on the wire they are ValidationErrors. */
export function asValidationError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof TemplateError) throw new AwsError('ValidationError', error.message);
    throw error;
  }
}

export function parseAndSummarize(
  body: string,
  registry: ProviderRegistry,
): { template: Template; summary: TemplateSummary } {
  return asValidationError(() => {
    const template = parseTemplate(body);
    const summary = summarize(template, (type) => registry.has(type));
    return { template, summary };
  });
}

/** "Requires capabilities : [CAPABILITY_IAM]" — CAPABILITY_NAMED_IAM also covers unnamed IAM resources. */
export function checkCapabilities(summary: TemplateSummary, given: readonly string[]): void {
  const missing = missingCapabilities(summary, given);
  if (missing.length > 0) {
    throw new AwsError(
      'InsufficientCapabilitiesException',
      `Requires capabilities : [${missing.join(', ')}]`,
    );
  }
}

export function prepareDefinition(
  input: DefinitionInput,
  registry: ProviderRegistry,
  exports: ExportDirectory,
  region: string,
  accountId: string,
): { definition: StackDefinition; summary: TemplateSummary } {
  const { template, summary } = parseAndSummarize(input.body, registry);
  return asValidationError(() => {
    const resolved = resolveParameters(template, input.given, input.previous);
    const context: EvaluationContext = {
      accountId,
      region,
      stackName: input.stackName,
      stackId: input.stackId,
      parameters: resolved.values,
      conditions: new Map(),
      resource: () => undefined,
      importValue: (name) => exports.find(name)?.value,
      availabilityZones: (r) => ['a', 'b', 'c'].map((zone) => `${r || region}${zone}`),
    };
    const conditions = evaluateConditions(template, context);
    dependencyGraph(template, conditions);
    checkLiteralImports(template, exports);
    checkCapabilities(summary, input.capabilities);
    return {
      definition: {
        template,
        parameters: resolved.values,
        describedParameters: resolved.described,
        conditions,
      },
      summary,
    };
  });
}

/** Fn::ImportValue of a literal name that no stack exports fails at submission (verified: "No export named X found."). */
function checkLiteralImports(template: Template, exports: ExportDirectory): void {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'Fn::ImportValue' && typeof value === 'string' && !exports.find(value)) {
        throw new AwsError('ValidationError', `No export named ${value} found.`);
      }
      visit(value);
    }
  };
  for (const resource of template.resources.values()) visit(resource.properties);
  for (const output of template.outputs.values()) visit(output.value);
}
