import type { XmlValue } from '../aws/xml';
import type { ChangeSet } from './change-sets';
import type { Stack, StackEvent, StackResource } from './model';
import type { ResourceChange } from './plan';

/** The awsQuery shapes of CloudFormation's results (field order as AWS sends them). */

type Shape = { [name: string]: XmlValue | undefined };

/** Event timestamps keep milliseconds (AWS's do), so clients can order events within one second. */
function preciseTime(date: Date): string {
  return date.toISOString();
}

export function stackShape(stack: Stack): Shape {
  return {
    StackId: stack.stackId,
    StackName: stack.stackName,
    ChangeSetId: stack.changeSetId,
    Description: stack.definition?.template.description,
    Parameters:
      stack.definition?.describedParameters.map((p) => ({ ParameterKey: p.key, ParameterValue: p.value })) ??
      [],
    CreationTime: stack.creationTime,
    DeletionTime: stack.deletionTime,
    LastUpdatedTime: stack.lastUpdatedTime,
    RollbackConfiguration: { RollbackTriggers: [] },
    StackStatus: stack.status,
    StackStatusReason: stack.statusReason,
    DisableRollback: stack.disableRollback,
    NotificationARNs: stack.notificationArns,
    TimeoutInMinutes: stack.timeoutInMinutes,
    Capabilities: stack.capabilities,
    Outputs: stack.outputs.map((o) => ({
      OutputKey: o.key,
      OutputValue: o.value,
      Description: o.description,
      ExportName: o.exportName,
    })),
    RoleARN: stack.roleArn,
    Tags: stack.tags.map((t) => ({ Key: t.key, Value: t.value })),
    EnableTerminationProtection: stack.terminationProtection,
    DriftInformation: { StackDriftStatus: 'NOT_CHECKED' },
  };
}

export function stackSummaryShape(stack: Stack): Shape {
  return {
    StackId: stack.stackId,
    StackName: stack.stackName,
    TemplateDescription: stack.definition?.template.description,
    CreationTime: stack.creationTime,
    LastUpdatedTime: stack.lastUpdatedTime,
    DeletionTime: stack.deletionTime,
    StackStatus: stack.status,
    StackStatusReason: stack.statusReason,
    DriftInformation: { StackDriftStatus: 'NOT_CHECKED' },
  };
}

export function eventShape(event: StackEvent): Shape {
  return {
    StackId: event.stackId,
    EventId: event.eventId,
    StackName: event.stackName,
    LogicalResourceId: event.logicalId,
    PhysicalResourceId: event.physicalId,
    ResourceType: event.resourceType,
    Timestamp: preciseTime(event.timestamp),
    ResourceStatus: event.status,
    ResourceStatusReason: event.reason,
    ResourceProperties: event.properties,
    ClientRequestToken: event.clientRequestToken,
  };
}

export function stackResourceShape(stack: Stack, resource: StackResource): Shape {
  return {
    StackName: stack.stackName,
    StackId: stack.stackId,
    LogicalResourceId: resource.logicalId,
    PhysicalResourceId: resource.physicalId,
    ResourceType: resource.type,
    Timestamp: preciseTime(resource.updatedAt),
    ResourceStatus: resource.status,
    ResourceStatusReason: resource.statusReason,
    DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' },
  };
}

export function stackResourceDetailShape(stack: Stack, resource: StackResource): Shape {
  return {
    StackName: stack.stackName,
    StackId: stack.stackId,
    LogicalResourceId: resource.logicalId,
    PhysicalResourceId: resource.physicalId,
    ResourceType: resource.type,
    LastUpdatedTimestamp: preciseTime(resource.updatedAt),
    ResourceStatus: resource.status,
    ResourceStatusReason: resource.statusReason,
    Metadata: resource.metadata === undefined ? undefined : JSON.stringify(resource.metadata),
    DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' },
  };
}

export function resourceSummaryShape(resource: StackResource): Shape {
  return {
    LogicalResourceId: resource.logicalId,
    PhysicalResourceId: resource.physicalId,
    ResourceType: resource.type,
    LastUpdatedTimestamp: preciseTime(resource.updatedAt),
    ResourceStatus: resource.status,
    ResourceStatusReason: resource.statusReason,
    DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' },
  };
}

function resourceChangeShape(change: ResourceChange): Shape {
  return {
    PolicyAction: change.policyAction,
    Action: change.action,
    LogicalResourceId: change.logicalId,
    PhysicalResourceId: change.physicalId,
    ResourceType: change.type,
    Replacement: change.replacement,
    Scope: change.scope,
    Details: change.details.map((d) => ({
      Target: {
        Attribute: d.target.attribute,
        Name: d.target.name,
        RequiresRecreation: d.target.requiresRecreation,
      },
      Evaluation: d.evaluation,
      ChangeSource: d.changeSource,
      CausingEntity: d.causingEntity,
    })),
  };
}

export function changeShape(change: ResourceChange): Shape {
  return { Type: 'Resource', ResourceChange: resourceChangeShape(change) };
}

export function changeSetSummaryShape(changeSet: ChangeSet): Shape {
  return {
    StackId: changeSet.stackId,
    StackName: changeSet.stackName,
    ChangeSetId: changeSet.id,
    ChangeSetName: changeSet.name,
    ExecutionStatus: changeSet.executionStatus,
    Status: changeSet.status,
    StatusReason: changeSet.statusReason,
    CreationTime: changeSet.creationTime,
    Description: changeSet.description,
    IncludeNestedStacks: false,
  };
}
