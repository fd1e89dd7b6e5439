import { messages } from './messages';
import { collectReferences, isPseudoParameter, unique } from './references';
import type { ReferenceWalk } from './references';
import { TemplateError } from './types';
import type { Template } from './types';

/** Logical id → the logical ids it waits for. Only resources whose Condition holds are nodes. */
export type DependencyGraph = Map<string, Set<string>>;

function conditionHolds(conditions: ReadonlyMap<string, boolean>, name: string | undefined): boolean {
  if (name === undefined) return true;
  const value = conditions.get(name);
  if (value === undefined) throw new TemplateError(messages.conditionNotDefined(name));
  return value;
}

/** Fn::If counts only the branch its condition picks: the other may name a resource that is not created. */
function walkFor(conditions: ReadonlyMap<string, boolean>): ReferenceWalk {
  return {
    branch: (condition) => {
      const value = conditions.get(condition);
      if (value === undefined) throw new TemplateError(messages.unresolvedConditionInIf(condition));
      return value;
    },
  };
}

/**
 * Edges come from Ref, Fn::GetAtt, Fn::Sub variables and DependsOn, in Properties and Metadata. A reference
 * to a resource whose Condition is false is unresolved, exactly as AWS reports it; so is one from an Output.
 */
export function dependencyGraph(
  template: Template,
  conditions: ReadonlyMap<string, boolean>,
): DependencyGraph {
  const included = new Set(
    [...template.resources.values()]
      .filter((resource) => conditionHolds(conditions, resource.condition))
      .map((resource) => resource.logicalId),
  );
  const isValue = (name: string): boolean => isPseudoParameter(name) || template.parameters.has(name);
  const walk = walkFor(conditions);

  const graph: DependencyGraph = new Map();
  const unresolved: string[] = [];
  for (const logicalId of included) {
    const resource = template.resources.get(logicalId);
    if (!resource) continue;
    const dependencies = new Set<string>();
    for (const { target } of collectReferences([resource.properties, resource.metadata ?? {}], walk)) {
      if (included.has(target)) dependencies.add(target);
      else if (!isValue(target)) unresolved.push(target);
    }
    for (const target of resource.dependsOn) {
      if (included.has(target)) dependencies.add(target);
      else unresolved.push(target);
    }
    graph.set(logicalId, dependencies);
  }
  if (unresolved.length > 0) throw new TemplateError(messages.unresolvedResources(unique(unresolved)));

  const unresolvedInOutputs: string[] = [];
  for (const output of template.outputs.values()) {
    if (!conditionHolds(conditions, output.condition)) continue;
    for (const { target } of collectReferences([output.value, output.exportName ?? ''], walk)) {
      if (!included.has(target) && !isValue(target)) unresolvedInOutputs.push(target);
    }
  }
  if (unresolvedInOutputs.length > 0)
    throw new TemplateError(messages.unresolvedOutputs(unique(unresolvedInOutputs)));

  const cyclic = resourcesInCycles(graph);
  if (cyclic.length > 0) throw new TemplateError(messages.circularResources(cyclic));
  return graph;
}

/** Every node on a cycle (Tarjan's strongly connected components), in the graph's (template) order. */
function resourcesInCycles(graph: DependencyGraph): string[] {
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cyclic = new Set<string>();
  let counter = 0;

  // Recursive depth is bounded by the number of resources (AWS allows 500).
  const visit = (node: string): void => {
    index.set(node, counter);
    lowLink.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        lowLink.set(node, Math.min(lowLink.get(node) as number, lowLink.get(next) as number));
      } else if (onStack.has(next)) {
        lowLink.set(node, Math.min(lowLink.get(node) as number, index.get(next) as number));
      }
    }
    if (lowLink.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.has(node)) for (const item of component) cyclic.add(item);
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return [...graph.keys()].filter((node) => cyclic.has(node));
}

/**
 * Topological layers: every resource in a wave depends only on resources in earlier waves, so a wave can be
 * created in parallel. Within a wave the template's order is kept.
 */
export function creationWaves(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const waves: string[][] = [];
  const placed = new Set<string>();
  const pending = [...graph.keys()];
  while (pending.length > 0) {
    const wave = pending.filter((node) =>
      [...(graph.get(node) ?? [])].every((dependency) => placed.has(dependency)),
    );
    if (wave.length === 0) throw new TemplateError(messages.circularResources(pending));
    for (const node of wave) placed.add(node);
    waves.push(wave);
    pending.splice(0, pending.length, ...pending.filter((node) => !placed.has(node)));
  }
  return waves;
}

/** The reverse order: a resource is deleted only after everything that depends on it. */
export function deletionWaves(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const dependents = new Map<string, Set<string>>([...graph.keys()].map((node) => [node, new Set<string>()]));
  for (const [node, dependencies] of graph) {
    for (const dependency of dependencies) dependents.get(dependency)?.add(node);
  }
  return creationWaves(dependents);
}
