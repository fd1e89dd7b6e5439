import { randomUUID } from 'node:crypto';
import type { StackDefinition, Tag } from './model';
import type { ResourceChange } from './plan';

export type ChangeSetStatus =
  'CREATE_PENDING' | 'CREATE_IN_PROGRESS' | 'CREATE_COMPLETE' | 'DELETE_COMPLETE' | 'FAILED';
export type ExecutionStatus =
  'UNAVAILABLE' | 'AVAILABLE' | 'EXECUTE_IN_PROGRESS' | 'EXECUTE_COMPLETE' | 'EXECUTE_FAILED' | 'OBSOLETE';

export interface ChangeSet {
  id: string;
  name: string;
  stackId: string;
  stackName: string;
  type: 'CREATE' | 'UPDATE';
  status: ChangeSetStatus;
  statusReason?: string;
  executionStatus: ExecutionStatus;
  creationTime: Date;
  description?: string;
  definition: StackDefinition;
  capabilities: string[];
  tags: Tag[];
  roleArn?: string;
  notificationArns: string[];
  clientToken?: string;
  changes: ResourceChange[];
  onStackFailure?: 'ROLLBACK' | 'DO_NOTHING' | 'DELETE';
}

/** Change sets by ARN, and by (stack, name) — names are unique per stack. */
export class ChangeSetStore {
  private readonly byId = new Map<string, ChangeSet>();

  constructor(
    private readonly region: string,
    private readonly accountId: string,
  ) {}

  newId(name: string): string {
    return `arn:aws:cloudformation:${this.region}:${this.accountId}:changeSet/${name}/${randomUUID()}`;
  }

  add(changeSet: ChangeSet): void {
    this.byId.set(changeSet.id, changeSet);
  }

  /** By ARN, or by name within the stack (given by name or ARN). */
  find(nameOrArn: string, stack?: { stackId: string }): ChangeSet | undefined {
    if (nameOrArn.startsWith('arn:')) return this.byId.get(nameOrArn);
    if (!stack) return undefined;
    return this.forStack(stack.stackId).find((cs) => cs.name === nameOrArn);
  }

  forStack(stackId: string): ChangeSet[] {
    return [...this.byId.values()].filter((cs) => cs.stackId === stackId);
  }

  delete(id: string): void {
    this.byId.delete(id);
  }
}
