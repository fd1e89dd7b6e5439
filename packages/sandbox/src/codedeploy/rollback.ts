import type { AutoRollbackConfiguration, AutoRollbackEvent, DeploymentRecord } from './model';

/**
 * Automatic rollback: when a deployment fails (or is stopped on request) and its rollback configuration says so,
 * CodeDeploy starts a new deployment (creator codeDeployRollback) of the group's last successful revision, and
 * links the two through rollbackInfo.
 */

export type EndReason =
  { kind: 'failed' } | { kind: 'stopped-on-request'; autoRollbackEnabled?: boolean } | { kind: 'other' };

export function rollbackWanted(
  deployment: DeploymentRecord,
  config: AutoRollbackConfiguration | undefined,
  reason: EndReason,
): boolean {
  // A rollback that fails is not rolled back again.
  if (deployment.creator === 'codeDeployRollback') return false;
  const enabledFor = (event: AutoRollbackEvent) =>
    config?.enabled === true && (config.events ?? []).includes(event);
  if (reason.kind === 'failed') return enabledFor('DEPLOYMENT_FAILURE');
  if (reason.kind === 'stopped-on-request')
    return reason.autoRollbackEnabled ?? enabledFor('DEPLOYMENT_STOP_ON_REQUEST');
  return false;
}

export const NO_ROLLBACK_TARGET_MESSAGE =
  'Automatic rollback was not triggered because the deployment group has no last successful deployment to roll back to.';

export function triggeringMessage(rollbackDeploymentId: string): string {
  return `Rolled back by deployment ${rollbackDeploymentId}: the last successful revision was redeployed.`;
}

export function rollbackMessage(triggeringDeploymentId: string, lastGoodDeploymentId: string): string {
  return `Automatic rollback of deployment ${triggeringDeploymentId} to the revision of deployment ${lastGoodDeploymentId}.`;
}

export function rollbackFailedMessage(reason: string): string {
  return `Automatic rollback could not start: ${reason}`;
}
