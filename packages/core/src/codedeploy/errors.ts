import { KeylessError } from '../errors';
import type { InstanceTimeline } from './timeline';

/** The exact CLI command and console page to follow a deployment that may still be running. */
export function howToWatchDeployment(deploymentId: string, region: string): string {
  return (
    `watch it with \`aws deploy get-deployment --deployment-id ${deploymentId} --region ${region}\` ` +
    `or https://${region}.console.aws.amazon.com/codesuite/codedeploy/deployments/${deploymentId}?region=${region}`
  );
}

/** One problem in an appspec file, at a 1-based line and column. */
export interface AppSpecProblem {
  line: number;
  column: number;
  message: string;
}

/** The appspec is missing, misplaced or says something the CodeDeploy agent would refuse. Exit 2. */
export class AppSpecInvalidError extends KeylessError {
  readonly code = 'AppSpecInvalid';
  override readonly exitCode = 2;
  constructor(
    /** The appspec's path relative to the bundle root ('' when none was found). */
    readonly file: string,
    readonly problems: AppSpecProblem[],
    message: string,
    fix: string,
  ) {
    super(message, fix);
  }
}

/** The workspace cannot be bundled as it is: a symlink leaving it, a symlink loop, an unreadable file. Exit 2. */
export class BundleError extends KeylessError {
  readonly code = 'Bundle';
  override readonly exitCode = 2;
}

/** The bundle bucket is missing, denied, or the upload failed. */
export class BundleUploadError extends KeylessError {
  readonly code = 'BundleUpload';
}

/** An S3 revision (--s3-bucket/--s3-key) does not exist or cannot be read. */
export class RevisionNotFoundError extends KeylessError {
  readonly code = 'RevisionNotFound';
}

/** The application or deployment group does not exist in this account and region. */
export class DeploymentTargetNotFoundError extends KeylessError {
  readonly code = 'DeploymentTargetNotFound';
}

/** The deploy role may not call a CodeDeploy or S3 action (told apart from "does not exist"). */
export class CodeDeployAccessDeniedError extends KeylessError {
  readonly code = 'CodeDeployAccessDenied';
}

/** CodeDeploy refused a request for a reason the user must fix. */
export class CodeDeployRequestError extends KeylessError {
  readonly code = 'CodeDeployRequest';
}

/** The group stayed busy with other deployments through every retry. */
export class DeploymentGroupBusyError extends KeylessError {
  readonly code = 'DeploymentGroupBusy';
  constructor(
    readonly blockingDeploymentId: string | undefined,
    message: string,
    fix: string,
  ) {
    super(message, fix);
  }
}

/** One failed lifecycle event on one instance: the root cause of a failed deployment. */
export interface FailedLifecycleEvent {
  instanceId: string;
  /** Blue or Green in a blue/green deployment. */
  label?: string;
  event: string;
  errorCode?: string;
  scriptName?: string;
  exitCode?: number;
  message?: string;
  /** The last lines of the hook's output. */
  logTail?: string;
}

/** The deployment ended Failed or Stopped. The message carries errorInformation and per-instance diagnostics. */
export class DeploymentFailedError extends KeylessError {
  readonly code = 'DeploymentFailed';
  constructor(
    readonly deploymentId: string,
    readonly status: string,
    readonly errorCode: string | undefined,
    readonly failedEvents: FailedLifecycleEvent[],
    readonly rollback: { deploymentId: string; status?: string; message?: string } | undefined,
    message: string,
    fix: string,
    /** Every instance's lifecycle timeline when the deployment ended (empty when none was fetched). */
    readonly instances: InstanceTimeline[] = [],
  ) {
    super(message, fix);
  }
}

/** We stopped waiting; the deployment may still be running (or was stopped on request). */
export class DeploymentTimeoutError extends KeylessError {
  readonly code = 'DeploymentTimeout';
  constructor(
    readonly deploymentId: string,
    readonly lastStatus: string | undefined,
    readonly stopped: boolean,
    message: string,
    fix: string,
    /** The instances' lifecycle timelines as last seen (empty when none was fetched). */
    readonly instances: InstanceTimeline[] = [],
  ) {
    super(message, fix);
  }
}

/**
 * The run was cancelled (the wait's AbortSignal fired). `stopped` says whether Keyless stopped the deployment
 * (StopDeployment with automatic rollback) or left it running in AWS; `deploymentId` is absent when the
 * cancel came before the deployment was created.
 */
export class DeploymentCancelledError extends KeylessError {
  readonly code = 'DeploymentCancelled';
  constructor(
    readonly deploymentId: string | undefined,
    readonly stopped: boolean,
    /** The deployment's status when Keyless last looked. */
    readonly lastStatus: string | undefined,
    readonly rollback: { deploymentId: string; status?: string } | undefined,
    message: string,
    fix: string,
    readonly instances: InstanceTimeline[] = [],
  ) {
    super(message, fix);
  }
}
