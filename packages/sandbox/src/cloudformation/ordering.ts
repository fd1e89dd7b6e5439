/**
 * Runs work over a dependency graph with maximal parallelism: each node starts as soon as all its prerequisites
 * succeeded (CloudFormation provisions independent resources concurrently). A node whose prerequisite failed or
 * was skipped is skipped; once `keepStarting()` turns false no further node starts. Resolves true when every node
 * succeeded.
 */
export async function runInDependencyOrder(
  nodes: Iterable<string>,
  prerequisites: (node: string) => Iterable<string>,
  work: (node: string) => Promise<boolean>,
  keepStarting: () => boolean = () => true,
): Promise<boolean> {
  const members = new Set(nodes);
  const outcomes = new Map<string, Promise<boolean>>();
  const outcome = (node: string): Promise<boolean> => {
    let promise = outcomes.get(node);
    if (!promise) {
      promise = (async () => {
        const before = [...prerequisites(node)].filter((p) => members.has(p) && p !== node);
        const results = await Promise.all(before.map(outcome));
        if (results.some((ok) => !ok) || !keepStarting()) return false;
        return work(node);
      })();
      outcomes.set(node, promise);
    }
    return promise;
  };
  const results = await Promise.all([...members].map(outcome));
  return results.every(Boolean);
}

/** The reverse graph: for each node, the nodes that depend on it (they must be deleted first). */
export function dependents(graph: ReadonlyMap<string, ReadonlySet<string>>): Map<string, Set<string>> {
  const reverse = new Map<string, Set<string>>();
  for (const node of graph.keys()) reverse.set(node, new Set());
  for (const [node, deps] of graph) {
    for (const dep of deps) {
      if (!reverse.has(dep)) reverse.set(dep, new Set());
      reverse.get(dep)!.add(node);
    }
  }
  return reverse;
}
