/**
 * Dependency-ordered execution: a node starts as soon as everything it depends on has finished, so
 * independent stages and jobs run side by side, as the server schedules them.
 */

export interface GraphNode {
  name: string;
  dependsOn: readonly string[];
}

/** Runs every node once its dependencies are done; `run` sees the results finished so far. */
export async function runGraph<T>(
  nodes: readonly GraphNode[],
  run: (node: GraphNode, finished: ReadonlyMap<string, T>) => Promise<T>,
): Promise<Map<string, T>> {
  const finished = new Map<string, T>();
  const started = new Set<string>();
  const running = new Map<string, Promise<void>>();
  for (;;) {
    for (const node of nodes) {
      if (started.has(node.name) || !node.dependsOn.every((name) => finished.has(name))) continue;
      started.add(node.name);
      running.set(
        node.name,
        run(node, finished).then((result) => {
          finished.set(node.name, result);
          running.delete(node.name);
        }),
      );
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  // The loader rejects unknown names and cycles; a node left over here means it let one through.
  const stuck = nodes.filter((node) => !finished.has(node.name)).map((node) => node.name);
  if (stuck.length > 0) throw new Error(`dependsOn cannot be satisfied for: ${stuck.join(', ')}`);
  return finished;
}

/**
 * A fixed number of job slots ("agents"). A slot's number picks the agent's temp folder, so two jobs
 * running at once never share one.
 */
export class SlotPool {
  private readonly free: number[];
  private readonly waiting: Array<(slot: number) => void> = [];

  constructor(readonly size: number) {
    this.free = Array.from({ length: size }, (_, index) => index);
  }

  async acquire(): Promise<number> {
    const slot = this.free.shift();
    if (slot !== undefined) return slot;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(slot: number): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else {
      this.free.push(slot);
      this.free.sort((a, b) => a - b);
    }
  }
}
