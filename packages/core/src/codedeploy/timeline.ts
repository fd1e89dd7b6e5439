import type { InstanceTarget } from '@aws-sdk/client-codedeploy';

/** Which fleet an instance belongs to in a blue/green deployment: the blue one it replaces, or the green one. */
export type InstanceRole = 'ORIGINAL' | 'REPLACEMENT';

/** One lifecycle event on one instance, as CodeDeploy last reported it. */
export interface LifecycleEventTiming {
  name: string;
  /** Pending, InProgress, Succeeded, Failed, Skipped or Unknown. */
  status: string;
  startTime?: Date;
  endTime?: Date;
  durationMs?: number;
  errorCode?: string;
  scriptName?: string;
  message?: string;
  logTail?: string;
}

/** One instance's part in a deployment: its role, its status and each lifecycle event with its timing. */
export interface InstanceTimeline {
  instanceId: string;
  /** Blue/green only; in-place deployments have no role. */
  role?: InstanceRole;
  status: string;
  lastUpdatedAt?: Date;
  events: LifecycleEventTiming[];
}

const roleByLabel: Record<string, InstanceRole> = { Blue: 'ORIGINAL', Green: 'REPLACEMENT' };
const roleOrder = (role: InstanceRole | undefined) =>
  role === 'ORIGINAL' ? 0 : role === 'REPLACEMENT' ? 1 : 2;

/**
 * The per-instance lifecycle timeline of a deployment from its instance targets (BatchGetDeploymentTargets):
 * original instances first, then replacements, each ordered by id so two runs compare line by line.
 */
export function instanceTimelines(targets: InstanceTarget[]): InstanceTimeline[] {
  const timelines = targets.map((target): InstanceTimeline => {
    const timeline: InstanceTimeline = {
      instanceId: target.targetId ?? target.targetArn ?? 'unknown instance',
      status: target.status ?? 'Unknown',
      events: (target.lifecycleEvents ?? []).map((event) => {
        const timing: LifecycleEventTiming = {
          name: event.lifecycleEventName ?? 'unknown event',
          status: event.status ?? 'Unknown',
        };
        if (event.startTime) timing.startTime = event.startTime;
        if (event.endTime) timing.endTime = event.endTime;
        if (event.startTime && event.endTime)
          timing.durationMs = Math.max(0, event.endTime.getTime() - event.startTime.getTime());
        const diagnostics = event.diagnostics;
        if (diagnostics?.errorCode) timing.errorCode = diagnostics.errorCode;
        if (diagnostics?.scriptName) timing.scriptName = diagnostics.scriptName;
        if (diagnostics?.message) timing.message = diagnostics.message;
        if (diagnostics?.logTail) timing.logTail = diagnostics.logTail;
        return timing;
      }),
    };
    const role = target.instanceLabel ? roleByLabel[target.instanceLabel] : undefined;
    if (role) timeline.role = role;
    if (target.lastUpdatedAt) timeline.lastUpdatedAt = target.lastUpdatedAt;
    return timeline;
  });
  return timelines.sort(
    (a, b) => roleOrder(a.role) - roleOrder(b.role) || a.instanceId.localeCompare(b.instanceId),
  );
}
