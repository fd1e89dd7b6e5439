import { evaluateConditions } from './conditions';
import { resolvePartially } from './intrinsics';
import type { EvaluationScope } from './intrinsics';
import { isRecord } from './references';
import type { EvaluationContext, Template } from './types';

export type StackIdentity = Pick<EvaluationContext, 'accountId' | 'region' | 'stackName' | 'stackId'>;
type ParameterValues = ReadonlyMap<string, string | string[]>;

export interface StructuralDiffOptions {
  /** The properties of a resource type whose change replaces the resource (the provider knows them). */
  replacementProperties(type: string): readonly string[];
  /** Pseudo parameters, which conditions and properties may use. */
  stack: StackIdentity;
}

/** AWS's ResourceChange.Scope values. */
export type ChangeScope = 'Properties' | 'Metadata' | 'DeletionPolicy' | 'UpdateReplacePolicy' | 'Tags';

export interface ResourceChange {
  action: 'Add' | 'Modify' | 'Remove';
  logicalId: string;
  /** The new type for Add and Modify, the old one for Remove. */
  resourceType: string;
  /** Modify only. */
  replacement?: 'True' | 'False';
  scope: ChangeScope[];
  /** Top-level property names whose resolved value differs (Modify only). */
  changedProperties: string[];
}

export interface StructuralDiff {
  /** New template order for Add and Modify, then Remove in the old template's order. */
  resourceChanges: ResourceChange[];
  outputsChanged: boolean;
  /** Some parameter value differs; whether that alone is an update is the caller's rule. */
  parametersChanged: boolean;
  /** What UpdateStack counts as an update: a resource or an output changed. */
  hasChanges: boolean;
}

interface ComparableResource {
  type: string;
  properties: Record<string, unknown>;
  metadata: unknown;
  dependsOn: string[];
  condition: string | undefined;
  deletionPolicy: string | undefined;
  updateReplacePolicy: string | undefined;
}

/** JSON with sorted keys, so that two values compare equal whatever order their keys were written in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isRecord(value)) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

function comparableSide(template: Template, parameters: ParameterValues, stack: StackIdentity) {
  const identity: StackIdentity = {
    accountId: stack.accountId,
    region: stack.region,
    stackName: stack.stackName,
    stackId: stack.stackId,
  };
  const conditions = evaluateConditions(template, { ...identity, parameters });
  const scope: EvaluationScope = { ...identity, parameters, conditions, mappings: template.mappings };
  const holds = (condition: string | undefined): boolean =>
    condition === undefined || conditions.get(condition) === true;

  const resources = new Map<string, ComparableResource>();
  for (const resource of template.resources.values()) {
    if (!holds(resource.condition)) continue;
    const properties = resolvePartially(resource.properties, scope);
    resources.set(resource.logicalId, {
      type: resource.type,
      properties: isRecord(properties) ? properties : {},
      metadata: resource.metadata === undefined ? undefined : resolvePartially(resource.metadata, scope),
      dependsOn: [...resource.dependsOn].sort(),
      condition: resource.condition,
      deletionPolicy: resource.deletionPolicy,
      updateReplacePolicy: resource.updateReplacePolicy,
    });
  }

  const outputs = new Map<string, string>();
  for (const output of template.outputs.values()) {
    if (!holds(output.condition)) continue;
    outputs.set(
      output.logicalId,
      canonical({
        value: resolvePartially(output.value, scope),
        description: output.description,
        exportName: output.exportName === undefined ? undefined : resolvePartially(output.exportName, scope),
      }),
    );
  }
  return { resources, outputs };
}

function changedPropertyNames(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const names = new Set([...Object.keys(after), ...Object.keys(before)]);
  return [...names].filter((name) => canonical(before[name]) !== canonical(after[name]));
}

/**
 * Compares two templates (with their parameter values) per logical id, the way a change set does: what the
 * parameters, mappings and conditions decide is resolved, references to resources are compared as written.
 */
export function structuralDiff(
  oldTemplate: Template,
  oldParameters: ParameterValues,
  newTemplate: Template,
  newParameters: ParameterValues,
  options: StructuralDiffOptions,
): StructuralDiff {
  const before = comparableSide(oldTemplate, oldParameters, options.stack);
  const after = comparableSide(newTemplate, newParameters, options.stack);

  const resourceChanges: ResourceChange[] = [];
  for (const [logicalId, next] of after.resources) {
    const previous = before.resources.get(logicalId);
    if (!previous) {
      resourceChanges.push({
        action: 'Add',
        logicalId,
        resourceType: next.type,
        scope: [],
        changedProperties: [],
      });
      continue;
    }
    const changedProperties = changedPropertyNames(previous.properties, next.properties);
    const scope: ChangeScope[] = [];
    if (changedProperties.length > 0) scope.push('Properties');
    if (changedProperties.includes('Tags')) scope.push('Tags');
    if (canonical(previous.metadata) !== canonical(next.metadata)) scope.push('Metadata');
    if (previous.deletionPolicy !== next.deletionPolicy) scope.push('DeletionPolicy');
    if (previous.updateReplacePolicy !== next.updateReplacePolicy) scope.push('UpdateReplacePolicy');
    const typeChanged = previous.type !== next.type;
    const otherwiseChanged =
      canonical(previous.dependsOn) !== canonical(next.dependsOn) || previous.condition !== next.condition;
    if (!typeChanged && !otherwiseChanged && scope.length === 0) continue;
    const replacementProperties = options.replacementProperties(next.type);
    const replaced = typeChanged || changedProperties.some((name) => replacementProperties.includes(name));
    resourceChanges.push({
      action: 'Modify',
      logicalId,
      resourceType: next.type,
      replacement: replaced ? 'True' : 'False',
      scope,
      changedProperties,
    });
  }
  for (const [logicalId, previous] of before.resources) {
    if (after.resources.has(logicalId)) continue;
    resourceChanges.push({
      action: 'Remove',
      logicalId,
      resourceType: previous.type,
      scope: [],
      changedProperties: [],
    });
  }

  const outputKeys = new Set([...before.outputs.keys(), ...after.outputs.keys()]);
  const outputsChanged = [...outputKeys].some((key) => before.outputs.get(key) !== after.outputs.get(key));
  const parameterKeys = new Set([...oldParameters.keys(), ...newParameters.keys()]);
  const parametersChanged = [...parameterKeys].some(
    (key) => canonical(oldParameters.get(key)) !== canonical(newParameters.get(key)),
  );

  return {
    resourceChanges,
    outputsChanged,
    parametersChanged,
    hasChanges: resourceChanges.length > 0 || outputsChanged,
  };
}
