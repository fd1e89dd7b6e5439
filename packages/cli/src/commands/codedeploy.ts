import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import {
  assertValidAppSpec,
  checkWorkspaceAppSpec,
  createExcluder,
  deployApplication,
  describeFailedEvent,
  exitCodeFrom,
  InvalidInputError,
  type DeployApplicationOptions,
  type RevisionSource,
} from '@keyless/core';
// `codedeploy local` rehearses hooks with the sandbox's agent: the CLI front end may use the sandbox;
// core never does.
import { Clock, InstanceAgent, type AgentDeployment, type LifecycleEventName } from '@keyless/sandbox';
import { credentialFlags, credentialFlagsHelp, assertNoUnexpected } from '../credential-flags';
import { expandListFlags, integerOption, parseCommandLine, splitList, UsageError } from '../usage';
import type { CommandContext } from '../command';
import { engineContextFor } from '../engine-context';

export const codedeployHelp = `keyless codedeploy — deploy an application revision with AWS CodeDeploy (EC2/on-premises) and wait for it.

Usage:
  keyless codedeploy deploy --application A --deployment-group G
        (--bundle DIR|ARCHIVE --bucket B [--bundle-prefix P | --bundle-key K] [--exclude GLOB …]
         | --s3-bucket B --s3-key K [--s3-bundle-type zip|tar|tgz])
        [options] [credential options]
  keyless codedeploy validate [DIR] [--exclude GLOB …]
  keyless codedeploy local [DIR] [--events EVENT …] [--file-exists-behavior B] [--keep]

deploy checks the appspec before anything is zipped (version, os, files, hooks, scripts present, timeouts),
checks the application and deployment group (telling "does not exist" from access denied), zips the folder
keeping file modes (.git left out), uploads it under s3://B/P/<application>-<sha256 prefix>.zip (skipped when the
same content is there), registers the revision, creates the deployment and follows every instance's
lifecycle events until it ends. A group busy with another deployment is waited for (never stopped). On
failure it prints each failed instance's failing hook: script, exit code and the end of its log, and the
automatic rollback. On success stdout gets deploymentId=d-… (progress goes to stderr).

Deploy options:
  --application NAME              the CodeDeploy application (EC2/on-premises)
  --deployment-group NAME         the deployment group
  --bundle PATH                   a folder (checked, zipped) or a .zip/.tar/.tar.gz/.tgz (uploaded as it is)
  --bucket BUCKET                 where the bundle is uploaded
  --bundle-prefix PREFIX          key prefix for the content-hash key
  --bundle-key KEY                exact key instead of the content-hash key
  --exclude GLOB …                leave paths out of the zip (a pattern without / matches a name at any depth)
  --s3-bucket B --s3-key K        deploy an object already in S3 (its ETag and version are pinned)
  --s3-bundle-type zip|tar|tgz    when the key's extension does not say
  --file-exists-behavior B        DISALLOW (default) | OVERWRITE | RETAIN: files already at a destination
  --ignore-application-stop-failures   tolerate failures of the previous revision's ApplicationStop hooks
  --update-outdated-instances-only     deploy only to instances not running this revision
  --description TEXT              shown in the console
  --deployment-config-name NAME   override the group's deployment configuration
  --auto-rollback-events EVENT …  override: roll back on DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM, DEPLOYMENT_STOP_ON_REQUEST
  --no-auto-rollback              override: no automatic rollback
  --continue-ready                blue/green Ready state: reroute traffic at once (ContinueDeployment READY_WAIT)
  --finish-after-reroute          blue/green: succeed once traffic is on green; blue is terminated later
  --skip-termination-wait         blue/green: terminate blue now (ContinueDeployment TERMINATION_WAIT)
  --timeout MINUTES               how long to wait (default 60); then it is reported still in progress
  --stop-on-timeout               on timeout, stop the deployment with automatic rollback

Validate: checks DIR's appspec (default .) as the agent would, printing each problem with its line;
exit 0 when valid, 1 when not.

Local: runs the lifecycle (ApplicationStop … ValidateService, or --events) on a throwaway local instance
directory with the sandbox's CodeDeploy agent: real hook scripts, the agent's environment and appspec rules,
files installed under the instance's root. Hooks see KEYLESS_INSTANCE_ROOT (the instance's "/") and
KEYLESS_INSTANCE_PORT. --keep leaves the instance directory (and anything the hooks started) in place.
  --events EVENT …                lifecycle events to run, in lifecycle order (DownloadBundle and Install always run)
  --file-exists-behavior B        as for deploy (default DISALLOW)
  --application NAME --deployment-group NAME   what hooks see (default: the folder's name, LocalFleet)

${credentialFlagsHelp}

Examples:
  # The blog's pipeline step: the workspace folder, uploaded and deployed blue/green, overwriting files
  keyless codedeploy deploy --application sample-app --deployment-group sample-app-bg --bundle ./app \\
    --bucket my-artifacts --bundle-prefix deployments --file-exists-behavior OVERWRITE --finish-after-reroute \\
    --provider azure-managed-identity --audience api://my-app --role-arn arn:aws:iam::123456789012:role/deploy --region us-east-1
  # A bundle already in S3
  keyless codedeploy deploy --application web --deployment-group prod --s3-bucket my-artifacts --s3-key web/1.4.2.zip \\
    --provider github --role-arn arn:aws:iam::123456789012:role/deploy --region eu-west-1
  keyless codedeploy validate ./app
  keyless codedeploy local ./app --events BeforeInstall AfterInstall ApplicationStart ValidateService`;

const deployFlags = {
  ...credentialFlags,
  application: { type: 'string' },
  'deployment-group': { type: 'string' },
  bundle: { type: 'string' },
  bucket: { type: 'string' },
  'bundle-prefix': { type: 'string' },
  'bundle-key': { type: 'string' },
  exclude: { type: 'string', multiple: true },
  's3-bucket': { type: 'string' },
  's3-key': { type: 'string' },
  's3-bundle-type': { type: 'string' },
  'file-exists-behavior': { type: 'string' },
  'ignore-application-stop-failures': { type: 'boolean' },
  'update-outdated-instances-only': { type: 'boolean' },
  description: { type: 'string' },
  'deployment-config-name': { type: 'string' },
  'auto-rollback-events': { type: 'string', multiple: true },
  'no-auto-rollback': { type: 'boolean' },
  'continue-ready': { type: 'boolean' },
  'finish-after-reroute': { type: 'boolean' },
  'skip-termination-wait': { type: 'boolean' },
  timeout: { type: 'string' },
  'stop-on-timeout': { type: 'boolean' },
} as const;

const validateFlags = {
  exclude: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

const localFlags = {
  events: { type: 'string', multiple: true },
  'file-exists-behavior': { type: 'string' },
  application: { type: 'string' },
  'deployment-group': { type: 'string' },
  keep: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

const listFlags = new Set(['exclude', 'auto-rollback-events', 'events']);
const rollbackEvents = [
  'DEPLOYMENT_FAILURE',
  'DEPLOYMENT_STOP_ON_ALARM',
  'DEPLOYMENT_STOP_ON_REQUEST',
] as const;
const fileExistsBehaviors = ['DISALLOW', 'OVERWRITE', 'RETAIN'] as const;
/** What `codedeploy-local` runs by default: the in-place lifecycle without traffic control. */
const localLifecycle: LifecycleEventName[] = [
  'ApplicationStop',
  'DownloadBundle',
  'BeforeInstall',
  'Install',
  'AfterInstall',
  'ApplicationStart',
  'ValidateService',
];
const allLifecycle: LifecycleEventName[] = [
  'BeforeBlockTraffic',
  'BlockTraffic',
  'AfterBlockTraffic',
  ...localLifecycle,
  'BeforeAllowTraffic',
  'AllowTraffic',
  'AfterAllowTraffic',
];

export async function runCodeDeploy(argv: string[], context: CommandContext): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    context.stdout(`${codedeployHelp}\n`);
    return sub === undefined ? 2 : 0;
  }
  const args = expandListFlags(rest, listFlags);
  if (sub === 'deploy') return runDeploy(args, context);
  if (sub === 'validate') return runValidate(args, context);
  if (sub === 'local') return runLocal(args, context);
  throw new UsageError(`Unknown subcommand "${sub}"; use deploy, validate or local.`, 'codedeploy');
}

function fileExistsBehaviorOf(value: string | undefined): DeployApplicationOptions['fileExistsBehavior'] {
  if (value === undefined) return undefined;
  const upper = value.toUpperCase();
  if (!(fileExistsBehaviors as readonly string[]).includes(upper)) {
    throw new UsageError(
      `--file-exists-behavior must be DISALLOW, OVERWRITE or RETAIN, got "${value}".`,
      'codedeploy',
    );
  }
  return upper as DeployApplicationOptions['fileExistsBehavior'];
}

function revisionFrom(values: {
  bundle?: string;
  bucket?: string;
  'bundle-prefix'?: string;
  'bundle-key'?: string;
  exclude?: string[];
  's3-bucket'?: string;
  's3-key'?: string;
  's3-bundle-type'?: string;
}): RevisionSource {
  const workspace = values.bundle !== undefined;
  const s3 = values['s3-bucket'] !== undefined || values['s3-key'] !== undefined;
  if (workspace === s3) {
    throw new UsageError(
      'Give the revision one way: --bundle with --bucket, or --s3-bucket with --s3-key.',
      'codedeploy',
    );
  }
  if (workspace) {
    if (!values.bucket)
      throw new UsageError('--bundle needs --bucket (where the bundle is uploaded).', 'codedeploy');
    if (values['bundle-prefix'] && values['bundle-key']) {
      throw new UsageError('Give --bundle-prefix or --bundle-key, not both.', 'codedeploy');
    }
    if (values['s3-bundle-type'])
      throw new UsageError('--s3-bundle-type goes with --s3-bucket/--s3-key.', 'codedeploy');
    return {
      kind: 'workspace',
      path: values.bundle!,
      bucket: values.bucket,
      ...(values['bundle-prefix'] ? { prefix: values['bundle-prefix'] } : {}),
      ...(values['bundle-key'] ? { key: values['bundle-key'] } : {}),
      excludes: splitList(values.exclude),
    };
  }
  if (!values['s3-bucket'] || !values['s3-key']) {
    throw new UsageError('--s3-bucket and --s3-key go together.', 'codedeploy');
  }
  if (values.bucket || values['bundle-prefix'] || values['bundle-key'] || values.exclude) {
    throw new UsageError(
      '--bucket, --bundle-prefix, --bundle-key and --exclude go with --bundle.',
      'codedeploy',
    );
  }
  const type = values['s3-bundle-type']?.toLowerCase();
  if (type !== undefined && !['zip', 'tar', 'tgz'].includes(type)) {
    throw new UsageError(
      `--s3-bundle-type must be zip, tar or tgz, got "${values['s3-bundle-type']}".`,
      'codedeploy',
    );
  }
  return {
    kind: 's3',
    bucket: values['s3-bucket'],
    key: values['s3-key'],
    ...(type ? { bundleType: type as 'zip' | 'tar' | 'tgz' } : {}),
  };
}

async function runDeploy(argv: string[], context: CommandContext): Promise<number> {
  const command = 'codedeploy deploy';
  const { values, positionals } = parseCommandLine(command, argv, deployFlags);
  if (values.help) {
    context.stdout(`${codedeployHelp}\n`);
    return 0;
  }
  assertNoUnexpected('codedeploy', positionals);
  if (!values.application) throw new UsageError('--application is required.', 'codedeploy');
  if (!values['deployment-group']) throw new UsageError('--deployment-group is required.', 'codedeploy');
  const revision = revisionFrom(values);
  const events = splitList(values['auto-rollback-events']).map((event) => event.toUpperCase());
  for (const event of events) {
    if (!(rollbackEvents as readonly string[]).includes(event)) {
      throw new UsageError(
        `Unknown auto-rollback event "${event}"; use ${rollbackEvents.join(', ')}.`,
        'codedeploy',
      );
    }
  }
  if (events.length && values['no-auto-rollback']) {
    throw new UsageError(
      '--auto-rollback-events and --no-auto-rollback contradict each other.',
      'codedeploy',
    );
  }
  if (values['finish-after-reroute'] && values['skip-termination-wait']) {
    throw new UsageError(
      '--finish-after-reroute and --skip-termination-wait contradict each other; give one.',
      'codedeploy',
    );
  }
  const options: DeployApplicationOptions = {
    applicationName: values.application,
    deploymentGroupName: values['deployment-group'],
    revision,
    fileExistsBehavior: fileExistsBehaviorOf(values['file-exists-behavior']),
    ignoreApplicationStopFailures: values['ignore-application-stop-failures'] ?? false,
    updateOutdatedInstancesOnly: values['update-outdated-instances-only'] ?? false,
    description: values.description,
    deploymentConfigName: values['deployment-config-name'],
    ...(values['no-auto-rollback']
      ? { autoRollback: { enabled: false as const } }
      : events.length
        ? {
            autoRollback: {
              enabled: true as const,
              events: events as Array<(typeof rollbackEvents)[number]>,
            },
          }
        : {}),
    continueReady: values['continue-ready'] ?? false,
    finishAfterReroute: values['finish-after-reroute'] ?? false,
    skipTerminationWait: values['skip-termination-wait'] ?? false,
    stopOnTimeout: values['stop-on-timeout'] ?? false,
    timeoutMinutes: integerOption(command, 'timeout', values.timeout, { min: 1, max: 10_080 }),
  };
  const reporter = context.reporter({ verbose: values.verbose ?? false });
  // Ctrl-C stops the wait with a clear "may still be running" message; the deployment itself goes on.
  const result = await deployApplication(options, await engineContextFor(command, values, context, reporter));
  context.stdout(`deploymentId=${result.deploymentId}\n`);
  return 0;
}

async function runValidate(argv: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandLine('codedeploy validate', argv, validateFlags, true);
  if (values.help) {
    context.stdout(`${codedeployHelp}\n`);
    return 0;
  }
  const directory = await appDirectory(positionals, context);
  const check = await checkWorkspaceAppSpec(directory, {
    isExcluded: createExcluder(splitList(values.exclude)),
  });
  const reporter = context.reporter();
  for (const warning of check.warnings) reporter.warn(warning);
  try {
    assertValidAppSpec(check);
  } catch (error) {
    if (error instanceof InvalidInputError || (error as { code?: string }).code === 'AppSpecInvalid') {
      reporter.error((error as { toUserText(): string }).toUserText());
      return 1;
    }
    throw error;
  }
  context.stdout(`${check.file} is valid for the CodeDeploy agent.\n`);
  return 0;
}

/** The one optional DIR argument of validate and local (default: here), which must be a folder. */
async function appDirectory(positionals: string[], context: CommandContext): Promise<string> {
  if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}".`, 'codedeploy');
  const directory = resolve(context.cwd, positionals[0] ?? '.');
  const info = await stat(directory).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new InvalidInputError(
      `${directory} ${info ? 'is not a directory' : 'does not exist'}.`,
      'Give the folder that holds appspec.yml.',
    );
  }
  return directory;
}

async function runLocal(argv: string[], context: CommandContext): Promise<number> {
  const command = 'codedeploy local';
  const { values, positionals } = parseCommandLine(command, argv, localFlags, true);
  if (values.help) {
    context.stdout(`${codedeployHelp}\n`);
    return 0;
  }
  const directory = await appDirectory(positionals, context);
  const reporter = context.reporter({ verbose: values.verbose ?? false });
  const requested = splitList(values.events);
  for (const event of requested) {
    if (!(allLifecycle as string[]).includes(event)) {
      throw new UsageError(
        `Unknown lifecycle event "${event}"; events are: ${allLifecycle.join(', ')}.`,
        'codedeploy',
      );
    }
  }
  // As with codedeploy-local: DownloadBundle and Install always run, since every other event works on the
  // unpacked, installed revision.
  const always: LifecycleEventName[] = ['DownloadBundle', 'Install'];
  const events = requested.length
    ? allLifecycle.filter((event) => requested.includes(event) || always.includes(event))
    : localLifecycle;
  // The same check as deploy: the agent would refuse these too, later and less clearly.
  assertValidAppSpec(await checkWorkspaceAppSpec(directory));

  const rootDir = await mkdtemp(join(tmpdir(), 'keyless-local-instance-'));
  const processGroups = new Set<number>();
  const agent = new InstanceAgent({
    instanceId: `i-${randomBytes(9).toString('hex').slice(0, 17)}`,
    rootDir,
    port: await freePort(),
    clock: new Clock(),
    log: (line) => reporter.debug(line),
    trackProcessGroup: (pid) => {
      processGroups.add(pid);
      return () => processGroups.delete(pid);
    },
  });
  const deployment: AgentDeployment = {
    deploymentId: `d-${randomBytes(8).toString('hex').toUpperCase().slice(0, 9)}-local`,
    applicationName: values.application ?? basename(directory),
    deploymentGroupName: values['deployment-group'] ?? 'LocalFleet',
    deploymentGroupId: values['deployment-group'] ?? 'LocalFleet',
    revision: { kind: 'directory', path: directory },
    fileExistsBehavior: fileExistsBehaviorOf(values['file-exists-behavior']) ?? 'DISALLOW',
  };
  reporter.info(
    `Local deployment ${deployment.deploymentId} of ${directory} on a throwaway instance at ${rootDir}`,
  );
  let failed = false;
  try {
    for (const event of events) {
      if (failed) {
        reporter.info(`  ${event} Skipped`);
        continue;
      }
      const result = await agent.runEvent(deployment, event);
      const seconds = ((result.endTime.getTime() - result.startTime.getTime()) / 1000).toFixed(1);
      if (result.status === 'Failed') {
        failed = true;
        const { diagnostics } = result;
        const lines = describeFailedEvent({
          instanceId: 'local instance',
          event,
          errorCode: diagnostics.errorCode,
          ...(diagnostics.scriptName ? { scriptName: diagnostics.scriptName } : {}),
          message: diagnostics.message,
          logTail: diagnostics.logTail,
          ...(exitCodeFrom(diagnostics.message) !== undefined
            ? { exitCode: exitCodeFrom(diagnostics.message)! }
            : {}),
        });
        reporter.error(`${event} failed (${seconds} s):\n${lines.join('\n')}`);
      } else {
        reporter.info(`  ${event} ${result.status} (${seconds} s)`);
      }
    }
    if (!failed) {
      await agent.markSucceeded(deployment);
      reporter.info(`Local deployment ${deployment.deploymentId} succeeded.`);
    }
  } finally {
    if (values.keep) {
      reporter.info(
        `Kept the instance at ${rootDir}${processGroups.size ? ` (processes the hooks started still run: ${[...processGroups].join(', ')})` : ''}.`,
      );
    } else {
      for (const pid of processGroups) {
        try {
          process.kill(-pid, 'SIGTERM');
        } catch {
          // Already gone.
        }
      }
      await rm(rootDir, { recursive: true, force: true });
    }
  }
  return failed ? 1 : 0;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}
