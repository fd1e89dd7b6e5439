import { AwsError } from '../aws/errors';
import type { LifecycleEventName } from './agent/types';
import type {
  DeploymentRecord,
  InstanceLabel,
  LifecycleEventRecord,
  TargetRecord,
  TargetStatus,
} from './model';
import { epochSeconds } from './model';

/** A deployment's targets: creation, and the ListDeploymentTargets / BatchGet… views (new and legacy). */

export const MAX_BATCH_TARGETS = 25;

export function newTarget(
  instanceId: string,
  arnPrefix: string,
  events: LifecycleEventName[],
  now: Date,
  label?: InstanceLabel,
): TargetRecord {
  return {
    targetId: instanceId,
    targetArn: `${arnPrefix}${instanceId}`,
    ...(label ? { label } : {}),
    status: 'Pending',
    lastUpdatedAt: now,
    lifecycleEvents: events.map((lifecycleEventName) => ({ lifecycleEventName, status: 'Pending' })),
  };
}

function requireStarted(deployment: DeploymentRecord): void {
  if (!deployment.targetsResolved)
    throw new AwsError('DeploymentNotStartedException', 'The specified deployment has not started.');
}

export function listTargetIds(
  deployment: DeploymentRecord,
  filters: { statuses?: string[]; labels?: string[] },
): string[] {
  requireStarted(deployment);
  return [...deployment.targets.values()]
    .filter(
      (t) =>
        (!filters.statuses?.length || filters.statuses.includes(t.status)) &&
        (!filters.labels?.length || (t.label !== undefined && filters.labels.includes(t.label))),
    )
    .map((t) => t.targetId);
}

function renderEvent(event: LifecycleEventRecord): Record<string, unknown> {
  return {
    lifecycleEventName: event.lifecycleEventName,
    ...(event.diagnostics ? { diagnostics: event.diagnostics } : {}),
    ...(event.startTime ? { startTime: epochSeconds(event.startTime) } : {}),
    ...(event.endTime ? { endTime: epochSeconds(event.endTime) } : {}),
    status: event.status,
  };
}

export function batchGetTargets(
  deployment: DeploymentRecord,
  targetIds: string[],
): Array<Record<string, unknown>> {
  if (targetIds.length === 0)
    throw new AwsError('DeploymentTargetIdRequiredException', 'A deployment target ID was not provided.');
  if (targetIds.length > MAX_BATCH_TARGETS)
    throw new AwsError(
      'DeploymentTargetListSizeExceededException',
      `The maximum number of targets that can be associated with an Amazon ECS or AWS Lambda deployment was exceeded. The target list of both types of deployments must have exactly one item. This exception does not apply to EC2/On-premises deployments.`,
    );
  requireStarted(deployment);
  return targetIds.map((id) => {
    const target = deployment.targets.get(id);
    if (!target)
      throw new AwsError(
        'DeploymentTargetDoesNotExistException',
        `The provided target ID does not belong to the attempted deployment: ${id}`,
      );
    return {
      deploymentTargetType: 'InstanceTarget',
      instanceTarget: {
        deploymentId: deployment.deploymentId,
        targetId: target.targetId,
        targetArn: target.targetArn,
        status: target.status,
        lastUpdatedAt: epochSeconds(target.lastUpdatedAt),
        lifecycleEvents: target.lifecycleEvents.map(renderEvent),
        ...(target.label ? { instanceLabel: target.label } : {}),
      },
    };
  });
}

/** Legacy ListDeploymentInstances: same targets, filtered by InstanceStatus and InstanceType (Blue/Green). */
export function listInstanceIds(
  deployment: DeploymentRecord,
  statuses: string[] | undefined,
  types: string[] | undefined,
): string[] {
  return listTargetIds(deployment, {
    ...(statuses ? { statuses } : {}),
    ...(types ? { labels: types } : {}),
  });
}

export function instanceSummary(deployment: DeploymentRecord, target: TargetRecord): Record<string, unknown> {
  return {
    deploymentId: deployment.deploymentId,
    instanceId: target.targetArn,
    status: target.status,
    lastUpdatedAt: epochSeconds(target.lastUpdatedAt),
    lifecycleEvents: target.lifecycleEvents.map(renderEvent),
    ...(target.label ? { instanceType: target.label } : {}),
  };
}

export function setTargetStatus(target: TargetRecord, status: TargetStatus, now: Date): void {
  target.status = status;
  target.lastUpdatedAt = now;
}
