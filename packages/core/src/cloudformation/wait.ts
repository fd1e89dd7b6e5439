import { DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { poll } from '../aws/poll';
import type { Engine } from './context';
import { StackOperationTimeoutError, howToWatch } from './errors';
import { formatEvent, isStackEvent, type StackEventTail } from './events';
import { isInProgress, isSettled } from './stack';

export interface StackWait {
  stackName: string;
  stackId: string;
  tail: StackEventTail;
  /** e.g. "update", used in progress and timeout messages. */
  what: string;
  timeoutMs: number;
}

/**
 * Besides the events, look at the stack itself every this many checks: often while the endpoint has shown no
 * stack event of ours (it may not emit them), rarely (about once a minute) once it has, as a safety net.
 */
const describeEveryWithoutStackEvents = 8;
const describeEveryWithStackEvents = 24;
/** A settled status seen before the operation was observed running only counts after this long. */
const startGraceMs = 10_000;
/** Say we are still waiting when nothing was printed for this long. */
const heartbeatMs = 30_000;

/**
 * Waits until the stack's operation ends, printing its events as they arrive. Each check is ONE
 * DescribeStackEvents call (the stack's own terminal event ends the wait), so the interval can stay short
 * and completion is noticed within a second or two at under 30 calls a minute. Returns the stack as
 * DescribeStacks shows it at the end (by id, so a deleted stack is still found).
 */
export async function waitForStack(engine: Engine, wait: StackWait): Promise<Stack> {
  const { reporter, clock } = engine;
  const started = clock.now();
  let lastOutput = started;
  let seenRunning = false;
  let sawStackEvent = false;
  const describe = async () =>
    (await engine.cfn.send(new DescribeStacksCommand({ StackName: wait.stackId }))).Stacks?.[0];

  return poll<Stack>({
    timeoutMs: wait.timeoutMs,
    refreshCredentials: engine.refreshCredentials,
    signal: engine.signal,
    clock,
    schedule: engine.schedule,
    onNote: (note) => reporter.debug(`waiting for stack ${wait.stackName}: ${note}`),
    onProgress: ({ elapsedMs, status }) => {
      if (clock.now() - lastOutput < heartbeatMs) return;
      lastOutput = clock.now();
      reporter.info(
        `Still waiting for the ${wait.what} of stack ${wait.stackName} (${status ?? 'in progress'}, ${Math.round(elapsedMs / 1000)} s so far)`,
      );
    },
    onTimeout: (elapsedMs, lastStatus) =>
      new StackOperationTimeoutError(
        wait.stackName,
        lastStatus,
        `Stopped waiting for the ${wait.what} of stack ${wait.stackName} after ${Math.round(elapsedMs / 60_000)} min (last status ${lastStatus ?? 'unknown'}); it MAY STILL BE RUNNING.`,
        `${howToWatch(wait.stackName, engine.region)}; raise --timeout if it regularly takes this long.`,
      ),
    check: async (attempt) => {
      const events = await wait.tail.fetchNew();
      let ended = false;
      let status: string | undefined;
      for (const event of events) {
        reporter.info(formatEvent(event));
        lastOutput = clock.now();
        if (!isStackEvent(event, wait.stackName)) continue;
        sawStackEvent = true;
        status = event.ResourceStatus;
        if (isInProgress(status)) seenRunning = true;
        else ended = true;
      }
      const describeEvery = sawStackEvent ? describeEveryWithStackEvents : describeEveryWithoutStackEvents;
      if (ended || attempt % describeEvery === 0) {
        const stack = await describe();
        const current = stack?.StackStatus;
        if (isInProgress(current) && current !== 'REVIEW_IN_PROGRESS') seenRunning = true;
        const settledForReal = seenRunning || ended || clock.now() - started >= startGraceMs;
        if (stack && isSettled(current) && current !== 'REVIEW_IN_PROGRESS' && settledForReal) {
          // Seen through DescribeStacks, not the events: the last events may not have been listed yet.
          if (!ended) for (const event of await wait.tail.fetchNew()) reporter.info(formatEvent(event));
          return { done: true, value: stack };
        }
        status = current ?? status;
      }
      return { done: false, ...(status ? { status } : {}) };
    },
  });
}
