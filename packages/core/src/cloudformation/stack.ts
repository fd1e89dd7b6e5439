import { InvalidInputError } from '../errors';
import { DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { awsErrorCode, awsErrorMessage } from '../aws/aws-errors';
import { call, type Engine } from './context';

/**
 * The stack, or undefined when it does not exist. ONLY a ValidationError saying "does not exist" means
 * absent: throttling, AccessDenied or a network error must never be mistaken for it (the toolkit's bug, which
 * turned them into a CreateStack that failed with AlreadyExists).
 */
export async function describeStack(engine: Engine, stackNameOrId: string): Promise<Stack | undefined> {
  try {
    const output = await call(engine, () =>
      engine.cfn.send(new DescribeStacksCommand({ StackName: stackNameOrId })),
    );
    return output.Stacks?.[0];
  } catch (error) {
    if (isStackMissingError(error)) return undefined;
    throw error;
  }
}

export function isStackMissingError(error: unknown): boolean {
  return awsErrorCode(error) === 'ValidationError' && /does not exist/i.test(awsErrorMessage(error));
}

export function isInProgress(status: string | undefined): boolean {
  return status !== undefined && status.endsWith('_IN_PROGRESS');
}

/** Statuses in which an operation has ended (REVIEW_IN_PROGRESS is a stack waiting for its first change set). */
export function isSettled(status: string | undefined): boolean {
  return status !== undefined && (!isInProgress(status) || status === 'REVIEW_IN_PROGRESS');
}

export const successStatuses = {
  create: new Set(['CREATE_COMPLETE']),
  update: new Set(['UPDATE_COMPLETE']),
  delete: new Set(['DELETE_COMPLETE']),
} as const;

export type StackOperation = keyof typeof successStatuses;

/** The service role CloudFormation assumes for the stack's resources, checked for shape before any call. */
export function assertServiceRoleArn(roleArn: string | undefined): void {
  if (roleArn === undefined || /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/.test(roleArn)) return;
  throw new InvalidInputError(
    `The CloudFormation service role "${roleArn}" is not an IAM role ARN.`,
    'Give it as arn:aws:iam::<12-digit account id>:role/<name>, or leave it out to use the deploying credentials.',
  );
}
