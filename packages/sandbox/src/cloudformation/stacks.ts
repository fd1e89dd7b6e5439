import { randomUUID } from 'node:crypto';
import type { Stack } from './model';

/**
 * Every stack of the sandbox's region, including deleted ones (ListStacks shows them; DescribeStacks finds them
 * only by ARN). A name maps to at most one live stack.
 */
export class StackStore {
  private readonly byId = new Map<string, Stack>();
  private readonly liveByName = new Map<string, Stack>();

  constructor(
    private readonly region: string,
    private readonly accountId: string,
  ) {}

  newStackId(name: string): string {
    return `arn:aws:cloudformation:${this.region}:${this.accountId}:stack/${name}/${randomUUID()}`;
  }

  add(stack: Stack): void {
    this.byId.set(stack.stackId, stack);
    this.liveByName.set(stack.stackName, stack);
  }

  /** By name: live stacks only. By ARN: deleted ones too (as AWS). */
  find(nameOrId: string): Stack | undefined {
    if (nameOrId.startsWith('arn:')) return this.byId.get(nameOrId);
    return this.liveByName.get(nameOrId);
  }

  /** Marks a stack deleted: its name is free again, its ARN still resolves. */
  retire(stack: Stack): void {
    if (this.liveByName.get(stack.stackName) === stack) this.liveByName.delete(stack.stackName);
  }

  /** Creation order, deleted ones included. */
  all(): Stack[] {
    return [...this.byId.values()];
  }

  live(): Stack[] {
    return [...this.liveByName.values()];
  }
}
