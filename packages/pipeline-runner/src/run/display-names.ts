/**
 * The names the agent shows for steps, jobs and stages when the YAML gives no `displayName`: a task's
 * `instanceNameFormat` with its inputs filled in, `Bash`/`CmdLine` for the script shortcuts, and the
 * job/stage name otherwise.
 */
import { expandMacros } from '../variables';
import type { Step } from '../model';
import type { TaskCatalog } from '../tasks/catalog';

const nativeNames: Record<string, string> = { 'bash@3': 'Bash', 'cmdline@2': 'CmdLine' };

/**
 * A step's display name. `$(var)` macros in a YAML displayName are expanded against the job's variables
 * (the agent does this just before the step); an unresolvable task falls back to its reference, and the
 * step itself reports why it cannot run.
 */
export function stepDisplayName(
  step: Step,
  catalog: TaskCatalog,
  variable: (name: string) => string | undefined,
  repositoryLabel: string,
): string {
  if (step.displayName?.trim()) return expandMacros(step.displayName, variable);
  if (step.kind === 'checkout') {
    return step.repository.toLowerCase() === 'none' ? 'Checkout none' : `Checkout ${repositoryLabel} to s`;
  }
  const native = nativeNames[step.task.trim().toLowerCase()];
  if (native) return native;
  try {
    const task = catalog.resolve(step.task);
    const format = task.instanceNameFormat?.trim();
    if (!format) return task.friendlyName ?? task.name;
    const declared = new Map(task.inputs.map((input) => [input.name.toLowerCase(), input]));
    return expandMacros(format, (name) => {
      const input = declared.get(name.toLowerCase());
      if (!input) return undefined;
      const given = Object.entries(step.inputs).find(
        ([key]) =>
          key.toLowerCase() === input.name.toLowerCase() ||
          (input.aliases ?? []).some((alias) => alias.toLowerCase() === key.toLowerCase()),
      );
      return given?.[1] ?? input.defaultValue ?? '';
    });
  } catch {
    return step.task;
  }
}
