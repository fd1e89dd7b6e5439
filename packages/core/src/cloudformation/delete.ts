import { randomUUID } from 'node:crypto';
import { DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import { InvalidInputError } from '../errors';
import { call, createEngine, type CloudFormationContext, type Engine } from './context';
import { explainCloudFormationError } from './explain';
import { describeEventsPage, StackEventTail } from './events';
import { failureFor } from './failure';
import { assertServiceRoleArn, describeStack, isInProgress } from './stack';
import { waitForStack } from './wait';

export interface DeleteStackOptions {
  stackName: string;
  /** Logical ids to keep (only honoured by CloudFormation for a stack in DELETE_FAILED). */
  retainResources?: string[];
  /** CloudFormation's service role. */
  roleArn?: string;
  /** Wait budget, default 60 minutes. */
  timeoutMinutes?: number;
  clientRequestToken?: string;
}

export interface DeleteStackResult {
  stackName: string;
  /** `deleted`, or `absent` when there was no such stack (which is success: deletes are idempotent). */
  outcome: 'deleted' | 'absent';
  stackId?: string;
}

/** Deletes a stack and waits until it is gone. A stack that does not exist is success. */
export async function deleteStack(
  options: DeleteStackOptions,
  ctx: CloudFormationContext,
): Promise<DeleteStackResult> {
  if (!/^[a-zA-Z][-a-zA-Z0-9]{0,127}$/.test(options.stackName) && !options.stackName.startsWith('arn:')) {
    throw new InvalidInputError(
      `"${options.stackName}" is not a valid stack name.`,
      'Use up to 128 letters, digits and hyphens, starting with a letter (or the stack ARN).',
    );
  }
  assertServiceRoleArn(options.roleArn);
  const engine = createEngine(ctx);
  const { stackName } = options;
  let stack;
  try {
    stack = await describeStack(engine, stackName);
  } catch (error) {
    throw explainCloudFormationError(error, 'DescribeStacks', stackName);
  }
  if (!stack?.StackId || stack.StackStatus === 'DELETE_COMPLETE') {
    engine.reporter.info(`Stack ${stackName} does not exist; nothing to delete.`);
    return { stackName, outcome: 'absent' };
  }
  const timeoutMs = (options.timeoutMinutes ?? 60) * 60_000;
  if (
    isInProgress(stack.StackStatus) &&
    stack.StackStatus !== 'DELETE_IN_PROGRESS' &&
    stack.StackStatus !== 'REVIEW_IN_PROGRESS'
  ) {
    engine.reporter.info(
      `Stack ${stackName} is busy (${stack.StackStatus}); waiting for that operation to finish first.`,
    );
    const tail = new StackEventTail(
      describeEventsPage((command) => call(engine, () => engine.cfn.send(command)), stack.StackId),
      undefined,
    );
    await tail.markBaseline();
    await waitForStack(engine, {
      stackName,
      stackId: stack.StackId,
      tail,
      what: `current operation (${stack.StackStatus})`,
      timeoutMs,
    });
  }
  await deleteStackAndWait(engine, stackName, stack.StackId, {
    timeoutMs,
    token: options.clientRequestToken ?? `keyless-${randomUUID()}`,
    retainResources: options.retainResources,
    roleArn: options.roleArn,
  });
  return { stackName, outcome: 'deleted', stackId: stack.StackId };
}

/** DeleteStack, then wait for DELETE_COMPLETE; DELETE_FAILED is explained with the resources that failed. */
export async function deleteStackAndWait(
  engine: Engine,
  stackName: string,
  stackId: string,
  options: { timeoutMs: number; token: string; retainResources?: string[]; roleArn?: string },
): Promise<void> {
  const tail = new StackEventTail(
    describeEventsPage((command) => call(engine, () => engine.cfn.send(command)), stackId),
    options.token,
  );
  await tail.markBaseline();
  await call(engine, () =>
    engine.cfn.send(
      new DeleteStackCommand({
        StackName: stackId,
        ClientRequestToken: options.token,
        ...(options.retainResources?.length ? { RetainResources: options.retainResources } : {}),
        ...(options.roleArn ? { RoleARN: options.roleArn } : {}),
      }),
    ),
  ).catch((error: unknown) => {
    throw explainCloudFormationError(error, 'DeleteStack', stackName);
  });
  engine.reporter.info(`Deleting stack ${stackName}; stack events follow.`);
  const final = await waitForStack(engine, {
    stackName,
    stackId,
    tail,
    what: 'delete',
    timeoutMs: options.timeoutMs,
  });
  if (final.StackStatus !== 'DELETE_COMPLETE')
    throw failureFor(stackName, 'delete', final, tail.events, engine.region);
  engine.reporter.info(`Stack ${stackName} deleted.`);
}
