import {
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  type Change,
  type DescribeChangeSetOutput,
} from '@aws-sdk/client-cloudformation';
import { awsErrorCode } from '../aws/aws-errors';
import { poll } from '../aws/poll';
import { call, type Engine } from './context';
import { StackOperationTimeoutError, howToWatch } from './errors';

/** A change set name for this run: after the build when there is one, else the time (both sortable). */
export function changeSetNameFor(buildId: string | undefined, now: number): string {
  if (buildId) {
    const safe = buildId.replace(/[^a-zA-Z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
    if (safe) return `keyless-${safe}`.slice(0, 128);
  }
  return `keyless-${new Date(now).toISOString().replace(/\D/g, '').slice(0, 17)}`;
}

/** A created change set: its final description and every change (all pages). */
export interface CreatedChangeSet {
  description: DescribeChangeSetOutput;
  changes: Change[];
}

/** Waits until the change set is CREATE_COMPLETE or FAILED, then reads all its changes. */
export async function waitForChangeSet(
  engine: Engine,
  stackName: string,
  changeSetId: string,
  timeoutMs: number,
): Promise<CreatedChangeSet> {
  const description = await poll<DescribeChangeSetOutput>({
    timeoutMs,
    refreshCredentials: engine.refreshCredentials,
    signal: engine.signal,
    clock: engine.clock,
    schedule: engine.schedule,
    onNote: (note) => engine.reporter.debug(`waiting for change set: ${note}`),
    onTimeout: (elapsedMs, lastStatus) =>
      new StackOperationTimeoutError(
        stackName,
        lastStatus,
        `Stopped waiting for change set ${changeSetId} of stack ${stackName} after ${Math.round(elapsedMs / 1000)} s (status ${lastStatus ?? 'unknown'}); it MAY STILL BE being created.`,
        `${howToWatch(stackName, engine.region)}; raise --timeout if it regularly takes this long.`,
      ),
    check: async () => {
      const output = await engine.cfn.send(
        new DescribeChangeSetCommand({ ChangeSetName: changeSetId, StackName: stackName }),
      );
      const status = output.Status;
      if (
        status === 'CREATE_COMPLETE' ||
        status === 'FAILED' ||
        status === 'DELETE_COMPLETE' ||
        status === 'DELETE_FAILED'
      ) {
        return { done: true, value: output };
      }
      return { done: false, ...(status ? { status } : {}) };
    },
  });
  const changes = [...(description.Changes ?? [])];
  let nextToken = description.NextToken;
  while (nextToken) {
    const token = nextToken;
    const page = await call(engine, () =>
      engine.cfn.send(
        new DescribeChangeSetCommand({ ChangeSetName: changeSetId, StackName: stackName, NextToken: token }),
      ),
    );
    changes.push(...(page.Changes ?? []));
    nextToken = page.NextToken;
  }
  return { description, changes };
}

/**
 * An empty change set, recognised structurally: FAILED with no changes and a reason saying so. The phrases
 * are matched anywhere in the reason, because AWS prefixes them (e.g. "CloudFormation failed to preprocess
 * the stack: …"), which broke the toolkit's starts-with check.
 */
export function isEmptyChangeSet(created: CreatedChangeSet): boolean {
  if (created.description.Status !== 'FAILED' || created.changes.length > 0) return false;
  return /didn't contain changes|did not contain changes|no updates are to be performed|no changes/i.test(
    created.description.StatusReason ?? '',
  );
}

/** Deletes a change set; one that is already gone is fine. */
export async function deleteChangeSet(
  engine: Engine,
  stackName: string,
  changeSetName: string,
): Promise<void> {
  try {
    await call(engine, () =>
      engine.cfn.send(new DeleteChangeSetCommand({ ChangeSetName: changeSetName, StackName: stackName })),
    );
  } catch (error) {
    const code = awsErrorCode(error);
    if (code === 'ChangeSetNotFoundException' || code === 'ChangeSetNotFound') return;
    if (code === 'ValidationError' && /does not exist/i.test(String((error as Error).message))) return;
    throw error;
  }
}
