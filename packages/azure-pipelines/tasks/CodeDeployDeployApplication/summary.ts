// The run-summary section of a CodeDeploy deployment: its outcome, revision and per-instance lifecycle
// timeline, and for a failure the failing hook's diagnostics. Pure: the task passes what core returned.
import type { InstanceTimeline, LifecycleEventTiming } from '@keyless/core';
import { table } from '../../src/summary';

export interface DeploymentSummaryInput {
  applicationName: string;
  deploymentGroupName: string;
  region: string;
  deploymentId?: string;
  /** Succeeded, Failed, Stopped, "In progress (timed out)", … */
  status: string;
  revision?: { bucket: string; key: string; bundleType?: string; eTag?: string; version?: string };
  instances: InstanceTimeline[];
  /** The error's message for an unsuccessful deployment (already says what failed and why). */
  failure?: string;
}

/** Instances shown with their full timeline; beyond this, the rest are listed one line each. */
const maxDetailedInstances = 40;
/** Lines of a failed hook's log kept in the summary. */
const logTailLines = 20;

export function deploymentSummary(input: DeploymentSummaryInput): string {
  const lines: string[] = [];
  const facts = [
    `**Status:** ${input.status}`,
    input.deploymentId ? `**Deployment:** ${consoleLink(input.deploymentId, input.region)}` : undefined,
    `**Target:** ${input.applicationName} / ${input.deploymentGroupName} (${input.region})`,
  ].filter(Boolean);
  lines.push(facts.join(' · '), '');
  if (input.revision) {
    const { bucket, key, bundleType, eTag, version } = input.revision;
    const details = [
      bundleType,
      eTag ? `ETag ${eTag}` : undefined,
      version ? `version ${version}` : undefined,
    ]
      .filter(Boolean)
      .join(', ');
    lines.push(`**Revision:** \`s3://${bucket}/${key}\`${details ? ` (${details})` : ''}`, '');
  }
  const failedEvents = input.instances.flatMap((instance) =>
    instance.events.filter((event) => event.status === 'Failed').map((event) => ({ instance, event })),
  );
  // With failed events the error's per-instance detail is rendered below, so only its headline is repeated.
  const why = failedEvents.length > 0 ? input.failure?.split('\n')[0] : input.failure;
  if (why) lines.push('**Why:**', '', fenced(why), '');
  for (const { instance, event } of failedEvents.slice(0, 5))
    lines.push(...failureBlock(instance, event), '');

  if (input.instances.length === 0) {
    lines.push('_CodeDeploy reported no instances for this deployment._');
    return lines.join('\n');
  }
  lines.push(`#### Instances (${input.instances.length})`, '', overviewTable(input.instances), '');
  // Failed instances first, so a large fleet's summary still shows what matters.
  const ordered = [
    ...input.instances.filter((instance) => instance.status === 'Failed'),
    ...input.instances.filter((instance) => instance.status !== 'Failed'),
  ];
  for (const instance of ordered.slice(0, maxDetailedInstances)) {
    lines.push(
      `#### ${instance.instanceId}${instance.role ? ` (${instance.role})` : ''}: ${instance.status}`,
      '',
    );
    lines.push(eventTable(instance.events), '');
  }
  if (ordered.length > maxDetailedInstances)
    lines.push(`_${ordered.length - maxDetailedInstances} more instances are in the table above._`);
  return lines.join('\n').trimEnd();
}

function overviewTable(instances: InstanceTimeline[]): string {
  return table(
    ['Instance', 'Role', 'Status', 'Started', 'Took', 'Last event'],
    instances.map((instance) => {
      const started = instance.events.find((event) => event.startTime)?.startTime;
      const ended = [...instance.events].reverse().find((event) => event.endTime)?.endTime;
      const last = [...instance.events].reverse().find((event) => event.status !== 'Pending');
      return [
        instance.instanceId,
        instance.role ?? 'in-place',
        instance.status,
        time(started),
        started && ended ? duration(ended.getTime() - started.getTime()) : '',
        last ? `${last.name} ${last.status}` : '',
      ];
    }),
  );
}

function eventTable(events: LifecycleEventTiming[]): string {
  if (events.length === 0) return '_No lifecycle events reported._';
  return table(
    ['Lifecycle event', 'Status', 'Start', 'Duration', 'Details'],
    events.map((event) => [
      event.name,
      event.status,
      time(event.startTime),
      event.durationMs !== undefined ? duration(event.durationMs) : '',
      // CodeDeploy reports errorCode "Success" for events that passed: details only for the others.
      event.status === 'Succeeded' ? '' : [event.errorCode, event.scriptName].filter(Boolean).join(': '),
    ]),
  );
}

function failureBlock(instance: InstanceTimeline, event: LifecycleEventTiming): string[] {
  const lines = [
    `**Failed:** ${instance.instanceId}${instance.role ? ` (${instance.role})` : ''}, ${event.name}` +
      [event.errorCode, event.scriptName ? `script \`${event.scriptName}\`` : undefined]
        .filter(Boolean)
        .map((part) => `, ${part}`)
        .join(''),
  ];
  if (event.message) lines.push('', `> ${event.message.trim().split(/\r?\n/).join('\n> ')}`);
  const tail = (event.logTail ?? '').replace(/\s+$/, '').split(/\r?\n/).slice(-logTailLines).join('\n');
  if (tail) lines.push('', 'Log tail:', '', fenced(tail));
  return lines;
}

/** A fenced block that the text cannot close early. */
function fenced(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/~+/g)].map((match) => match[0].length));
  const fence = '~'.repeat(longest + 1);
  return `${fence}\n${text}\n${fence}`;
}

function consoleLink(deploymentId: string, region: string): string {
  return `[${deploymentId}](https://${region}.console.aws.amazon.com/codesuite/codedeploy/deployments/${deploymentId}?region=${region})`;
}

function time(date: Date | undefined): string {
  return date ? `${date.toISOString().slice(11, 19)}Z` : '';
}

function duration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}
