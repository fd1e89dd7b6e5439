import type { Template } from './template';

/** CloudFormation's stack and resource states (AWS's enums, verbatim). */
export type StackStatus =
  | 'CREATE_IN_PROGRESS'
  | 'CREATE_FAILED'
  | 'CREATE_COMPLETE'
  | 'ROLLBACK_IN_PROGRESS'
  | 'ROLLBACK_FAILED'
  | 'ROLLBACK_COMPLETE'
  | 'DELETE_IN_PROGRESS'
  | 'DELETE_FAILED'
  | 'DELETE_COMPLETE'
  | 'UPDATE_IN_PROGRESS'
  | 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS'
  | 'UPDATE_COMPLETE'
  | 'UPDATE_FAILED'
  | 'UPDATE_ROLLBACK_IN_PROGRESS'
  | 'UPDATE_ROLLBACK_FAILED'
  | 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS'
  | 'UPDATE_ROLLBACK_COMPLETE'
  | 'REVIEW_IN_PROGRESS';

export type ResourceStatus =
  | 'CREATE_IN_PROGRESS'
  | 'CREATE_FAILED'
  | 'CREATE_COMPLETE'
  | 'DELETE_IN_PROGRESS'
  | 'DELETE_FAILED'
  | 'DELETE_COMPLETE'
  | 'DELETE_SKIPPED'
  | 'UPDATE_IN_PROGRESS'
  | 'UPDATE_FAILED'
  | 'UPDATE_COMPLETE';

/** Stacks in these states accept UpdateStack / UPDATE change sets (AWS's updatable list, §2 of the reference). */
export const UPDATABLE_STATES: ReadonlySet<StackStatus> = new Set<StackStatus>([
  'CREATE_COMPLETE',
  'UPDATE_COMPLETE',
  'UPDATE_ROLLBACK_COMPLETE',
  'CREATE_FAILED',
  'UPDATE_FAILED',
]);

/** One deployed (or proposed) version of a stack: template plus resolved parameters. */
export interface StackDefinition {
  template: Template;
  parameters: Map<string, string | string[]>;
  /** As DescribeStacks shows them (NoEcho as `****`). */
  describedParameters: Array<{ key: string; value: string }>;
  conditions: Map<string, boolean>;
}

export interface StackResource {
  logicalId: string;
  type: string;
  physicalId?: string;
  status: ResourceStatus;
  statusReason?: string;
  /** Evaluated properties the physical resource has. */
  properties: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  ref?: string;
  attributes: Record<string, unknown>;
  updatedAt: Date;
}

export interface StackOutput {
  key: string;
  value: string;
  description?: string;
  exportName?: string;
}

export interface StackEvent {
  eventId: string;
  stackId: string;
  stackName: string;
  logicalId: string;
  physicalId: string;
  resourceType: string;
  timestamp: Date;
  status: string;
  reason?: string;
  properties?: string;
  clientRequestToken?: string;
}

export interface Tag {
  key: string;
  value: string;
}

export interface Stack {
  readonly stackId: string;
  readonly stackName: string;
  status: StackStatus;
  statusReason?: string;
  readonly creationTime: Date;
  lastUpdatedTime?: Date;
  deletionTime?: Date;
  /** Undefined while REVIEW_IN_PROGRESS (no template yet). */
  definition?: StackDefinition;
  capabilities: string[];
  tags: Tag[];
  roleArn?: string;
  notificationArns: string[];
  timeoutInMinutes?: number;
  disableRollback: boolean;
  terminationProtection: boolean;
  changeSetId?: string;
  resources: Map<string, StackResource>;
  outputs: StackOutput[];
  /** Export names this stack's template imports (an export in use cannot be removed). */
  imports: Set<string>;
  /** Oldest first; DescribeStackEvents reverses. */
  events: StackEvent[];
  /** ClientRequestToken → the API that used it, for idempotent retries. */
  requestTokens: Map<string, string>;
  /** Whether a background operation is running. */
  busy: boolean;
}
