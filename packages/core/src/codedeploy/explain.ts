import { awsErrorCode, awsErrorMessage } from '../aws/aws-errors';
import { InvalidInputError, isKeylessError, type KeylessError } from '../errors';
import { CodeDeployAccessDeniedError, CodeDeployRequestError, DeploymentTargetNotFoundError } from './errors';

export interface CodeDeployCallContext {
  operation: string;
  applicationName: string;
  deploymentGroupName?: string;
  region: string;
}

/**
 * The `d-…` id of the deployment blocking a group, from DeploymentLimitExceededException's message ("The
 * Deployment Group 'X' already has an active Deployment 'd-…'", older "…is already deploying 'd-…'"): the
 * only place AWS gives it.
 */
export function blockingDeploymentId(message: string): string | undefined {
  return /\b(d-[A-Z0-9]{9})\b/.exec(message)?.[1];
}

/**
 * A CodeDeploy SDK error as a typed error for a person. "Does not exist" is told apart from access denied and
 * from a wrong region (the toolkit reported all three as "does not exist").
 */
export function explainCodeDeployError(error: unknown, context: CodeDeployCallContext): KeylessError {
  if (isKeylessError(error)) return error;
  const code = awsErrorCode(error);
  const message = awsErrorMessage(error);
  const { operation, applicationName, deploymentGroupName, region } = context;
  if (code === 'ApplicationDoesNotExistException') {
    return new DeploymentTargetNotFoundError(
      `CodeDeploy application ${applicationName} does not exist in ${region} (for this account).`,
      `Check the name (case-sensitive) and the region (--region; applications are regional), or create it first.`,
      { cause: error },
    );
  }
  if (code === 'DeploymentGroupDoesNotExistException') {
    return new DeploymentTargetNotFoundError(
      `Deployment group ${deploymentGroupName ?? '?'} does not exist in CodeDeploy application ${applicationName} (${region}).`,
      `Check the name (case-sensitive; \`aws deploy list-deployment-groups --application-name ${applicationName} --region ${region}\` lists them).`,
      { cause: error },
    );
  }
  if (
    code === 'AccessDeniedException' ||
    code === 'AccessDenied' ||
    /not authorized to perform/i.test(message)
  ) {
    return new CodeDeployAccessDeniedError(
      `The deploy role may not call codedeploy:${operation} on application ${applicationName}${deploymentGroupName ? `/${deploymentGroupName}` : ''} in ${region}: ${message}`,
      `Allow codedeploy:${operation} in the role's policy for arn:aws:codedeploy:${region}:<account>:application:${applicationName} (and its deployment groups).`,
      { cause: error },
    );
  }
  if (code === 'UnrecognizedClientException' || code === 'InvalidSignatureException') {
    return new CodeDeployAccessDeniedError(
      `CodeDeploy in ${region} rejected the credentials (${code}): ${message}`,
      'Check the region and that the credentials come from this partition and account.',
      { cause: error },
    );
  }
  if (
    code === 'InvalidApplicationNameException' ||
    code === 'InvalidDeploymentGroupNameException' ||
    code === 'InvalidDeploymentConfigNameException' ||
    code === 'DeploymentConfigDoesNotExistException' ||
    code === 'InvalidAutoRollbackConfigException' ||
    code === 'InvalidFileExistsBehaviorException' ||
    code === 'InvalidIgnoreApplicationStopFailuresValueException' ||
    code === 'InvalidUpdateOutdatedInstancesOnlyValueException' ||
    code === 'DescriptionTooLongException'
  ) {
    return new InvalidInputError(
      `CodeDeploy refused ${operation} (${code}): ${message}`,
      'Correct that input and re-run.',
    );
  }
  return new CodeDeployRequestError(
    `CodeDeploy ${operation} failed for ${applicationName}${deploymentGroupName ? `/${deploymentGroupName}` : ''}: ${message || code || 'no message'}`,
    'Re-run; if it persists, check the application in the CodeDeploy console.',
    { cause: error },
  );
}
