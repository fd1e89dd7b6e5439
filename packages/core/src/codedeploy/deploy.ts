import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  BatchGetDeploymentsCommand,
  CreateDeploymentCommand,
  ListDeploymentsCommand,
  GetApplicationCommand,
  GetDeploymentCommand,
  GetDeploymentGroupCommand,
  RegisterApplicationRevisionCommand,
  type AutoRollbackEvent,
  type DeploymentGroupInfo,
  type FileExistsBehavior,
  type RevisionLocation,
} from '@aws-sdk/client-codedeploy';
import {
  awsErrorCode,
  awsErrorMessage,
  isExpiredCredentialsError,
  isRetryableError,
  isThrottlingError,
} from '../aws/aws-errors';
import { fullJitterDelay } from '../credentials/retry';
import { poll } from '../aws/poll';
import { InvalidInputError } from '../errors';
import { assertValidAppSpec, checkWorkspaceAppSpec } from './appspec';
import { archiveBundleType, bundleWorkspace, createExcluder, type BundleType } from './bundle';
import { call, createCodeDeployEngine, type CodeDeployContext, type CodeDeployEngine } from './context';
import {
  BundleError,
  CodeDeployRequestError,
  DeploymentCancelledError,
  DeploymentGroupBusyError,
  DeploymentTimeoutError,
  howToWatchDeployment,
} from './errors';
import { blockingDeploymentId, explainCodeDeployError } from './explain';
import type { ObjectCannedACL } from '@aws-sdk/client-s3';
import type { InstanceTimeline } from './timeline';
import { describeS3Revision, formatBytes, sha256OfFile, uploadBundle, type S3Revision } from './upload';
import { watchDeployment, type DeploymentProgress, type WatchOptionNames, type WatchOutcome } from './watch';

/** Where the revision comes from: a workspace folder or archive (uploaded), or an object already in S3. */
export type RevisionSource =
  | {
      kind: 'workspace';
      /** A folder (validated, zipped) or a .zip/.tar/.tar.gz/.tgz (uploaded as it is). */
      path: string;
      bucket: string;
      /** Key prefix for the content-hash key. */
      prefix?: string;
      /** Exact key instead of the content-hash key. */
      key?: string;
      /** Globs left out of the zip (`.git` always is). */
      excludes?: string[];
      /** Canned ACL for the uploaded bundle (none by default). */
      acl?: ObjectCannedACL;
    }
  | { kind: 's3'; bucket: string; key: string; bundleType?: BundleType };

export interface DeployApplicationOptions {
  /** How the front end names the settings that messages suggest (default: the CLI's flags). */
  optionNames?: Partial<WatchOptionNames>;
  applicationName: string;
  deploymentGroupName: string;
  revision: RevisionSource;
  fileExistsBehavior?: 'DISALLOW' | 'OVERWRITE' | 'RETAIN';
  ignoreApplicationStopFailures?: boolean;
  updateOutdatedInstancesOnly?: boolean;
  description?: string;
  /** Overrides the group's deployment configuration. */
  deploymentConfigName?: string;
  /** Overrides the group's auto-rollback: off, or on for these events. */
  autoRollback?: { enabled: false } | { enabled: true; events: AutoRollbackEvent[] };
  continueReady?: boolean;
  finishAfterReroute?: boolean;
  skipTerminationWait?: boolean;
  stopOnTimeout?: boolean;
  /** When the context's signal aborts after the deployment was created: stop it with rollback (see WatchOptions). */
  stopOnCancel?: boolean;
  cancelGraceMs?: number;
  /** Told the deployment id and its revision as soon as CreateDeployment returns, before the wait. */
  onDeploymentCreated?: (deploymentId: string, revision: S3Revision) => void;
  /** Told whenever the deployment's status or instance counts change. */
  onProgress?: (progress: DeploymentProgress) => void;
  /** Budget for the whole wait, including waiting out another deployment (default 60). */
  timeoutMinutes?: number;
  /** Times a busy group (DeploymentLimitExceeded) is waited for before giving up (default 3). */
  maxBusyRetries?: number;
}

export interface DeployApplicationResult {
  deploymentId: string;
  outcome: WatchOutcome;
  revision: S3Revision & { uploaded?: boolean; bytes?: number };
  /** Every instance's lifecycle timeline at the end (original instances first in blue/green). */
  instances: InstanceTimeline[];
}

const fileExistsBehaviors = ['DISALLOW', 'OVERWRITE', 'RETAIN'];
const terminalStatuses = new Set(['Succeeded', 'Failed', 'Stopped']);

/**
 * Deploys a revision with CodeDeploy and waits for the result: the appspec is checked before anything is
 * zipped, the application and group are checked (not found vs denied vs wrong region), the workspace is
 * zipped and uploaded under a content-hash key, the deployment is created (waiting out another deployment
 * in the same group, never stopping it) and followed to its end with per-instance diagnostics.
 */
export async function deployApplication(
  options: DeployApplicationOptions,
  ctx: CodeDeployContext,
): Promise<DeployApplicationResult> {
  validateOptions(options);
  const engine = createCodeDeployEngine(ctx);
  const { reporter } = engine;
  const startedAt = engine.clock.now();
  const timeoutMs = (options.timeoutMinutes ?? 60) * 60_000;
  const { applicationName, deploymentGroupName } = options;
  const names = { applicationName, deploymentGroupName, region: engine.region };

  // 1. Everything local first: a bad appspec is refused before any AWS call or upload.
  const local = await inspectLocalRevision(engine, options.revision);

  // 2. The application and group exist, are EC2/on-premises, and we may use them.
  const group = await checkTargets(engine, applicationName, deploymentGroupName);

  // 3. The revision in S3.
  const revision = await prepareRevision(engine, options, local);
  const location: RevisionLocation = {
    revisionType: 'S3',
    s3Location: {
      bucket: revision.bucket,
      key: revision.key,
      bundleType: revision.bundleType,
      ...(revision.eTag ? { eTag: revision.eTag } : {}),
      ...(revision.version ? { version: revision.version } : {}),
    },
  };
  try {
    await call(engine, () =>
      engine.codedeploy.send(
        new RegisterApplicationRevisionCommand({
          applicationName,
          revision: location,
          ...(options.description ? { description: options.description } : {}),
        }),
      ),
    );
  } catch (error) {
    // Registering only adds the revision to the application's history; the deployment works without it.
    reporter.warn(
      `Could not register the revision with ${applicationName} (${awsErrorMessage(error)}); deploying anyway.`,
    );
  }

  // 4. The deployment, waiting out someone else's; not once the run is cancelled.
  if (engine.signal?.aborted) throw cancelledBeforeCreate(revision);
  const deploymentId = await createDeployment(engine, options, location, timeoutMs, startedAt, names).catch(
    (error: unknown) => {
      throw engine.signal?.aborted ? cancelledBeforeCreate(revision) : error;
    },
  );
  reporter.info(`Created deployment ${deploymentId}; ${howToWatchDeployment(deploymentId, engine.region)}.`);
  options.onDeploymentCreated?.(deploymentId, revision);

  // 5. Its end.
  const remainingMs = Math.max(60_000, timeoutMs - (engine.clock.now() - startedAt));
  const terminationWait = group.blueGreenDeploymentConfiguration?.terminateBlueInstancesOnDeploymentSuccess;
  const watched = await watchDeployment(engine, {
    deploymentId,
    timeoutMs: remainingMs,
    continueReady: options.continueReady,
    finishAfterReroute: options.finishAfterReroute,
    skipTerminationWait: options.skipTerminationWait,
    stopOnTimeout: options.stopOnTimeout,
    stopOnCancel: options.stopOnCancel,
    ...(options.optionNames ? { optionNames: options.optionNames } : {}),
    ...(options.cancelGraceMs !== undefined ? { cancelGraceMs: options.cancelGraceMs } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(terminationWait?.action === 'TERMINATE' && terminationWait.terminationWaitTimeInMinutes !== undefined
      ? { terminationWaitMinutes: terminationWait.terminationWaitTimeInMinutes }
      : {}),
  });
  return { deploymentId, outcome: watched.outcome, revision, instances: watched.instances };
}

function cancelledBeforeCreate(revision: S3Revision): DeploymentCancelledError {
  return new DeploymentCancelledError(
    undefined,
    false,
    undefined,
    undefined,
    `The run was cancelled before the deployment was created; nothing was deployed (the revision is at s3://${revision.bucket}/${revision.key}).`,
    'Run the deployment again.',
  );
}

function validateOptions(options: DeployApplicationOptions): void {
  if (!options.applicationName)
    throw new InvalidInputError('The application name is empty.', 'Give --application.');
  if (!options.deploymentGroupName) {
    throw new InvalidInputError('The deployment group name is empty.', 'Give --deployment-group.');
  }
  if (options.fileExistsBehavior && !fileExistsBehaviors.includes(options.fileExistsBehavior)) {
    throw new InvalidInputError(
      `fileExistsBehavior must be DISALLOW, OVERWRITE or RETAIN, got "${String(options.fileExistsBehavior)}".`,
      'Use one of the three.',
    );
  }
  if (options.finishAfterReroute && options.skipTerminationWait) {
    throw new InvalidInputError(
      '--finish-after-reroute and --skip-termination-wait contradict each other (leave blue to terminate later, or terminate it now).',
      'Give at most one of them.',
    );
  }
  if (options.revision.kind === 'workspace' && options.revision.key && options.revision.prefix) {
    throw new InvalidInputError(
      'A bundle key and a bundle prefix were both given.',
      'Give --bundle-key or --bundle-prefix, not both.',
    );
  }
}

type LocalRevision =
  | { kind: 'folder'; path: string }
  | { kind: 'archive'; path: string; bundleType: BundleType }
  | { kind: 's3' };

async function inspectLocalRevision(
  engine: CodeDeployEngine,
  source: RevisionSource,
): Promise<LocalRevision> {
  if (source.kind === 's3') return { kind: 's3' };
  const path = resolve(engine.cwd, source.path);
  const info = await stat(path).catch(() => undefined);
  if (!info) {
    throw new BundleError(
      `The bundle ${source.path} does not exist (looked for ${path}).`,
      'Check the --bundle path.',
    );
  }
  if (info.isFile()) {
    const bundleType = archiveBundleType(path);
    if (!bundleType) {
      throw new BundleError(
        `The bundle ${source.path} is a file but not a .zip, .tar, .tar.gz or .tgz archive, the types the CodeDeploy agent unpacks.`,
        'Give a folder (Keyless zips it) or an archive of one of those types.',
      );
    }
    return { kind: 'archive', path, bundleType };
  }
  const check = await checkWorkspaceAppSpec(path, { isExcluded: createExcluder(source.excludes) });
  assertValidAppSpec(check);
  for (const warning of check.warnings) engine.reporter.warn(warning);
  engine.reporter.info(`Checked ${check.file}: valid for the CodeDeploy agent.`);
  return { kind: 'folder', path };
}

async function checkTargets(
  engine: CodeDeployEngine,
  applicationName: string,
  deploymentGroupName: string,
): Promise<DeploymentGroupInfo> {
  const region = engine.region;
  const [application, group] = await Promise.all([
    call(engine, () => engine.codedeploy.send(new GetApplicationCommand({ applicationName }))).catch(
      (error: unknown) => {
        throw explainCodeDeployError(error, { operation: 'GetApplication', applicationName, region });
      },
    ),
    call(engine, () =>
      engine.codedeploy.send(new GetDeploymentGroupCommand({ applicationName, deploymentGroupName })),
    ).catch((error: unknown) => {
      throw explainCodeDeployError(error, {
        operation: 'GetDeploymentGroup',
        applicationName,
        deploymentGroupName,
        region,
      });
    }),
  ]);
  const platform = application.application?.computePlatform;
  if (platform && platform !== 'Server') {
    throw new InvalidInputError(
      `CodeDeploy application ${applicationName} is for ${platform}; Keyless deploys EC2/on-premises (Server) applications.`,
      'Use an application whose compute platform is EC2/on-premises.',
    );
  }
  const info = group.deploymentGroupInfo ?? {};
  const style = info.deploymentStyle;
  engine.reporter.info(
    `Deploying to ${applicationName}/${deploymentGroupName} (${style?.deploymentType === 'BLUE_GREEN' ? 'blue/green' : 'in-place'}, ${info.deploymentConfigName ?? 'CodeDeployDefault.OneAtATime'}).`,
  );
  return info;
}

async function prepareRevision(
  engine: CodeDeployEngine,
  options: DeployApplicationOptions,
  local: LocalRevision,
): Promise<S3Revision & { uploaded?: boolean; bytes?: number }> {
  const source = options.revision;
  const note = (message: string) => engine.reporter.info(message);
  if (source.kind === 's3') {
    const bundleType = source.bundleType ?? archiveBundleType(source.key);
    if (!bundleType) {
      throw new InvalidInputError(
        `Cannot tell the bundle type of s3://${source.bucket}/${source.key} from its name.`,
        'Give --s3-bundle-type zip, tar or tgz.',
      );
    }
    const revision = await describeS3Revision(engine.s3, source.bucket, source.key, bundleType);
    note(
      `Revision: s3://${source.bucket}/${source.key} (${bundleType}${revision.version ? `, version ${revision.version}` : ''}).`,
    );
    return revision;
  }
  const target = {
    bucket: source.bucket,
    application: options.applicationName,
    note,
    ...(source.acl ? { acl: source.acl } : {}),
    ...(source.key ? { key: source.key } : {}),
    ...(source.prefix ? { prefix: source.prefix } : {}),
  };
  if (local.kind === 'archive') {
    const [sha256, info] = await Promise.all([sha256OfFile(local.path), stat(local.path)]);
    return uploadBundle(
      engine.s3,
      { path: local.path, sha256, bytes: info.size, bundleType: local.bundleType },
      target,
    );
  }
  if (local.kind !== 'folder') throw new Error('unreachable: a workspace revision is a folder or an archive');
  const started = Date.now();
  const bundle = await bundleWorkspace(local.path, { excludes: source.excludes ?? [] });
  try {
    note(
      `Bundled ${bundle.files.toLocaleString('en-US')} files (${formatBytes(bundle.inputBytes)}) into ${formatBytes(bundle.bytes)} in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
    );
    return await uploadBundle(
      engine.s3,
      { path: bundle.path, sha256: bundle.sha256, bytes: bundle.bytes, bundleType: 'zip' },
      target,
    );
  } finally {
    await bundle.cleanup();
  }
}

/**
 * Marks this run's CreateDeployment in the deployment's description, the one field CodeDeploy gives back: it
 * has no idempotency token, so this is how a run recognises the deployment it created when the answer was lost.
 */
function requestMarker(): string {
  return `keyless-request:${randomUUID()}`;
}

function describedWithMarker(description: string | undefined, marker: string): string {
  return description ? `${description} [${marker}]` : marker;
}

/** How far back (server time) a lost CreateDeployment is looked for: generous, clocks may be skewed. */
const lookupMarginMs = 15 * 60_000;
/** Throttling answers: the request was turned away unread, so it cannot have created anything. */
const throttlingRefusals = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException']);
/** CreateDeployment attempts after throttling, 5xx or a dropped connection (each preceded by a look). */
const maxCreateAttempts = 8;

/** An attempt of a CreateDeployment that failed; the SDK must not retry it blindly (see sendOnce). */
class CreateAttemptFailed extends Error {
  constructor(readonly failure: unknown) {
    super('CreateDeployment attempt failed');
    // Deliberately no `cause`, `code` or `$metadata`: the SDK would classify those and retry.
    this.name = 'KeylessCreateAttemptFailed';
  }
}

/**
 * Sends CreateDeployment exactly once. The SDK retries throttling, 5xx and resets on its own, but a retry of a
 * CreateDeployment whose answer was lost creates a SECOND deployment (or fails with DeploymentLimitExceeded
 * against our own); every retry must first look for the one the lost attempt may have created.
 */
function sendOnce(command: CreateDeploymentCommand): CreateDeploymentCommand {
  command.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        throw new CreateAttemptFailed(error);
      }
    },
    // Inside the retry middleware (finalizeRequest, high priority): it sees a failure it never retries.
    { step: 'finalizeRequest', priority: 'low', name: 'keylessSendOnce' },
  );
  return command;
}

async function createDeployment(
  engine: CodeDeployEngine,
  options: DeployApplicationOptions,
  revision: RevisionLocation,
  timeoutMs: number,
  startedAt: number,
  names: { applicationName: string; deploymentGroupName: string; region: string },
): Promise<string> {
  const maxRetries = options.maxBusyRetries ?? 3;
  const marker = requestMarker();
  const input = {
    applicationName: options.applicationName,
    deploymentGroupName: options.deploymentGroupName,
    revision,
    ...(options.fileExistsBehavior
      ? { fileExistsBehavior: options.fileExistsBehavior as FileExistsBehavior }
      : {}),
    ...(options.ignoreApplicationStopFailures ? { ignoreApplicationStopFailures: true } : {}),
    ...(options.updateOutdatedInstancesOnly ? { updateOutdatedInstancesOnly: true } : {}),
    description: describedWithMarker(options.description, marker),
    ...(options.deploymentConfigName ? { deploymentConfigName: options.deploymentConfigName } : {}),
    ...(options.autoRollback
      ? {
          autoRollbackConfiguration: options.autoRollback.enabled
            ? { enabled: true, events: options.autoRollback.events }
            : { enabled: false },
        }
      : {}),
  };
  const since = new Date(engine.clock.now() - lookupMarginMs);
  let busyRounds = 0;
  let failedAttempts = 0;
  let mayExist = false;
  for (;;) {
    let error: unknown;
    try {
      const created = await engine.codedeploy.send(sendOnce(new CreateDeploymentCommand(input)));
      if (!created.deploymentId) throw new Error('CreateDeployment returned no deploymentId');
      return created.deploymentId;
    } catch (thrown) {
      error = thrown instanceof CreateAttemptFailed ? thrown.failure : thrown;
    }
    if (engine.signal?.aborted) {
      // Cancelled: still follow (and so stop, with stop-on-cancel) a deployment a lost answer created.
      const ours =
        mayExist || isRetryableError(error)
          ? await findOurDeployment(engine, names, marker, since, error).catch(() => undefined)
          : undefined;
      if (ours) return ours;
      throw error;
    }
    // Refused before anything happened: new credentials, same request.
    if (isExpiredCredentialsError(error) && failedAttempts < maxCreateAttempts) {
      failedAttempts++;
      engine.reporter.debug(
        'The AWS credentials expired; refreshing them and creating the deployment again.',
      );
      await engine.refreshCredentials();
      continue;
    }
    const code = awsErrorCode(error);
    const busy = code === 'DeploymentLimitExceededException';
    // Any failure without a clear refusal may have happened after CodeDeploy created the deployment (a lost
    // answer, a 5xx after the fact); from then on, and whenever the group is busy, look for ours first.
    const refusedUnread = code !== undefined && throttlingRefusals.has(code);
    if (!busy && !refusedUnread && (isRetryableError(error) || code === undefined)) mayExist = true;
    if (mayExist || busy) {
      // The busy group names its active deployment: if that is ours, it is found even before ListDeployments
      // shows it.
      const active = busy ? blockingDeploymentId(awsErrorMessage(error)) : undefined;
      const ours = await findOurDeployment(engine, names, marker, since, error, active);
      if (ours) {
        engine.reporter.info(
          `CreateDeployment's answer was lost (${awsErrorMessage(error)}), but deployment ${ours} carries this run's marker: following it instead of creating another.`,
        );
        return ours;
      }
    }
    if (busy) {
      const blocker = blockingDeploymentId(awsErrorMessage(error));
      if (busyRounds >= maxRetries || !blocker) {
        throw new DeploymentGroupBusyError(
          blocker,
          `Deployment group ${names.deploymentGroupName} is busy${blocker ? ` with deployment ${blocker}` : ''} and stayed busy through ${busyRounds + 1} attempts: ${awsErrorMessage(error)}`,
          blocker
            ? `Wait for ${blocker} to finish (${howToWatchDeployment(blocker, names.region)}), then re-run.`
            : 'Wait for the active deployment to finish, then re-run.',
        );
      }
      busyRounds++;
      engine.reporter.info(
        `Deployment group ${names.deploymentGroupName} is busy with deployment ${blocker} (not ours; Keyless never stops it): waiting for it to finish, then retrying.`,
      );
      await waitForOtherDeployment(
        engine,
        blocker,
        Math.max(60_000, timeoutMs - (engine.clock.now() - startedAt)),
      );
      continue;
    }
    if (isRetryableError(error) && ++failedAttempts < maxCreateAttempts) {
      const baseMs = isThrottlingError(error) ? 1_000 : 100;
      const waitMs = fullJitterDelay(failedAttempts - 1, baseMs, 20_000, engine.clock.random);
      engine.reporter.debug(
        `CreateDeployment failed (${awsErrorMessage(error)}); trying again in ${waitMs} ms.`,
      );
      try {
        await engine.clock.sleep(waitMs, engine.signal);
      } catch (reason) {
        // Cancelled while backing off: a deployment of ours may still exist if an attempt got through.
        const ours = mayExist
          ? await findOurDeployment(engine, names, marker, since, error).catch(() => undefined)
          : undefined;
        if (ours) return ours;
        throw reason;
      }
      continue;
    }
    throw explainCodeDeployError(error, { operation: 'CreateDeployment', ...names });
  }
}

/**
 * The deployment this run's CreateDeployment created, if any: `candidate` (the group's active deployment, read
 * by id, which is consistent at once), then the group's deployments created since `since` (ListDeployments,
 * newest first), read in batches (BatchGetDeployments) for the marker in their description.
 */
async function findOurDeployment(
  engine: CodeDeployEngine,
  names: { applicationName: string; deploymentGroupName: string; region: string },
  marker: string,
  since: Date,
  createError: unknown,
  candidate?: string,
): Promise<string | undefined> {
  const { applicationName, deploymentGroupName } = names;
  const look = async (): Promise<string | undefined> => {
    if (candidate) {
      const info = (await engine.codedeploy.send(new GetDeploymentCommand({ deploymentId: candidate })))
        .deploymentInfo;
      if (info?.description?.includes(marker)) return candidate;
    }
    let nextToken: string | undefined;
    for (let page = 0; page < 10; page++) {
      const listed = await engine.codedeploy.send(
        new ListDeploymentsCommand({
          applicationName,
          deploymentGroupName,
          createTimeRange: { start: since },
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      const ids = listed.deployments ?? [];
      for (let i = 0; i < ids.length; i += 25) {
        const batch = await engine.codedeploy.send(
          new BatchGetDeploymentsCommand({ deploymentIds: ids.slice(i, i + 25) }),
        );
        const ours = batch.deploymentsInfo?.find((info) => info.description?.includes(marker));
        if (ours?.deploymentId) return ours.deploymentId;
      }
      nextToken = listed.nextToken;
      if (!nextToken) return undefined;
    }
    return undefined;
  };
  for (let attempt = 1; ; attempt++) {
    try {
      return await look();
    } catch (error) {
      if (isExpiredCredentialsError(error) && attempt < 3) {
        await engine.refreshCredentials();
        continue;
      }
      if (isRetryableError(error) && attempt < 3) {
        await engine.clock.sleep(fullJitterDelay(attempt, 1_000, 10_000, engine.clock.random), engine.signal);
        continue;
      }
      throw new CodeDeployRequestError(
        `CreateDeployment for ${applicationName}/${deploymentGroupName} failed (${awsErrorMessage(createError)}), and checking whether it had created the deployment anyway failed too (${awsErrorMessage(error)}).`,
        `Look at the group's deployments (aws deploy list-deployments --application-name ${applicationName} --deployment-group-name ${deploymentGroupName} --region ${names.region}) before re-running: one may be running.`,
        { cause: error },
      );
    }
  }
}

async function waitForOtherDeployment(
  engine: CodeDeployEngine,
  deploymentId: string,
  timeoutMs: number,
): Promise<void> {
  const status = await poll<string>({
    timeoutMs,
    refreshCredentials: engine.refreshCredentials,
    signal: engine.signal,
    clock: engine.clock,
    schedule: engine.schedule,
    onNote: (note) => engine.reporter.debug(`waiting for deployment ${deploymentId}: ${note}`),
    onTimeout: (elapsedMs, lastStatus) =>
      new DeploymentTimeoutError(
        deploymentId,
        lastStatus,
        false,
        `The deployment group stayed busy with deployment ${deploymentId} for ${Math.round(elapsedMs / 60_000)} min (last status ${lastStatus ?? 'unknown'}); ours was not created.`,
        `Wait for ${deploymentId} to finish (${howToWatchDeployment(deploymentId, engine.region)}), then re-run.`,
      ),
    check: async () => {
      const info = (await engine.codedeploy.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo;
      const current = info?.status ?? 'Unknown';
      return terminalStatuses.has(current)
        ? { done: true, value: current }
        : { done: false, status: current };
    },
  });
  engine.reporter.info(`Deployment ${deploymentId} finished (${status}); creating ours.`);
}
