import { AwsError } from '../aws/errors';
import type { DeploymentRecord, DeploymentStatus, TargetStatus } from './model';
import { ACTIVE_STATUSES, epochSeconds } from './model';

/** The deployments the service knows, newest last, with the one-active-per-group rule and deploymentInfo rendering. */
export class DeploymentStore {
  private readonly deployments = new Map<string, DeploymentRecord>();

  add(deployment: DeploymentRecord): void {
    this.deployments.set(deployment.deploymentId, deployment);
  }

  get(deploymentId: string): DeploymentRecord | undefined {
    return this.deployments.get(deploymentId);
  }

  require(deploymentId: string): DeploymentRecord {
    if (!/^d-[A-Z0-9]{9}$/.test(deploymentId))
      throw new AwsError(
        'InvalidDeploymentIdException',
        'At least one of the deployment IDs was specified in an invalid format.',
      );
    const deployment = this.deployments.get(deploymentId);
    if (!deployment)
      throw new AwsError(
        'DeploymentDoesNotExistException',
        `The deployment ${deploymentId} could not be found.`,
      );
    return deployment;
  }

  /** The group's running deployment, which blocks any other (DeploymentLimitExceededException). */
  active(deploymentGroupId: string): DeploymentRecord | undefined {
    for (const deployment of this.deployments.values()) {
      if (deployment.deploymentGroupId === deploymentGroupId && ACTIVE_STATUSES.has(deployment.status))
        return deployment;
    }
    return undefined;
  }

  /** Newest first, as ListDeployments returns them. */
  list(filter: {
    applicationName?: string;
    deploymentGroupName?: string;
    statuses?: DeploymentStatus[];
    createdAfter?: Date;
    createdBefore?: Date;
  }): DeploymentRecord[] {
    return [...this.deployments.values()]
      .filter(
        (d) =>
          (filter.applicationName === undefined || d.applicationName === filter.applicationName) &&
          (filter.deploymentGroupName === undefined ||
            d.deploymentGroupName === filter.deploymentGroupName) &&
          (filter.statuses === undefined ||
            filter.statuses.length === 0 ||
            filter.statuses.includes(d.status)) &&
          (filter.createdAfter === undefined || d.createTime >= filter.createdAfter) &&
          (filter.createdBefore === undefined || d.createTime <= filter.createdBefore),
      )
      .reverse();
  }

  all(): DeploymentRecord[] {
    return [...this.deployments.values()];
  }
}

export function deploymentOverview(deployment: DeploymentRecord): Record<TargetStatus, number> | undefined {
  // Missing until targets are known (e.g. while a blue/green deployment provisions its green fleet).
  if (!deployment.targetsResolved) return undefined;
  const overview = { Pending: 0, InProgress: 0, Succeeded: 0, Failed: 0, Skipped: 0, Ready: 0 } as Record<
    TargetStatus,
    number
  >;
  for (const target of deployment.targets.values()) {
    if (target.status === 'Unknown') continue;
    overview[target.status] += 1;
  }
  return overview;
}

export function renderDeployment(deployment: DeploymentRecord): Record<string, unknown> {
  const overview = deploymentOverview(deployment);
  return {
    applicationName: deployment.applicationName,
    deploymentGroupName: deployment.deploymentGroupName,
    deploymentConfigName: deployment.deploymentConfigName,
    deploymentId: deployment.deploymentId,
    ...(deployment.previousRevision ? { previousRevision: deployment.previousRevision } : {}),
    revision: deployment.revision,
    status: deployment.status,
    ...(deployment.errorInformation ? { errorInformation: deployment.errorInformation } : {}),
    createTime: epochSeconds(deployment.createTime),
    ...(deployment.startTime ? { startTime: epochSeconds(deployment.startTime) } : {}),
    ...(deployment.completeTime ? { completeTime: epochSeconds(deployment.completeTime) } : {}),
    ...(overview ? { deploymentOverview: overview } : {}),
    ...(deployment.description !== undefined ? { description: deployment.description } : {}),
    creator: deployment.creator,
    ignoreApplicationStopFailures: deployment.ignoreApplicationStopFailures,
    ...(deployment.autoRollbackConfiguration
      ? { autoRollbackConfiguration: deployment.autoRollbackConfiguration }
      : {}),
    updateOutdatedInstancesOnly: deployment.updateOutdatedInstancesOnly,
    ...(deployment.rollbackInfo ? { rollbackInfo: deployment.rollbackInfo } : {}),
    deploymentStyle: deployment.deploymentStyle,
    ...(deployment.targetInstances ? { targetInstances: deployment.targetInstances } : {}),
    instanceTerminationWaitTimeStarted: deployment.instanceTerminationWaitTimeStarted,
    ...(deployment.blueGreenDeploymentConfiguration
      ? { blueGreenDeploymentConfiguration: deployment.blueGreenDeploymentConfiguration }
      : {}),
    ...(deployment.loadBalancerInfo ? { loadBalancerInfo: deployment.loadBalancerInfo } : {}),
    fileExistsBehavior: deployment.fileExistsBehavior,
    deploymentStatusMessages: [],
    computePlatform: 'Server',
  };
}
