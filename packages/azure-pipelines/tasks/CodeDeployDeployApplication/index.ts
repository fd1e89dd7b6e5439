// CodeDeployDeployApplication@1: the AWS Toolkit's inputs (same names, defaults and meaning) mapped onto
// core's deployApplication, as `keyless codedeploy deploy` maps its flags; outputs and the run summary.
import {
  archiveBundleType,
  deployApplication,
  DeploymentCancelledError,
  DeploymentFailedError,
  DeploymentTimeoutError,
  InvalidInputError,
  type DeployApplicationOptions,
  type InstanceTimeline,
  type RevisionSource,
  type S3Revision,
} from '@keyless/core';
import {
  codeDeployTaskOutputs,
  outputVariableCollision,
  publishOutput,
  runTask,
  type TaskContext,
  type TaskInputs,
} from '../../src';
import { deploymentSummary } from './summary';

const taskName = 'CodeDeployDeployApplication';

const fileExistsBehaviors = ['DISALLOW', 'OVERWRITE', 'RETAIN'] as const;
const cannedAcls = [
  'none',
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
] as const;
const rollbackEvents = [
  'DEPLOYMENT_FAILURE',
  'DEPLOYMENT_STOP_ON_ALARM',
  'DEPLOYMENT_STOP_ON_REQUEST',
] as const;
type RollbackEvent = (typeof rollbackEvents)[number];
const variableName = /^[A-Za-z_][A-Za-z0-9_.]*$/;

interface Settings {
  options: DeployApplicationOptions;
  outputVariable?: string;
  /** Inputs that are set but mean nothing in this configuration, with why (told, not silently dropped). */
  ignored: string[];
}

function invalid(message: string, fix: string): InvalidInputError {
  return new InvalidInputError(`${taskName}: ${message}`, fix);
}

/** Every input checked before any AWS call: a wrong value fails here, naming the input and the fix. */
function readSettings(inputs: TaskInputs): Settings {
  const ignored: string[] = [];
  const applicationName = inputs.required('applicationName');
  const deploymentGroupName = inputs.required('deploymentGroupName');
  const source = inputs.choice('deploymentRevisionSource', ['workspace', 's3'], 'workspace');
  const bucket = inputs.required('bucketName');
  let revision: RevisionSource;
  if (source === 'workspace') {
    const acl = inputs.choice('filesAcl', cannedAcls, 'none');
    const prefix = inputs.optional('bundlePrefix');
    revision = {
      kind: 'workspace',
      path: inputs.requiredPath('revisionBundle', 'when deploymentRevisionSource is workspace'),
      bucket,
      ...(prefix ? { prefix } : {}),
      excludes: inputs.list('excludePatterns', /[\r\n,]+/),
      ...(acl !== 'none' ? { acl } : {}),
    };
    if (inputs.optional('bundleKey'))
      ignored.push('bundleKey (it names an existing object for deploymentRevisionSource s3)');
  } else {
    const key = inputs.required('bundleKey', 'when deploymentRevisionSource is s3');
    // The toolkit's rule: the extension decides, anything unknown is a zip.
    revision = { kind: 's3', bucket, key, bundleType: archiveBundleType(key) ?? 'zip' };
    for (const name of ['bundlePrefix', 'excludePatterns'])
      if (inputs.optional(name)) ignored.push(`${name} (it applies to deploymentRevisionSource workspace)`);
    if (inputs.choice('filesAcl', cannedAcls, 'none') !== 'none')
      ignored.push('filesAcl (nothing is uploaded for deploymentRevisionSource s3)');
  }

  const finishAfterReroute = inputs.boolean('finishAfterReroute', false);
  const skipTerminationWait = inputs.boolean('skipTerminationWait', false);
  if (finishAfterReroute && skipTerminationWait) {
    throw invalid(
      'finishAfterReroute and skipTerminationWait contradict each other (leave the original instances to terminate later, or terminate them now).',
      'Set at most one of them to true.',
    );
  }

  const outputVariable = inputs.optional('outputVariable');
  if (outputVariable !== undefined && !variableName.test(outputVariable)) {
    throw invalid(
      `the input "outputVariable" is "${outputVariable}", which is not a variable name.`,
      'Use letters, digits, "_" and ".", starting with a letter or "_".',
    );
  }

  const description = inputs.optional('description');
  const deploymentConfigName = inputs.optional('deploymentConfigName');
  const autoRollback = readAutoRollback(inputs);
  const options: DeployApplicationOptions = {
    applicationName,
    deploymentGroupName,
    revision,
    // Messages suggest this task's inputs, not the CLI's flags.
    optionNames: {
      continueReady: 'continueWhenReady: true',
      finishAfterReroute: 'finishAfterReroute: true',
      skipTerminationWait: 'skipTerminationWait: true',
      timeout: 'timeoutInMins',
      stopOnTimeout: 'stopOnTimeout: true',
    },
    // Always sent, as the toolkit does (DISALLOW is also CodeDeploy's own default).
    fileExistsBehavior: inputs.choice('fileExistsBehavior', fileExistsBehaviors, 'DISALLOW'),
    ignoreApplicationStopFailures: inputs.boolean('ignoreApplicationStopFailures', false),
    updateOutdatedInstancesOnly: inputs.boolean('updateOutdatedInstancesOnly', false),
    ...(description ? { description } : {}),
    ...(deploymentConfigName ? { deploymentConfigName } : {}),
    ...(autoRollback ? { autoRollback } : {}),
    continueReady: inputs.boolean('continueWhenReady', false),
    finishAfterReroute,
    skipTerminationWait,
    stopOnTimeout: inputs.boolean('stopOnTimeout', false),
    stopOnCancel: inputs.boolean('stopOnCancel', false),
    timeoutMinutes: inputs.integer('timeoutInMins', { min: 1, max: 10_080, fallback: 30 }),
  };
  return { options, ignored, ...(outputVariable ? { outputVariable } : {}) };
}

function readAutoRollback(inputs: TaskInputs): DeployApplicationOptions['autoRollback'] {
  const mode = inputs.choice('autoRollback', ['default', 'enabled', 'disabled'], 'default');
  if (mode === 'default') return undefined;
  if (mode === 'disabled') return { enabled: false };
  const events = inputs.list('autoRollbackEvents', /[\s,]+/).map((event) => event.toUpperCase());
  const unknown = events.filter((event) => !(rollbackEvents as readonly string[]).includes(event));
  if (unknown.length > 0 || events.length === 0) {
    throw invalid(
      events.length === 0
        ? 'autoRollback is enabled but "autoRollbackEvents" names no event.'
        : `the input "autoRollbackEvents" has ${unknown.map((event) => `"${event}"`).join(', ')}, which CodeDeploy does not know.`,
      `Use one or more of: ${rollbackEvents.join(', ')}.`,
    );
  }
  return { enabled: true, events: [...new Set(events)] as RollbackEvent[] };
}

/**
 * How long a cancelled run may wait for StopDeployment to take effect: the agent sends SIGINT, SIGTERM after
 * PROCESS_SIGINT_TIMEOUT (7.5 s) and kills after PROCESS_SIGTERM_TIMEOUT more (2.5 s); 3 s are kept to report.
 */
function cancelGraceMs(env: NodeJS.ProcessEnv): number {
  const knob = (name: string, fallback: number) => {
    const value = Number(env[name]);
    return Number.isFinite(value) && value > 0 ? value : fallback;
  };
  return Math.max(
    1_000,
    knob('PROCESS_SIGINT_TIMEOUT', 7_500) + knob('PROCESS_SIGTERM_TIMEOUT', 2_500) - 3_000,
  );
}

function noteDiagnosticInputs(ctx: TaskContext): void {
  for (const name of ['logRequest', 'logResponse']) {
    const line = `${name}: AWS requests and responses are not logged (their headers carry credentials); the log shows each step, and a failure shows CodeDeploy's own diagnostics.`;
    if (ctx.inputs.boolean(name, false)) ctx.reporter.warn(line);
    else ctx.reporter.debug(line);
  }
}

function publishDeployment(
  deploymentId: string,
  revision: S3Revision,
  outputVariable: string | undefined,
): void {
  publishOutput('deploymentId', deploymentId);
  if (outputVariable) publishOutput(outputVariable, deploymentId, { jobVariable: true });
  publishOutput('revisionLocation', `s3://${revision.bucket}/${revision.key}`);
  if (revision.eTag) publishOutput('bundleETag', revision.eTag);
}

/** The status line of an unsuccessful deployment's summary, and its timeline, from core's typed errors. */
function failureView(
  error: unknown,
): { status: string; instances: InstanceTimeline[]; id?: string } | undefined {
  if (error instanceof DeploymentFailedError)
    return { status: error.status, instances: error.instances, id: error.deploymentId };
  if (error instanceof DeploymentTimeoutError) {
    const status = error.stopped
      ? 'Stopped after the timeout'
      : `${error.lastStatus ?? 'In progress'}, still running (timed out)`;
    return { status, instances: error.instances, id: error.deploymentId };
  }
  if (error instanceof DeploymentCancelledError && error.deploymentId) {
    const status = error.stopped
      ? `${error.lastStatus ?? 'Stopping'} (stopped because the run was cancelled)`
      : `${error.lastStatus ?? 'In progress'}, still running (the run was cancelled)`;
    return { status, instances: error.instances, id: error.deploymentId };
  }
  return undefined;
}

void runTask(taskName, async (ctx) => {
  const settings = readSettings(ctx.inputs);
  noteDiagnosticInputs(ctx);
  const collision = outputVariableCollision(taskName, settings.outputVariable, codeDeployTaskOutputs);
  if (collision) ctx.reporter.warn(collision);
  for (const note of settings.ignored) ctx.reporter.info(`Ignoring ${note}.`);
  const { applicationName, deploymentGroupName } = settings.options;

  const credentials = await ctx.credentials();
  let revision: S3Revision | undefined;
  const options: DeployApplicationOptions = {
    ...settings.options,
    cancelGraceMs: cancelGraceMs(ctx.env),
    onDeploymentCreated: (deploymentId, created) => {
      revision = created;
      publishDeployment(deploymentId, created, settings.outputVariable);
    },
    onProgress: ({ deploymentId, status, percent, overview }) =>
      ctx.progress(percent ?? 0, `Deployment ${deploymentId}: ${overview ?? status}`),
  };
  const summarize = (
    status: string,
    instances: InstanceTimeline[],
    deploymentId?: string,
    failure?: string,
  ) =>
    ctx.summary(
      `CodeDeploy: ${applicationName} / ${deploymentGroupName}`,
      deploymentSummary({
        applicationName,
        deploymentGroupName,
        region: credentials.region,
        status,
        instances,
        ...(deploymentId ? { deploymentId } : {}),
        ...(revision ? { revision } : {}),
        ...(failure ? { failure } : {}),
      }),
    );

  ctx.progress(0, `Preparing the revision for ${applicationName}`);
  try {
    const result = await deployApplication(options, {
      credentials,
      env: ctx.env,
      reporter: ctx.reporter,
      cwd: ctx.cwd,
      signal: ctx.signal,
    });
    revision = result.revision;
    const rerouted = result.outcome === 'rerouted';
    summarize(
      rerouted ? 'Traffic on the replacement instances (originals terminate later)' : 'Succeeded',
      result.instances,
      result.deploymentId,
    );
    const count = result.instances.length;
    return {
      result: 'Succeeded',
      message:
        `Deployment ${result.deploymentId} of s3://${result.revision.bucket}/${result.revision.key} to ${applicationName}/${deploymentGroupName} ` +
        (rerouted
          ? "rerouted traffic to the replacement instances; the original ones are terminated after the group's termination wait."
          : `succeeded${count ? ` on ${count} instance${count === 1 ? '' : 's'}` : ''}.`),
    };
  } catch (error) {
    const view = failureView(error);
    if (view) summarize(view.status, view.instances, view.id, (error as Error).message);
    if (
      error instanceof DeploymentCancelledError &&
      error.deploymentId &&
      !error.stopped &&
      !settings.options.stopOnCancel
    )
      ctx.reporter.info(
        'Set stopOnCancel: true to have a cancelled run stop the deployment with automatic rollback.',
      );
    throw error;
  }
});
