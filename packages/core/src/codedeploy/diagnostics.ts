import type { DeploymentInfo, InstanceTarget } from '@aws-sdk/client-codedeploy';
import { DeploymentFailedError, howToWatchDeployment, type FailedLifecycleEvent } from './errors';
import type { InstanceTimeline } from './timeline';

/** Lines of a hook's log tail shown per failed instance: enough to see the error, short enough to read. */
const logTailLines = 12;
/** Failed instances described in full; the rest are counted. */
const maxInstancesShown = 5;

/** The exit code in the agent's "…failed with exit code N" message. */
export function exitCodeFrom(message: string | undefined): number | undefined {
  const match = /exit code (-?\d+)/i.exec(message ?? '');
  return match ? Number(match[1]) : undefined;
}

/** The last lines of a log tail, without trailing blank lines. */
export function lastLines(text: string | undefined, count = logTailLines): string[] {
  if (!text) return [];
  const lines = text.replace(/\s+$/, '').split(/\r?\n/);
  return lines.slice(-count);
}

/** The failing lifecycle event of each failed instance (the first Failed event; later ones were Skipped). */
export function failedEventsOf(targets: InstanceTarget[]): FailedLifecycleEvent[] {
  const failed: FailedLifecycleEvent[] = [];
  for (const target of targets) {
    if (target.status !== 'Failed') continue;
    const event = target.lifecycleEvents?.find((candidate) => candidate.status === 'Failed');
    const instanceId = target.targetId ?? target.targetArn ?? 'unknown instance';
    const entry: FailedLifecycleEvent = { instanceId, event: event?.lifecycleEventName ?? 'unknown event' };
    if (target.instanceLabel) entry.label = target.instanceLabel;
    const diagnostics = event?.diagnostics;
    if (diagnostics?.errorCode) entry.errorCode = diagnostics.errorCode;
    if (diagnostics?.scriptName) entry.scriptName = diagnostics.scriptName;
    if (diagnostics?.message) entry.message = diagnostics.message;
    const exitCode = exitCodeFrom(diagnostics?.message);
    if (exitCode !== undefined) entry.exitCode = exitCode;
    if (diagnostics?.logTail) entry.logTail = diagnostics.logTail;
    failed.push(entry);
  }
  return failed;
}

/** One failed instance as a block: a summary line, the agent's message, the log tail. */
export function describeFailedEvent(failed: FailedLifecycleEvent): string[] {
  const label = failed.label ? ` (${failed.label})` : '';
  const facts = [
    failed.errorCode,
    failed.scriptName ? `script ${failed.scriptName}` : undefined,
    failed.exitCode !== undefined ? `exit code ${failed.exitCode}` : undefined,
  ].filter(Boolean);
  const lines = [
    `  ${failed.instanceId}${label} ${failed.event} failed${facts.length ? `: ${facts.join(', ')}` : ''}`,
  ];
  if (failed.message) lines.push(`    ${failed.message.trim().split(/\r?\n/).join('\n    ')}`);
  const tail = lastLines(failed.logTail);
  if (tail.length) {
    lines.push('    log tail:');
    for (const line of tail) lines.push(`      ${line}`);
  }
  return lines;
}

export interface RollbackOutcome {
  deploymentId: string;
  status?: string;
  message?: string;
}

/**
 * The typed failure of a deployment: a headline with the deployment's errorInformation, then each failed
 * instance's failing lifecycle event (script, error code, exit code, log tail), then the rollback.
 */
export function deploymentFailure(
  info: DeploymentInfo,
  failedEvents: FailedLifecycleEvent[],
  rollback: RollbackOutcome | undefined,
  region: string,
  instances: InstanceTimeline[] = [],
): DeploymentFailedError {
  const deploymentId = info.deploymentId ?? 'unknown';
  const status = info.status ?? 'Failed';
  const where = `${info.applicationName ?? '?'}/${info.deploymentGroupName ?? '?'}`;
  const code = info.errorInformation?.code;
  const reason = info.errorInformation?.message ?? 'CodeDeploy gave no reason';
  const lines = [
    `Deployment ${deploymentId} to ${where} ${status === 'Stopped' ? 'was stopped' : 'failed'}${code ? ` (${code})` : ''}: ${reason}`,
  ];
  if (failedEvents.length) {
    const first = failedEvents[0]!;
    lines.push(
      `First failure: ${first.instanceId} ${first.event}${first.scriptName ? ` (${first.scriptName}${first.exitCode !== undefined ? `, exit code ${first.exitCode}` : ''})` : ''}.`,
    );
    lines.push(`Failed instances (${failedEvents.length}):`);
    for (const failed of failedEvents.slice(0, maxInstancesShown)) lines.push(...describeFailedEvent(failed));
    if (failedEvents.length > maxInstancesShown)
      lines.push(`  … and ${failedEvents.length - maxInstancesShown} more`);
  }
  if (rollback) {
    const outcome = rollback.status ? ` (${rollback.status})` : ' (still running)';
    lines.push(
      `Automatic rollback: deployment ${rollback.deploymentId}${outcome}${rollback.message ? ` — ${rollback.message}` : ''}.`,
    );
  }
  const fix = failureFix(failedEvents, code, reason, deploymentId, region);
  return new DeploymentFailedError(
    deploymentId,
    status,
    code,
    failedEvents,
    rollback ? { ...rollback } : undefined,
    lines.join('\n'),
    fix,
    instances,
  );
}

/** The share of instances done (succeeded, failed, skipped or ready), 0-100; undefined before any are counted. */
export function overviewPercent(overview: DeploymentInfo['deploymentOverview']): number | undefined {
  if (!overview) return undefined;
  const done =
    (overview.Succeeded ?? 0) + (overview.Failed ?? 0) + (overview.Skipped ?? 0) + (overview.Ready ?? 0);
  const total = done + (overview.Pending ?? 0) + (overview.InProgress ?? 0);
  return total === 0 ? undefined : Math.floor((done / total) * 100);
}

/** "62% (5 of 8 instances done: 4 succeeded, 1 failed; 3 in progress)" from deploymentOverview, if present. */
export function describeOverview(overview: DeploymentInfo['deploymentOverview']): string | undefined {
  if (!overview) return undefined;
  const counts = {
    pending: overview.Pending ?? 0,
    inProgress: overview.InProgress ?? 0,
    succeeded: overview.Succeeded ?? 0,
    failed: overview.Failed ?? 0,
    skipped: overview.Skipped ?? 0,
    ready: overview.Ready ?? 0,
  };
  const total = Object.values(counts).reduce((sum, value) => sum + value, 0);
  if (total === 0) return undefined;
  const percent = overviewPercent(overview) ?? 0;
  const parts = [
    `${counts.succeeded} succeeded`,
    counts.failed ? `${counts.failed} failed` : undefined,
    counts.skipped ? `${counts.skipped} skipped` : undefined,
    counts.ready ? `${counts.ready} ready` : undefined,
    counts.inProgress ? `${counts.inProgress} in progress` : undefined,
    counts.pending ? `${counts.pending} pending` : undefined,
  ].filter(Boolean);
  return `${percent}% of ${total} instance${total === 1 ? '' : 's'} (${parts.join(', ')})`;
}

/** The one change that most likely makes the next deployment pass, from what failed and how. */
function failureFix(
  failedEvents: FailedLifecycleEvent[],
  code: string | undefined,
  reason: string,
  deploymentId: string,
  region: string,
): string {
  const log = `the full log is on the instance under /opt/codedeploy-agent/deployment-root/<deployment group id>/${deploymentId}/logs/scripts.log`;
  if (failedEvents.some((failed) => failed.errorCode === 'ScriptTimedOut')) {
    return `A hook ran past its timeout: start long-running processes in the background (nohup … &, output redirected) so the hook returns, or raise its timeout in appspec.yml (at most 3600 s); ${log}.`;
  }
  if (
    /file already exists at this location/i.test(reason) ||
    failedEvents.some((failed) => /file already exists/i.test(failed.message ?? ''))
  ) {
    return 'Files from outside CodeDeploy are in the way: set the file-exists behavior to OVERWRITE (or RETAIN), or remove them from the instances.';
  }
  if (code === 'NO_INSTANCES') {
    return "Check the deployment group's tags or Auto Scaling groups match running instances with the CodeDeploy agent, then deploy again.";
  }
  if (failedEvents.some((failed) => failed.scriptName)) {
    return `Correct the failing hook script shown above and deploy again; ${log}.`;
  }
  return `See the reason above; ${howToWatchDeployment(deploymentId, region)}.`;
}
