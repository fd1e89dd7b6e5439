import { randomUUID } from 'node:crypto';
import {
  DescribeChangeSetCommand,
  type DescribeChangeSetOutput,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import { awsErrorCode, awsErrorMessage } from '../aws/aws-errors';
import { InvalidInputError } from '../errors';
import { summarizeChanges, type ChangeSetSummary } from './changeset-summary';
import { deleteChangeSet, isEmptyChangeSet, waitForChangeSet } from './changeset';
import { call, createEngine, type CloudFormationContext, type Engine } from './context';
import { describeOrExplain, startChangeSetExecution, waitOutOtherOperation } from './deploy';
import {
  ChangeSetFailedError,
  ChangeSetNotExecutableError,
  ChangeSetNotFoundError,
  EmptyChangeSetError,
} from './errors';
import { explainCloudFormationError } from './explain';
import { failureFor } from './failure';
import { stackOutputs, type StackOutputEntry } from './outputs';
import { isInProgress, successStatuses, type StackOperation } from './stack';
import { waitForStack } from './wait';

export interface ExecuteChangeSetOptions {
  /** The change set's name (then `stackName` is needed too) or its ARN. */
  changeSetName: string;
  stackName?: string;
  /** What a change set with no changes (CloudFormation marks it FAILED) means: failure (default) or success. */
  onEmpty?: 'fail' | 'succeed';
  /** Delete a change set that turned out empty. */
  deleteEmpty?: boolean;
  disableRollback?: boolean;
  /** Budget for each wait (the change set's creation, the stack operation), default 60 minutes. */
  timeoutMinutes?: number;
  /** Default: a fresh `keyless-<uuid>` per run. */
  clientRequestToken?: string;
}

/**
 * `created`/`updated`: executed now. `empty`: it had no changes, so nothing ran. `already-executed`: it was
 * executed before (a re-run of the same pipeline) and is still the stack's latest change set, so nothing ran.
 */
export type ExecuteChangeSetOutcome = 'created' | 'updated' | 'empty' | 'already-executed';

export interface ExecuteChangeSetResult {
  stackName: string;
  stackId: string;
  changeSetId: string;
  changeSetName: string;
  outcome: ExecuteChangeSetOutcome;
  /** The stack's status at the end. */
  status: string;
  outputs: Record<string, string>;
  exports: Record<string, string>;
  /** The outputs as DescribeStacks lists them. */
  outputList: StackOutputEntry[];
  summary: ChangeSetSummary;
  /** True when an empty change set was deleted. */
  deleted?: boolean;
  clientRequestToken: string;
}

/**
 * Executes a change set someone created earlier (a review step, another tool) and waits for the stack
 * operation while printing its events. A change set still being computed is waited for; a stack busy with
 * another operation is waited out; an empty change set is recognised structurally.
 */
export async function executeChangeSet(
  options: ExecuteChangeSetOptions,
  ctx: CloudFormationContext,
): Promise<ExecuteChangeSetResult> {
  validateOptions(options);
  const engine = createEngine(ctx);
  const { reporter } = engine;
  const token = options.clientRequestToken ?? `keyless-${randomUUID()}`;
  const timeoutMs = (options.timeoutMinutes ?? 60) * 60_000;

  const first = await describeChangeSet(engine, options);
  const stackName = first.StackName ?? options.stackName ?? '?';
  const changeSetId = first.ChangeSetId ?? options.changeSetName;
  const changeSetName = first.ChangeSetName ?? options.changeSetName;
  const created = await waitForChangeSet(engine, stackName, changeSetId, timeoutMs);
  const summary = summarizeChanges(changeSetName, stackName, created.changes);
  const base = { stackName, changeSetId, changeSetName, summary, clientRequestToken: token };
  const described = created.description;

  if (described.Status !== 'CREATE_COMPLETE') {
    if (isEmptyChangeSet(created)) return empty(engine, options, base, described.StackId ?? stackName);
    throw new ChangeSetFailedError(
      `Change set ${changeSetName} of stack ${stackName} cannot be executed: it is ${described.Status ?? 'in an unknown state'} (${described.StatusReason ?? 'no reason given'}).`,
      'Fix the cause named there (template, parameters or permissions) and create a new change set.',
    );
  }

  let stack = await describeOrExplain(engine, described.StackId ?? stackName);
  if (!stack) throw notFound(options, engine.region);
  let executionStatus = described.ExecutionStatus;
  if (isInProgress(stack.StackStatus) && stack.StackStatus !== 'REVIEW_IN_PROGRESS') {
    await waitOutOtherOperation(engine, stack, timeoutMs);
    stack = (await describeOrExplain(engine, stack.StackId ?? stackName)) ?? stack;
    executionStatus = (await describeChangeSet(engine, { ...options, changeSetName: changeSetId }))
      .ExecutionStatus;
  }
  const stackId = stack.StackId ?? stackName;

  if (executionStatus === 'EXECUTE_COMPLETE' && stack.ChangeSetId === changeSetId) {
    reporter.info(
      `Change set ${changeSetName} was already executed and is still the latest change of stack ${stackName} (${stack.StackStatus}); nothing to do.`,
    );
    return {
      ...base,
      stackId,
      outcome: 'already-executed',
      status: stack.StackStatus ?? 'UNKNOWN',
      ...stackOutputs(stack),
    };
  }
  if (executionStatus !== 'AVAILABLE') throw notExecutable(changeSetName, stackName, executionStatus, stack);

  reporter.info(summary.text);
  const operation: StackOperation = stack.StackStatus === 'REVIEW_IN_PROGRESS' ? 'create' : 'update';
  const tail = await startChangeSetExecution(engine, {
    stackId,
    stackName,
    changeSetId,
    label: changeSetName,
    token,
    disableRollback: options.disableRollback,
  });
  reporter.info(`Executing change set ${changeSetName}; stack events follow.`);
  const final = await waitForStack(engine, { stackName, stackId, tail, what: operation, timeoutMs });
  const status = final.StackStatus ?? 'UNKNOWN';
  if (!successStatuses[operation].has(status)) {
    throw failureFor(stackName, operation, final, tail.events, engine.region);
  }
  reporter.info(`Stack ${stackName} ${operation === 'create' ? 'created' : 'updated'}: ${status}`);
  return {
    ...base,
    stackId: final.StackId ?? stackId,
    outcome: operation === 'create' ? 'created' : 'updated',
    status,
    ...stackOutputs(final),
  };
}

type ResultBase = Pick<
  ExecuteChangeSetResult,
  'stackName' | 'changeSetId' | 'changeSetName' | 'summary' | 'clientRequestToken'
>;

async function empty(
  engine: Engine,
  options: ExecuteChangeSetOptions,
  base: ResultBase,
  stackId: string,
): Promise<ExecuteChangeSetResult> {
  const { stackName, changeSetName, changeSetId } = base;
  if (options.deleteEmpty) await deleteChangeSet(engine, stackName, changeSetId);
  const deletedNote = options.deleteEmpty ? ' (it was deleted)' : '';
  if (options.onEmpty !== 'succeed') {
    throw new EmptyChangeSetError(
      `Change set ${changeSetName} of stack ${stackName} contains no changes, so there is nothing to execute${deletedNote}.`,
      'If an unchanged stack is fine, allow empty change sets (Azure Pipelines input noFailOnEmptyChangeSet: true).',
    );
  }
  engine.reporter.info(
    `Change set ${changeSetName} of stack ${stackName} contains no changes; nothing to execute${deletedNote}.`,
  );
  const current = await describeOrExplain(engine, stackId);
  return {
    ...base,
    stackId: current?.StackId ?? stackId,
    outcome: 'empty',
    status: current?.StackStatus ?? 'UNKNOWN',
    ...stackOutputs(current),
    ...(options.deleteEmpty ? { deleted: true } : {}),
  };
}

async function describeChangeSet(
  engine: Engine,
  options: ExecuteChangeSetOptions,
): Promise<DescribeChangeSetOutput> {
  try {
    return await call(engine, () =>
      engine.cfn.send(
        new DescribeChangeSetCommand({
          ChangeSetName: options.changeSetName,
          ...(options.stackName ? { StackName: options.stackName } : {}),
        }),
      ),
    );
  } catch (error) {
    const code = awsErrorCode(error);
    if (
      code === 'ChangeSetNotFound' ||
      code === 'ChangeSetNotFoundException' ||
      (code === 'ValidationError' && /does not exist/i.test(awsErrorMessage(error)))
    ) {
      throw notFound(options, engine.region);
    }
    throw explainCloudFormationError(error, 'DescribeChangeSet', options.stackName ?? options.changeSetName);
  }
}

function notFound(options: ExecuteChangeSetOptions, region: string): ChangeSetNotFoundError {
  const stack = options.stackName ? ` of stack ${options.stackName}` : '';
  return new ChangeSetNotFoundError(
    `Change set ${options.changeSetName}${stack} does not exist in ${region}.`,
    'Check the change set name (or ARN), the stack name and the region; executing one change set of a stack deletes its others.',
  );
}

function notExecutable(
  changeSetName: string,
  stackName: string,
  executionStatus: string | undefined,
  stack: Stack,
): ChangeSetNotExecutableError {
  const why: Record<string, string> = {
    EXECUTE_COMPLETE: 'it was already executed, and the stack has changed since',
    EXECUTE_IN_PROGRESS: 'it is being executed right now (by another run?)',
    EXECUTE_FAILED: 'its execution already failed once',
    OBSOLETE: 'the stack was updated after it was created, so it no longer applies',
    UNAVAILABLE: `CloudFormation cannot execute it now (stack ${stackName} is ${stack.StackStatus ?? 'busy'})`,
  };
  return new ChangeSetNotExecutableError(
    `Change set ${changeSetName} of stack ${stackName} cannot be executed: ${why[executionStatus ?? ''] ?? `its execution status is ${executionStatus ?? 'unknown'}`}.`,
    'Create a new change set from the current template and execute that one.',
  );
}

const changeSetArnPattern =
  /^arn:aws[-a-z]*:cloudformation:[a-z0-9-]+:\d{12}:changeSet\/[a-zA-Z][-a-zA-Z0-9]*\/[-a-zA-Z0-9]+$/;

function validateOptions(options: ExecuteChangeSetOptions): void {
  const name = options.changeSetName.trim();
  if (name === '') {
    throw new InvalidInputError('The change set name is empty.', 'Give the change set name or ARN.');
  }
  if (name.startsWith('arn:') && !changeSetArnPattern.test(name)) {
    throw new InvalidInputError(
      `The change set ARN "${name}" is malformed: a change set ARN reads arn:aws:cloudformation:<region>:<account id>:changeSet/<name>/<id>.`,
      'Copy the ARN from the step that created the change set (its ChangeSetId), or give the name and the stack name.',
    );
  }
  if (!name.startsWith('arn:') && !options.stackName) {
    throw new InvalidInputError(
      `The change set "${name}" is given by name, so its stack must be named too.`,
      "Give the stack name, or the change set's ARN instead of its name.",
    );
  }
  if (options.timeoutMinutes !== undefined && !(options.timeoutMinutes > 0)) {
    throw new InvalidInputError('The timeout must be a positive number of minutes.', 'Give e.g. 60.');
  }
}
