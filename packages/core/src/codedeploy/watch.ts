import {
  BatchGetDeploymentTargetsCommand,
  ContinueDeploymentCommand,
  GetDeploymentCommand,
  ListDeploymentTargetsCommand,
  StopDeploymentCommand,
  type DeploymentInfo,
  type InstanceTarget,
} from '@aws-sdk/client-codedeploy';
import { awsErrorCode, awsErrorMessage } from '../aws/aws-errors';
import { poll } from '../aws/poll';
import type { CodeDeployEngine } from './context';
import {
  deploymentFailure,
  describeOverview,
  failedEventsOf,
  overviewPercent,
  type RollbackOutcome,
} from './diagnostics';
import {
  DeploymentCancelledError,
  DeploymentTimeoutError,
  howToWatchDeployment,
  type DeploymentFailedError,
} from './errors';
import { instanceTimelines, type InstanceTimeline } from './timeline';

/**
 * How the front end spells the settings the watcher's messages suggest: the CLI's flags by default, a task's
 * inputs when a task passes its own.
 */
export interface WatchOptionNames {
  continueReady: string;
  finishAfterReroute: string;
  skipTerminationWait: string;
  timeout: string;
  stopOnTimeout: string;
}

const cliOptionNames: WatchOptionNames = {
  continueReady: '--continue-ready',
  finishAfterReroute: '--finish-after-reroute',
  skipTerminationWait: '--skip-termination-wait',
  timeout: '--timeout',
  stopOnTimeout: '--stop-on-timeout',
};

export interface WatchOptions {
  deploymentId: string;
  /** The names the messages use for the settings they suggest (default: the CLI's flags). */
  optionNames?: Partial<WatchOptionNames>;
  timeoutMs: number;
  /** Ready (blue/green, manual reroute): ContinueDeployment(READY_WAIT) instead of waiting for a person. */
  continueReady?: boolean;
  /** Succeed once traffic is on the green instances, without waiting for blue's termination. */
  finishAfterReroute?: boolean;
  /** ContinueDeployment(TERMINATION_WAIT): terminate blue now rather than after the group's wait. */
  skipTerminationWait?: boolean;
  /** On timeout, StopDeployment with auto-rollback instead of leaving it running. */
  stopOnTimeout?: boolean;
  /** From the deployment group, for messages. */
  terminationWaitMinutes?: number;
  /**
   * When the engine's signal aborts (the run is cancelled): StopDeployment with automatic rollback and wait up
   * to `cancelGraceMs` for it to stop, instead of leaving it running. Either way DeploymentCancelledError says
   * which happened.
   */
  stopOnCancel?: boolean;
  /** How long a cancelled run waits for the stop to take effect (default 6 s: CI agents kill soon after). */
  cancelGraceMs?: number;
  /** Told whenever the deployment's status or instance counts change. */
  onProgress?: (progress: DeploymentProgress) => void;
}

export interface DeploymentProgress {
  deploymentId: string;
  status: string;
  /** Share of instances done, 0-100; undefined until CodeDeploy has counted them. */
  percent?: number;
  /** "50% of 2 instances (1 succeeded, 1 in progress)". */
  overview?: string;
}

export type WatchOutcome = 'succeeded' | 'rerouted';

export interface WatchResult {
  deploymentId: string;
  outcome: WatchOutcome;
  info: DeploymentInfo;
  /** Every instance's lifecycle timeline at the end (fetched by the last check, not polled again). */
  instances: InstanceTimeline[];
}

const terminalStatuses = new Set(['Succeeded', 'Failed', 'Stopped']);
/** BatchGetDeploymentTargets takes at most this many ids. */
const targetBatch = 25;
/** How long a failed deployment's rollback is followed before the failure is reported without its outcome. */
const rollbackWaitMs = 30_000;
/**
 * Azure Pipelines sends SIGINT, SIGTERM 7.5 s later and kills 2.5 s after that; GitHub Actions allows 7.5 s
 * too. Waiting 6 s for the stop leaves time to report before the kill.
 */
const defaultCancelGraceMs = 6_000;
/** Lifecycle events are fetched every this many checks when nothing else says they changed. */
const eventsEvery = 3;
/** Target ids are listed again every this many target refreshes (green instances appear later). */
const relistEvery = 8;
/** Say we are still waiting when nothing was printed for this long. */
const heartbeatMs = 30_000;
/**
 * In a wait that only time or a person ends (Ready for a manual reroute, blue's termination wait), checks thin
 * out: the next comes after this share of the time already spent in the wait, up to quietCapMs. The share
 * (not the wait's known length) sets the pace because time can run faster than the group says — in a sandbox
 * with a time scale the 5-minute wait takes 5 s — while on AWS a 5-minute wait costs ~36 checks instead of 120.
 */
const quietShare = 0.1;
const quietCapMs = 30_000;

class WatchTimedOut extends Error {
  constructor(
    readonly elapsedMs: number,
    readonly lastStatus: string | undefined,
  ) {
    super('timed out');
  }
}

/** A deployment's target ids (optionally by status); none yet while the deployment is starting. */
async function listTargetIds(
  engine: CodeDeployEngine,
  deploymentId: string,
  statuses?: string[],
): Promise<string[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await engine.codedeploy.send(
        new ListDeploymentTargetsCommand({
          deploymentId,
          nextToken,
          ...(statuses ? { targetFilters: { TargetStatus: statuses } } : {}),
        }),
      );
      ids.push(...(page.targetIds ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
  } catch (error) {
    // Until CodeDeploy has picked its targets; the next check asks again.
    if (awsErrorCode(error) === 'DeploymentNotStartedException') return [];
    throw error;
  }
  return ids;
}

/** The instance targets with their lifecycle events, 25 per BatchGetDeploymentTargets call. */
async function getTargets(
  engine: CodeDeployEngine,
  deploymentId: string,
  ids: string[],
): Promise<InstanceTarget[]> {
  const targets: InstanceTarget[] = [];
  for (let index = 0; index < ids.length; index += targetBatch) {
    const batch = await engine.codedeploy.send(
      new BatchGetDeploymentTargetsCommand({
        deploymentId,
        targetIds: ids.slice(index, index + targetBatch),
      }),
    );
    for (const target of batch.deploymentTargets ?? [])
      if (target.instanceTarget) targets.push(target.instanceTarget);
  }
  return targets;
}

/** The instance targets of a deployment (optionally only those in the given statuses). */
export async function deploymentTargets(
  engine: CodeDeployEngine,
  deploymentId: string,
  statuses?: string[],
): Promise<InstanceTarget[]> {
  const targets = await getTargets(engine, deploymentId, await listTargetIds(engine, deploymentId, statuses));
  return statuses ? targets.filter((target) => statuses.includes(target.status ?? '')) : targets;
}

/** Prints what changed on each instance since the last look: lifecycle events finishing, instances settling. */
class TargetRenderer {
  private readonly seen = new Map<string, string>();

  constructor(private readonly print: (line: string) => void) {}

  render(targets: InstanceTarget[]): boolean {
    let printed = false;
    for (const target of [...targets].sort((a, b) => (a.targetId ?? '').localeCompare(b.targetId ?? ''))) {
      const id = target.targetId ?? '?';
      const label = target.instanceLabel ? ` [${target.instanceLabel}]` : '';
      for (const event of target.lifecycleEvents ?? []) {
        const status = event.status ?? 'Pending';
        const key = `${id}/${event.lifecycleEventName}`;
        if (this.seen.get(key) === status) continue;
        this.seen.set(key, status);
        if (status !== 'Succeeded' && status !== 'Failed') continue;
        const took =
          event.startTime && event.endTime
            ? ` (${((event.endTime.getTime() - event.startTime.getTime()) / 1000).toFixed(1)} s)`
            : '';
        const why =
          status === 'Failed' && event.diagnostics?.errorCode ? `: ${event.diagnostics.errorCode}` : '';
        this.print(`  ${id}${label} ${event.lifecycleEventName} ${status}${took}${why}`);
        printed = true;
      }
      const status = target.status ?? 'Unknown';
      if (this.seen.get(id) !== status) {
        this.seen.set(id, status);
        if (['Succeeded', 'Failed', 'Skipped', 'Ready'].includes(status)) {
          this.print(`  ${id}${label} ${status}`);
          printed = true;
        }
      }
    }
    return printed;
  }
}

/** Some instance is still working through its lifecycle events (or CodeDeploy has not counted them yet). */
function instancesBusy(overview: DeploymentInfo['deploymentOverview']): boolean {
  if (!overview) return true;
  return (overview.InProgress ?? 0) + (overview.Pending ?? 0) > 0;
}

/** The sum of the overview's counts: it grows when blue/green adds its green instances. */
function instanceCount(overview: DeploymentInfo['deploymentOverview']): number {
  return Object.values(overview ?? {}).reduce((sum: number, count) => sum + (count ?? 0), 0);
}

/**
 * Follows a deployment to its end with the one polling helper: GetDeployment each check, the instances'
 * lifecycle events every third check while some instance is busy (and whenever the status or overview
 * changes), blue/green's Ready gate and termination wait handled as asked, checked less often while they
 * last. Throws DeploymentFailedError with per-instance diagnostics, or
 * DeploymentTimeoutError ("still in progress", or stopped with rollback when asked).
 */
export async function watchDeployment(engine: CodeDeployEngine, options: WatchOptions): Promise<WatchResult> {
  const { reporter, clock } = engine;
  const { deploymentId } = options;
  const names = { ...cliOptionNames, ...options.optionNames };
  const renderer = new TargetRenderer((line) => reporter.info(line));
  let lastOverview: string | undefined;
  let lastOutput = clock.now();
  let readyReported = false;
  let readyContinued = false;
  let terminationReported = false;
  let terminationSkipped = false;
  let lastStatus: string | undefined;
  let previousStatus: string | undefined;

  // Target ids are listed until some appear, then again when the overview counts more instances (blue/green
  // adds green ones later) and now and then in case it does not; their lifecycle events are fetched when the
  // overview moves and every few checks while instances are busy, so live progress costs about one extra call
  // per three checks, and nothing while nothing runs.
  let targetIds: string[] = [];
  let checksSinceListing = 0;
  let countAtListing = 0;
  let instancesCounted = 0;
  // The last targets fetched: the timeline in the result and in every error, without polling again.
  let latestTargets: InstanceTarget[] = [];
  const refreshTargets = async (relist: boolean) => {
    if (
      relist ||
      targetIds.length === 0 ||
      instancesCounted !== countAtListing ||
      ++checksSinceListing >= relistEvery
    ) {
      targetIds = await listTargetIds(engine, deploymentId);
      checksSinceListing = 0;
      countAtListing = instancesCounted;
    }
    if (targetIds.length === 0) return;
    latestTargets = await getTargets(engine, deploymentId, targetIds);
    if (renderer.render(latestTargets)) lastOutput = clock.now();
  };
  const timelines = () => instanceTimelines(latestTargets);
  const continueDeployment = async (waitType: 'READY_WAIT' | 'TERMINATION_WAIT') => {
    try {
      await engine.codedeploy.send(
        new ContinueDeploymentCommand({ deploymentId, deploymentWaitType: waitType }),
      );
      return true;
    } catch (error) {
      // It moved on by itself (someone continued it, or the wait ended) between our look and our call.
      if (awsErrorCode(error) === 'DeploymentIsNotInReadyStateException') return false;
      throw error;
    }
  };

  // The quiet wait under way (Ready for a person, or blue's termination wait) and when it was first seen.
  let quiet: { kind: 'ready' | 'termination'; since: number } | undefined;
  const quietKind = (status: string, info: DeploymentInfo) => {
    if (status === 'Ready' && !options.continueReady) return 'ready';
    if (
      status === 'InProgress' &&
      info.instanceTerminationWaitTimeStarted &&
      !options.finishAfterReroute &&
      !options.skipTerminationWait
    )
      return 'termination';
    return undefined;
  };
  /** How long nothing can change in the quiet wait; undefined once its known end has passed. */
  const quietPause = (): number | undefined => {
    if (!quiet) return undefined;
    const now = clock.now();
    let pause = Math.min(quietCapMs, (now - quiet.since) * quietShare);
    if (quiet.kind === 'termination' && options.terminationWaitMinutes !== undefined) {
      // CodeDeploy cannot terminate blue before its wait is over: from then on, the normal pace notices the end.
      const untilEnd = quiet.since + options.terminationWaitMinutes * 60_000 - now;
      if (untilEnd <= 0) return undefined;
      pause = Math.min(pause, untilEnd);
    }
    return pause;
  };

  let result: { info: DeploymentInfo; outcome: WatchOutcome | 'failed' };
  try {
    result = await poll<{ info: DeploymentInfo; outcome: WatchOutcome | 'failed' }>({
      timeoutMs: options.timeoutMs,
      refreshCredentials: engine.refreshCredentials,
      signal: engine.signal,
      clock,
      schedule: engine.schedule,
      onNote: (note) => reporter.debug(`waiting for deployment ${deploymentId}: ${note}`),
      onProgress: ({ elapsedMs, status }) => {
        if (clock.now() - lastOutput < heartbeatMs) return;
        lastOutput = clock.now();
        reporter.info(
          `Still waiting for deployment ${deploymentId} (${status ?? 'in progress'}, ${Math.round(elapsedMs / 1000)} s so far)`,
        );
      },
      onTimeout: (elapsedMs, status) => new WatchTimedOut(elapsedMs, status),
      check: async (attempt) => {
        const info =
          (await engine.codedeploy.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo ?? {};
        const status = info.status ?? 'Unknown';
        if (status !== lastStatus) {
          reporter.info(`Deployment ${deploymentId}: ${status}`);
          lastStatus = status;
          lastOutput = clock.now();
        }
        const overview = describeOverview(info.deploymentOverview);
        const overviewChanged = overview !== undefined && overview !== lastOverview;
        if (overviewChanged) {
          reporter.info(`Progress: ${overview}`);
          lastOverview = overview;
          lastOutput = clock.now();
        }
        const busy = status === 'InProgress' || status === 'Ready' || terminalStatuses.has(status);
        const statusChanged = status !== previousStatus;
        previousStatus = status;
        instancesCounted = instanceCount(info.deploymentOverview);
        const kind = quietKind(status, info);
        if (kind !== quiet?.kind) quiet = kind ? { kind, since: clock.now() } : undefined;
        if (options.onProgress && (overviewChanged || statusChanged)) {
          const progress: DeploymentProgress = { deploymentId, status };
          const percent = overviewPercent(info.deploymentOverview);
          if (percent !== undefined) progress.percent = percent;
          if (overview !== undefined) progress.overview = overview;
          options.onProgress(progress);
        }
        const eventsDue = attempt % eventsEvery === 0 && !quiet && instancesBusy(info.deploymentOverview);
        if (busy && (overviewChanged || statusChanged || eventsDue || terminalStatuses.has(status))) {
          await refreshTargets(statusChanged);
        }

        if (status === 'Succeeded') return { done: true, value: { info, outcome: 'succeeded' } };
        if (status === 'Failed' || status === 'Stopped')
          return { done: true, value: { info, outcome: 'failed' } };
        if (status === 'Ready') {
          if (options.continueReady && !readyContinued) {
            // Marked only once the call got through: a throttled one is tried again at the next check.
            const continued = await continueDeployment('READY_WAIT');
            readyContinued = true;
            if (continued) {
              reporter.info(
                `Green instances are ready; continued the deployment (ContinueDeployment READY_WAIT) to reroute traffic.`,
              );
            }
          } else if (!readyReported && !options.continueReady) {
            readyReported = true;
            reporter.warn(
              `Deployment ${deploymentId} is Ready: the green instances are installed and it waits for a manual traffic reroute. ` +
                `Continue it in the console or with \`aws deploy continue-deployment --deployment-id ${deploymentId} --deployment-wait-type READY_WAIT\` ` +
                `(or use ${names.continueReady} next time); still waiting.`,
            );
          }
        }
        if (status === 'InProgress' && info.instanceTerminationWaitTimeStarted) {
          const wait = options.terminationWaitMinutes;
          const waitText = wait !== undefined ? `${wait} min` : "the group's termination wait";
          if (options.finishAfterReroute) {
            await refreshTargets(true);
            return { done: true, value: { info, outcome: 'rerouted' } };
          }
          if (options.skipTerminationWait && !terminationSkipped) {
            const continued = await continueDeployment('TERMINATION_WAIT');
            terminationSkipped = true;
            if (continued) {
              reporter.info(
                'Traffic is on the green instances; skipping the termination wait (ContinueDeployment TERMINATION_WAIT).',
              );
            }
          } else if (!terminationReported && !options.skipTerminationWait) {
            terminationReported = true;
            reporter.info(
              `Traffic is rerouted to the green instances; CodeDeploy terminates the blue ones after ${waitText} and only then reports Succeeded. ` +
                `Use ${names.finishAfterReroute} to finish at this point, or ${names.skipTerminationWait} to terminate them now.`,
            );
          }
        }
        const pause = quietPause();
        return pause === undefined ? { done: false, status } : { done: false, status, notBeforeMs: pause };
      },
    });
  } catch (error) {
    // Any error once the run is cancelled is the cancel's doing (the poll's WaitAbortedError, a cut sleep).
    if (engine.signal?.aborted) throw await cancelled(engine, options, lastStatus, latestTargets);
    if (!(error instanceof WatchTimedOut)) throw error;
    await refreshTargets(true).catch(() => undefined);
    throw await timedOut(engine, options, error, timelines());
  }

  if (result.outcome === 'succeeded') {
    reporter.info(`Deployment ${deploymentId} succeeded.`);
    return { deploymentId, outcome: 'succeeded', info: result.info, instances: timelines() };
  }
  if (result.outcome === 'rerouted') {
    reporter.info(
      `Deployment ${deploymentId}: traffic is on the green instances; finishing now as asked. The blue instances are terminated later ` +
        `(after ${options.terminationWaitMinutes ?? "the group's"} min), and the deployment reports Succeeded then.`,
    );
    return { deploymentId, outcome: 'rerouted', info: result.info, instances: timelines() };
  }
  throw await failureOf(engine, result.info, latestTargets);
}

async function timedOut(
  engine: CodeDeployEngine,
  options: WatchOptions,
  timeout: WatchTimedOut,
  instances: InstanceTimeline[],
): Promise<DeploymentTimeoutError> {
  const { deploymentId } = options;
  const names = { ...cliOptionNames, ...options.optionNames };
  const minutes = Math.max(1, Math.round(timeout.elapsedMs / 60_000));
  const watch = howToWatchDeployment(deploymentId, engine.region);
  if (options.stopOnTimeout) {
    try {
      const stop = await engine.codedeploy.send(
        new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: true }),
      );
      return new DeploymentTimeoutError(
        deploymentId,
        timeout.lastStatus,
        true,
        `Deployment ${deploymentId} did not finish within ${minutes} min (last status ${timeout.lastStatus ?? 'unknown'}), so Keyless STOPPED it with automatic rollback (${names.stopOnTimeout}; ${stop.status ?? 'Pending'}${stop.statusMessage ? `: ${stop.statusMessage}` : ''}).`,
        `Find out why it was slow (a hook that hangs keeps its lifecycle event open until it times out), then deploy again; ${watch}.`,
        instances,
      );
    } catch (error) {
      if (awsErrorCode(error) !== 'DeploymentAlreadyCompletedException') {
        return new DeploymentTimeoutError(
          deploymentId,
          timeout.lastStatus,
          false,
          `Deployment ${deploymentId} did not finish within ${minutes} min and stopping it failed (${awsErrorMessage(error)}); it is STILL IN PROGRESS.`,
          `Stop it yourself if needed (aws deploy stop-deployment --deployment-id ${deploymentId} --auto-rollback-enabled); ${watch}.`,
          instances,
        );
      }
    }
  }
  return new DeploymentTimeoutError(
    deploymentId,
    timeout.lastStatus,
    false,
    `Stopped waiting for deployment ${deploymentId} after ${minutes} min (last status ${timeout.lastStatus ?? 'unknown'}); it is STILL IN PROGRESS.`,
    `${watch[0]!.toUpperCase()}${watch.slice(1)}; raise ${names.timeout} if it regularly takes this long, or use ${names.stopOnTimeout} to stop it with rollback.`,
    instances,
  );
}

/**
 * The run was cancelled mid-wait. Without stopOnCancel the deployment is left to CodeDeploy and the error
 * says how to follow it; with it, StopDeployment(autoRollbackEnabled) and a short wait, bounded because the
 * CI agent kills the process seconds after cancelling (the engine's signal is already aborted, so none of
 * these calls use it).
 */
async function cancelled(
  engine: CodeDeployEngine,
  options: WatchOptions,
  lastStatus: string | undefined,
  lastTargets: InstanceTarget[],
): Promise<DeploymentCancelledError> {
  const { deploymentId } = options;
  const { region } = engine;
  const watch = `aws deploy get-deployment --deployment-id ${deploymentId} --region ${region}`;
  const stopCommand = `aws deploy stop-deployment --deployment-id ${deploymentId} --auto-rollback-enabled --region ${region}`;
  const timelines = async () => {
    try {
      return instanceTimelines(await deploymentTargets(engine, deploymentId));
    } catch {
      return instanceTimelines(lastTargets);
    }
  };
  const status = async (id: string) =>
    (await engine.codedeploy.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo ?? {};

  if (!options.stopOnCancel) {
    return new DeploymentCancelledError(
      deploymentId,
      false,
      lastStatus,
      undefined,
      `The run was cancelled; deployment ${deploymentId} continues in AWS (last status ${lastStatus ?? 'unknown'}); watch it with: ${watch}`,
      `To stop it and roll back: ${stopCommand}`,
      instanceTimelines(lastTargets),
    );
  }

  try {
    await engine.codedeploy.send(new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: true }));
  } catch (error) {
    if (awsErrorCode(error) === 'DeploymentAlreadyCompletedException') {
      const final = await status(deploymentId).catch(() => ({}) as DeploymentInfo);
      return new DeploymentCancelledError(
        deploymentId,
        false,
        final.status ?? lastStatus,
        undefined,
        `The run was cancelled, but deployment ${deploymentId} had already finished (${final.status ?? 'completed'}); there was nothing to stop.`,
        `Check the outcome: ${watch}`,
        await timelines(),
      );
    }
    return new DeploymentCancelledError(
      deploymentId,
      false,
      lastStatus,
      undefined,
      `The run was cancelled and stopping deployment ${deploymentId} failed (${awsErrorMessage(error)}); it continues in AWS; watch it with: ${watch}`,
      `Stop it yourself: ${stopCommand}`,
      instanceTimelines(lastTargets),
    );
  }
  engine.reporter.info(
    `The run was cancelled: stopping deployment ${deploymentId} with automatic rollback (StopDeployment).`,
  );

  let info: DeploymentInfo = {};
  let terminalLooks = 0;
  try {
    info = await poll<DeploymentInfo>({
      timeoutMs: options.cancelGraceMs ?? defaultCancelGraceMs,
      clock: engine.clock,
      schedule: engine.schedule,
      refreshCredentials: engine.refreshCredentials,
      onTimeout: () => new Error('still stopping'),
      check: async () => {
        const current = await status(deploymentId);
        info = current;
        if (terminalStatuses.has(current.status ?? '')) terminalLooks++;
        // CodeDeploy links the rollback a moment after Stopped: look once more before concluding there is none.
        const settled =
          terminalLooks > 0 &&
          (current.rollbackInfo?.rollbackDeploymentId !== undefined || terminalLooks > 1);
        return settled ? { done: true, value: current } : { done: false, status: current.status };
      },
    });
  } catch {
    // Out of time: report what was seen last.
  }
  const finalStatus = info.status ?? lastStatus;
  const rollbackId = info.rollbackInfo?.rollbackDeploymentId;
  const rollback = rollbackId
    ? {
        deploymentId: rollbackId,
        ...(await status(rollbackId).then(
          (rolled) => (rolled.status ? { status: rolled.status } : {}),
          () => ({}),
        )),
      }
    : undefined;
  const instances = await timelines();
  if (finalStatus !== 'Stopped') {
    return new DeploymentCancelledError(
      deploymentId,
      true,
      finalStatus,
      rollback,
      `The run was cancelled, so Keyless asked CodeDeploy to stop deployment ${deploymentId} with automatic rollback; it was still ${finalStatus ?? 'stopping'} when the run had to end; watch it with: ${watch}`,
      'Check that it ends Stopped and that the rollback deployment succeeds before deploying again.',
      instances,
    );
  }
  const watchRollback = (id: string) =>
    `watch it with: aws deploy get-deployment --deployment-id ${id} --region ${region}`;
  const outcome = !rollback
    ? `was stopped; CodeDeploy started no automatic rollback (${info.rollbackInfo?.rollbackMessage ?? 'it only rolls back to an earlier successful revision'}), so instances may run a partial revision`
    : rollback.status === 'Succeeded'
      ? `was stopped and rolled back (rollback deployment ${rollback.deploymentId} succeeded)`
      : rollback.status === 'Failed' || rollback.status === 'Stopped'
        ? `was stopped, but its rollback deployment ${rollback.deploymentId} ${rollback.status.toLowerCase()}; ${watchRollback(rollback.deploymentId)}`
        : `was stopped and is being rolled back by deployment ${rollback.deploymentId} (${rollback.status ?? 'starting'}); ${watchRollback(rollback.deploymentId)}`;
  return new DeploymentCancelledError(
    deploymentId,
    true,
    finalStatus,
    rollback,
    `The run was cancelled: deployment ${deploymentId} ${outcome}.`,
    rollback && rollback.status !== 'Succeeded'
      ? 'Make sure the rollback ends Succeeded before deploying again.'
      : 'Deploy again when ready.',
    instances,
  );
}

/**
 * Collects the failed instances' diagnostics and the rollback's outcome (followed briefly) for the error.
 * `targets`, when given, are the deployment's targets as just fetched (the watch's last check); otherwise
 * they are fetched here.
 */
export async function failureOf(
  engine: CodeDeployEngine,
  info: DeploymentInfo,
  targets?: InstanceTarget[],
): Promise<DeploymentFailedError> {
  const deploymentId = info.deploymentId ?? '';
  let allTargets: InstanceTarget[] = targets ?? [];
  if (targets === undefined || targets.length === 0) {
    try {
      allTargets = await deploymentTargets(engine, deploymentId);
    } catch (error) {
      engine.reporter.debug(`could not list the instances of ${deploymentId}: ${awsErrorMessage(error)}`);
    }
  }
  const failedTargets = allTargets.filter((target) => target.status === 'Failed');
  let rollback: RollbackOutcome | undefined;
  let rollbackId = info.rollbackInfo?.rollbackDeploymentId;
  if (!rollbackId) {
    // Auto-rollback links the new deployment a moment after the failure; look once more.
    await engine.clock.sleep(1_000, engine.signal).catch(() => undefined);
    const again = await engine.codedeploy
      .send(new GetDeploymentCommand({ deploymentId }))
      .catch(() => undefined);
    rollbackId = again?.deploymentInfo?.rollbackInfo?.rollbackDeploymentId;
  }
  if (rollbackId) {
    rollback = { deploymentId: rollbackId };
    engine.reporter.info(
      `Automatic rollback started: deployment ${rollbackId}; following it for up to ${rollbackWaitMs / 1000} s.`,
    );
    try {
      const rolled = await poll<DeploymentInfo>({
        timeoutMs: rollbackWaitMs,
        clock: engine.clock,
        signal: engine.signal,
        refreshCredentials: engine.refreshCredentials,
        onTimeout: () => new Error('rollback still running'),
        check: async () => {
          const rollbackInfo =
            (await engine.codedeploy.send(new GetDeploymentCommand({ deploymentId: rollbackId })))
              .deploymentInfo ?? {};
          return terminalStatuses.has(rollbackInfo.status ?? '')
            ? { done: true, value: rollbackInfo }
            : { done: false };
        },
      });
      if (rolled.status) rollback.status = rolled.status;
      const message = rolled.errorInformation?.message;
      if (message) rollback.message = message;
    } catch {
      // Still running after the grace period: reported as such.
    }
  }
  return deploymentFailure(
    info,
    failedEventsOf(failedTargets),
    rollback,
    engine.region,
    instanceTimelines(allTargets),
  );
}
