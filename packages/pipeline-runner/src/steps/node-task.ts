/**
 * A Node task as the agent's NodeHandler runs it: `node "<taskDir>/<target>"` with no other arguments, the
 * local node binary standing in for the agent's bundled ones.
 */
import { isAbsolute, resolve } from 'node:path';
import type { TaskDefinition } from '../tasks/catalog';

export interface NodeHandler {
  /** The task.json execution key, e.g. `Node20_1`. */
  handler: string;
  /** Absolute path of the entry script. */
  target: string;
  /** The handler's own working directory, when it declares one. */
  workingDirectory?: string;
  /** End-of-life handlers the agent warns about (its EOL policy would run them on a newer node). */
  deprecated: boolean;
}

/** Preference order; Node (6), Node10 and Node16 are end-of-life. */
const handlers = ['Node24', 'Node20_1', 'Node16', 'Node10', 'Node'];
const deprecatedHandlers = new Set(['Node16', 'Node10', 'Node']);

export function selectNodeHandler(task: TaskDefinition): NodeHandler | undefined {
  const declared = new Map(
    Object.entries(task.execution).map(([key, value]) => [key.toLowerCase(), { key, value }]),
  );
  for (const name of handlers) {
    const found = declared.get(name.toLowerCase());
    if (!found) continue;
    const handler: NodeHandler = {
      handler: found.key,
      target: resolveHandlerPath(found.value.target, task.directory),
      deprecated: deprecatedHandlers.has(name),
    };
    if (found.value.workingDirectory) {
      handler.workingDirectory = resolveHandlerPath(found.value.workingDirectory, task.directory);
    }
    return handler;
  }
  return undefined;
}

/** Handler paths may use `$(currentDirectory)` (the task folder) and are relative to the task folder. */
function resolveHandlerPath(path: string, taskDirectory: string): string {
  const expanded = path.replace(/\$\(currentDirectory\)/gi, taskDirectory);
  return isAbsolute(expanded) ? resolve(expanded) : resolve(taskDirectory, expanded);
}

/** The agent's ProcessExitCodeException text. */
export function exitCodeMessage(exitCode: number, file: string, args: string[]): string {
  return `Exit code ${exitCode} returned from process: file name '${file}', arguments '${args.map((a) => `"${a}"`).join(' ')}'.`;
}
