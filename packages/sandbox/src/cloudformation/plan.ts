import type { StackDefinition, Stack, StackResource } from './model';
import type { StackOperations } from './operation';
import type { ProviderRegistry } from './providers';
import { dependencyGraph, resolveValue } from './template';

/**
 * What an update would do, computed statically the way a change set shows it: Add / Modify / Remove per
 * resource, with Replacement True | False | Conditional. The same plan decides "No updates are to be performed."
 */

export interface ResourceChangeDetail {
  target: {
    attribute: 'Properties' | 'Metadata';
    name?: string;
    requiresRecreation: 'Never' | 'Conditionally' | 'Always';
  };
  evaluation: 'Static' | 'Dynamic';
  changeSource: 'DirectModification' | 'ResourceReference' | 'ParameterReference';
  causingEntity?: string;
}

export interface ResourceChange {
  action: 'Add' | 'Modify' | 'Remove';
  logicalId: string;
  physicalId?: string;
  type: string;
  replacement?: 'True' | 'False' | 'Conditional';
  scope: Array<'Properties' | 'Metadata'>;
  details: ResourceChangeDetail[];
  policyAction?: 'Delete' | 'Retain';
}

export interface Plan {
  changes: ResourceChange[];
  /** Outputs, parameters, tags or other stack-level settings differ. */
  otherChanges: boolean;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function topologicalOrder(graph: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string): void => {
    if (seen.has(id)) return;
    seen.add(id);
    for (const dep of graph.get(id) ?? []) if (graph.has(dep)) visit(dep);
    order.push(id);
  };
  for (const id of graph.keys()) visit(id);
  return order;
}

function existing(resource: StackResource | undefined): resource is StackResource {
  return (
    resource !== undefined &&
    resource.physicalId !== undefined &&
    resource.status !== 'DELETE_COMPLETE' &&
    resource.status !== 'CREATE_FAILED'
  );
}

export function planChanges(
  operations: StackOperations,
  registry: ProviderRegistry,
  stack: Stack,
  next: StackDefinition,
  stackSettingsChanged: boolean,
): Plan {
  const graph = dependencyGraph(next.template, next.conditions);
  const context = operations.context(stack, next, stack.resources);
  const changes: ResourceChange[] = [];
  const replaced = new Set<string>();
  const added = new Set<string>();
  for (const logicalId of topologicalOrder(graph)) {
    const declaration = next.template.resources.get(logicalId);
    if (!declaration) continue;
    const old = stack.resources.get(logicalId);
    if (!existing(old)) {
      added.add(logicalId);
      changes.push({ action: 'Add', logicalId, type: declaration.type, scope: [], details: [] });
      continue;
    }
    const provider = registry.get(declaration.type);
    const details: ResourceChangeDetail[] = [];
    const scope = new Set<'Properties' | 'Metadata'>();
    let replacement: 'True' | 'False' | 'Conditional' = 'False';
    let properties: Record<string, unknown> | undefined;
    try {
      properties = resolveValue(declaration.properties, context) as Record<string, unknown>;
    } catch {
      properties = undefined;
    }
    const oldDeclaration = stack.definition?.template.resources.get(logicalId);
    const upstream = [...(graph.get(logicalId) ?? [])].filter((dep) => replaced.has(dep) || added.has(dep));
    if (properties === undefined || upstream.length > 0) {
      // Depends on something this update creates: the new value is only known while updating.
      scope.add('Properties');
      for (const name of Object.keys(declaration.properties)) {
        const direct = !same(declaration.properties[name], oldDeclaration?.properties[name]);
        const always = provider.createOnlyProperties.includes(name);
        details.push({
          target: { attribute: 'Properties', name, requiresRecreation: always ? 'Conditionally' : 'Never' },
          evaluation: 'Dynamic',
          changeSource: direct ? 'DirectModification' : 'ResourceReference',
          causingEntity: direct ? undefined : upstream[0],
        });
      }
      replacement = provider.createOnlyProperties.some((name) => name in declaration.properties)
        ? 'Conditional'
        : 'False';
    } else {
      for (const name of new Set([...Object.keys(old.properties), ...Object.keys(properties)])) {
        if (same(old.properties[name], properties[name])) continue;
        scope.add('Properties');
        const always = provider.createOnlyProperties.includes(name);
        const direct = !same(declaration.properties[name], oldDeclaration?.properties[name]);
        details.push({
          target: { attribute: 'Properties', name, requiresRecreation: always ? 'Always' : 'Never' },
          evaluation: 'Static',
          changeSource: direct ? 'DirectModification' : 'ParameterReference',
        });
      }
      if (old.type !== declaration.type || provider.requiresReplacement(old.properties, properties)) {
        replacement = 'True';
      }
    }
    if (!same(old.metadata, declaration.metadata)) {
      scope.add('Metadata');
      details.push({
        target: { attribute: 'Metadata', requiresRecreation: 'Never' },
        evaluation: 'Static',
        changeSource: 'DirectModification',
      });
    }
    if (scope.size === 0 && old.type === declaration.type) continue;
    if (replacement === 'True') replaced.add(logicalId);
    changes.push({
      action: 'Modify',
      logicalId,
      physicalId: old.physicalId,
      type: declaration.type,
      replacement,
      scope: [...scope],
      details,
    });
  }
  for (const old of stack.resources.values()) {
    if (graph.has(old.logicalId) || !existing(old)) continue;
    const policy = stack.definition?.template.resources.get(old.logicalId)?.deletionPolicy;
    changes.push({
      action: 'Remove',
      logicalId: old.logicalId,
      physicalId: old.physicalId,
      type: old.type,
      scope: [],
      details: [],
      policyAction: policy === 'Retain' || policy === 'RetainExceptOnCreate' ? 'Retain' : 'Delete',
    });
  }
  return { changes, otherChanges: stackSettingsChanged || outputsChanged(operations, stack, next) };
}

function outputsChanged(operations: StackOperations, stack: Stack, next: StackDefinition): boolean {
  const previous = stack.definition;
  if (!previous) return true;
  if (!same(previous.describedParameters, next.describedParameters)) return true;
  if (!same([...previous.parameters], [...next.parameters])) return true;
  const context = operations.context(stack, next, stack.resources);
  try {
    const outputs: Array<{ key: string; value: unknown; exportName: unknown; description?: string }> = [];
    for (const output of next.template.outputs.values()) {
      if (output.condition !== undefined && !next.conditions.get(output.condition)) continue;
      outputs.push({
        key: output.logicalId,
        value: resolveValue(output.value, context),
        exportName: output.exportName === undefined ? undefined : resolveValue(output.exportName, context),
        description: output.description,
      });
    }
    if (outputs.length !== stack.outputs.length) return true;
    return outputs.some((output) => {
      const current = stack.outputs.find((o) => o.key === output.key);
      const value = Array.isArray(output.value) ? output.value.join(',') : output.value;
      return (
        !current ||
        String(value) !== current.value ||
        (output.exportName === undefined ? undefined : String(output.exportName)) !== current.exportName ||
        output.description !== current.description
      );
    });
  } catch {
    return true;
  }
}
