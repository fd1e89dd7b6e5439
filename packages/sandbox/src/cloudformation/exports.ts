import type { Stack } from './model';
import type { StackStore } from './stacks';

/**
 * Exports are derived from the live stacks' outputs, so they can never disagree with DescribeStacks. Export
 * names are unique per region; an export another stack imports cannot be removed or changed.
 */
export class ExportDirectory {
  constructor(private readonly stacks: StackStore) {}

  list(): Array<{ name: string; value: string; exportingStackId: string }> {
    const exports: Array<{ name: string; value: string; exportingStackId: string }> = [];
    for (const stack of this.stacks.live()) {
      for (const output of stack.outputs) {
        if (output.exportName !== undefined)
          exports.push({ name: output.exportName, value: output.value, exportingStackId: stack.stackId });
      }
    }
    return exports.sort((a, b) => a.name.localeCompare(b.name));
  }

  find(name: string): { value: string; stack: Stack } | undefined {
    for (const stack of this.stacks.live()) {
      const output = stack.outputs.find((o) => o.exportName === name);
      if (output) return { value: output.value, stack };
    }
    return undefined;
  }

  /** Live stacks other than `except` whose templates import `name`. */
  importers(name: string, except: Stack): Stack[] {
    return this.stacks.live().filter((s) => s !== except && s.imports.has(name));
  }
}
