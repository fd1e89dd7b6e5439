import type { Clock } from '../clock';
import type { AgentDeployment, LifecycleEventName, LifecycleEventResult } from './agent/types';
import type { AgentPool } from './agents';
import type { DeploymentRecord, TargetRecord } from './model';
import { setTargetStatus } from './targets';
import type { TrafficControl } from './traffic';

/**
 * Running lifecycle events on one target: the agent for scriptable events, the load balancer for Block/Allow
 * traffic, and AWS's bookkeeping (start/end times, diagnostics, later events Skipped after a failure).
 */

export const INSTALL_EVENTS: LifecycleEventName[] = [
  'ApplicationStop',
  'DownloadBundle',
  'BeforeInstall',
  'Install',
  'AfterInstall',
  'ApplicationStart',
  'ValidateService',
];
export const BLOCK_EVENTS: LifecycleEventName[] = ['BeforeBlockTraffic', 'BlockTraffic', 'AfterBlockTraffic'];
export const ALLOW_EVENTS: LifecycleEventName[] = ['BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic'];

/** Events whose failure ignoreApplicationStopFailures tolerates: they run the previous revision's scripts. */
const PREVIOUS_REVISION_EVENTS = new Set<LifecycleEventName>([
  'ApplicationStop',
  'BeforeBlockTraffic',
  'AfterBlockTraffic',
]);

export interface RunContext {
  deployment: DeploymentRecord;
  agentDeployment: AgentDeployment;
  agents: AgentPool;
  traffic: TrafficControl;
  clock: Clock;
  /** Aborted by StopDeployment and by the sandbox closing. */
  signal: AbortSignal;
  log(line: string): void;
}

export type EventsOutcome = 'Succeeded' | 'Failed' | 'Aborted';

class Aborted extends Error {}

/** Resolves with the work's result, or rejects with Aborted as soon as the signal fires (the work runs on). */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function serviceResult(
  name: LifecycleEventName,
  startTime: Date,
  error: Error | undefined,
  clock: Clock,
): LifecycleEventResult {
  return {
    lifecycleEventName: name,
    status: error ? 'Failed' : 'Succeeded',
    startTime,
    endTime: new Date(clock.now()),
    diagnostics: {
      errorCode: error ? 'UnknownError' : 'Success',
      scriptName: '',
      message: error ? error.message : 'Succeeded',
      logTail: '',
    },
  };
}

async function runOne(
  ctx: RunContext,
  target: TargetRecord,
  name: LifecycleEventName,
): Promise<LifecycleEventResult> {
  const startTime = new Date(ctx.clock.now());
  if (name === 'BlockTraffic' || name === 'AllowTraffic') {
    try {
      await (name === 'BlockTraffic'
        ? ctx.traffic.block([target.targetId])
        : ctx.traffic.allow([target.targetId]));
      return serviceResult(name, startTime, undefined, ctx.clock);
    } catch (error) {
      return serviceResult(name, startTime, error as Error, ctx.clock);
    }
  }
  try {
    return await ctx.agents.agentFor(target.targetId).runEvent(ctx.agentDeployment, name);
  } catch (error) {
    return serviceResult(name, startTime, error as Error, ctx.clock);
  }
}

/**
 * Runs `names` (a slice of the target's planned events) in order. The target is InProgress meanwhile; on success
 * it ends `finalStatus` (Succeeded, or Ready for green instances waiting to be rerouted to).
 */
export async function runEvents(
  ctx: RunContext,
  target: TargetRecord,
  names: LifecycleEventName[],
  finalStatus: 'Succeeded' | 'Ready' | 'InProgress' = 'Succeeded',
): Promise<EventsOutcome> {
  const now = () => new Date(ctx.clock.now());
  setTargetStatus(target, 'InProgress', now());
  for (const name of names) {
    const record = target.lifecycleEvents.find((event) => event.lifecycleEventName === name);
    if (!record) continue;
    record.status = 'InProgress';
    record.startTime = now();
    target.lastUpdatedAt = record.startTime;
    let result: LifecycleEventResult;
    try {
      result = await unlessAborted(runOne(ctx, target, name), ctx.signal);
    } catch (error) {
      if (!(error instanceof Aborted)) throw error;
      record.status = 'Skipped';
      record.endTime = now();
      skipRemaining(target);
      setTargetStatus(target, 'Failed', now());
      return 'Aborted';
    }
    record.status = result.status;
    record.startTime = result.startTime;
    record.endTime = result.endTime;
    record.diagnostics = result.diagnostics;
    target.lastUpdatedAt = result.endTime;
    const tolerated =
      ctx.agentDeployment.ignoreApplicationStopFailures === true && PREVIOUS_REVISION_EVENTS.has(name);
    if (result.status === 'Failed' && !tolerated) {
      ctx.log(
        `codedeploy ${ctx.deployment.deploymentId} ${target.targetId} ${name} failed: ${result.diagnostics.message}`,
      );
      skipRemaining(target);
      setTargetStatus(target, 'Failed', now());
      return 'Failed';
    }
  }
  setTargetStatus(target, finalStatus, now());
  return 'Succeeded';
}

/** Marks every event not yet run as Skipped, as AWS shows events after a failure. */
export function skipRemaining(target: TargetRecord): void {
  for (const event of target.lifecycleEvents) {
    if (event.status === 'Pending') event.status = 'Skipped';
  }
}

/** A target that never started (the deployment ended first) is Skipped with all its events. */
export function skipTarget(target: TargetRecord, now: Date): void {
  skipRemaining(target);
  if (target.status === 'Pending' || target.status === 'Ready') setTargetStatus(target, 'Skipped', now);
}
