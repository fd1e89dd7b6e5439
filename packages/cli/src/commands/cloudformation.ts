import { chmod, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  deleteStack,
  deployStack,
  InvalidInputError,
  type DeployStackOptions,
  type ParameterSource,
  type TemplateSource,
} from '@keyless/core';
import { credentialFlags, credentialFlagsHelp, assertNoUnexpected } from '../credential-flags';
import { expandListFlags, integerOption, parseCommandLine, splitList, UsageError } from '../usage';
import type { CommandContext } from '../command';
import { engineContextFor } from '../engine-context';

export const cloudformationHelp = `keyless cloudformation — create, update or delete a CloudFormation stack and wait for it, printing its events.

Usage:
  keyless cloudformation deploy --stack-name NAME (--template-file F | --template-url U | --template-bucket B --template-key K)
                                [options] [credential options]
  keyless cloudformation delete --stack-name NAME [--retain-resources ID …] [credential options]

deploy creates the stack or updates it through a change set named after the build (keyless-<build id or time>).
A stack left in ROLLBACK_COMPLETE is deleted and created again; a stack busy with another operation is waited
for; re-running with no changes succeeds, changes nothing and removes the empty change set. On success the
stack's outputs are printed to stdout as Key=Value lines; progress and events go to stderr.

Deploy options:
  --stack-name NAME               the stack (created if it does not exist)
  --template-file PATH            local YAML/JSON template; checked locally first (syntax, size)
  --template-url URL              template already in S3 (https URL)
  --template-bucket B --template-key K   template already in S3, by bucket and key
  --bucket BUCKET                 bucket for templates over 51,200 bytes (uploaded under keyless/templates/<stack>/<sha256>.template)
  --parameters FILE|JSON          parameters: a CloudFormation array, a CodePipeline {"Parameters": {…}} object or a flat
                                  map, in JSON or YAML (repeatable; later files win)
  --parameter-overrides K=V …     parameter values; win over --parameters. On update, parameters not given keep their values
  --capabilities CAP …            CAPABILITY_IAM, CAPABILITY_NAMED_IAM, CAPABILITY_AUTO_EXPAND
  --tags K=V …                    stack tags
  --cfn-role-arn ARN              service role CloudFormation uses for the stack (--role-arn is the OIDC role)
  --notification-arns ARN …       SNS topics for stack events
  --termination-protection        turn termination protection on (--no-termination-protection turns it off)
  --on-failure ROLLBACK|DO_NOTHING|DELETE   what a failed creation does (default ROLLBACK)
  --disable-rollback              keep failed resources as they are (create and update)
  --rollback-alarm-arns ARN …     CloudWatch alarms that roll the stack back (at most 5)
  --rollback-monitoring-minutes N how long to watch them after the update (0-180)
  --direct                        CreateStack/UpdateStack instead of a change set
  --no-execute                    create the change set, print what it would change, and stop (an empty one is kept)
  --change-set-name NAME          default keyless-<build id> (BUILD_BUILDID, GITHUB_RUN_ID, CI_PIPELINE_ID) or keyless-<time>
  --build-id ID                   the build the change set is named after
  --no-recreate-rollback-complete fail instead of recreating a stack in ROLLBACK_COMPLETE
  --warn-on-empty                 an unchanged stack succeeds with a warning
  --fail-on-empty                 an unchanged stack is a failure (exit 1)
  --timeout MINUTES               how long to wait for each step (default 60); on timeout the stack may still be changing
  --outputs-json FILE             also write the outputs as a JSON object to FILE (values unmasked; mode 600)

Delete options:
  --stack-name NAME               deleting a stack that does not exist succeeds
  --retain-resources ID …         logical ids to keep (for a stack in DELETE_FAILED)
  --cfn-role-arn ARN              service role CloudFormation uses to delete
  --timeout MINUTES               how long to wait (default 60)

${credentialFlagsHelp}

Examples:
  # The AWS blog's sample application, from an Azure VM agent with a managed identity
  keyless cloudformation deploy --stack-name sample-app --template-file infrastructure.yml \\
    --parameter-overrides KeyName=deploy InstanceType=t3.small --capabilities CAPABILITY_IAM \\
    --provider azure-managed-identity --audience api://my-app --role-arn arn:aws:iam::123456789012:role/deploy --region us-east-1
  # Review a change first: create the change set only
  keyless cloudformation deploy --stack-name sample-app --template-file infrastructure.yml --no-execute --provider github \\
    --role-arn arn:aws:iam::123456789012:role/deploy --region us-east-1
  # A large template goes through S3 automatically
  keyless cloudformation deploy --stack-name platform --template-file big.yml --bucket my-templates --provider github …
  keyless cloudformation delete --stack-name sample-app --provider github --role-arn arn:aws:iam::123456789012:role/deploy --region us-east-1`;

const deployFlags = {
  ...credentialFlags,
  'stack-name': { type: 'string' },
  'template-file': { type: 'string' },
  'template-url': { type: 'string' },
  'template-bucket': { type: 'string' },
  'template-key': { type: 'string' },
  bucket: { type: 'string' },
  parameters: { type: 'string', multiple: true },
  'parameter-overrides': { type: 'string', multiple: true },
  capabilities: { type: 'string', multiple: true },
  tags: { type: 'string', multiple: true },
  'cfn-role-arn': { type: 'string' },
  'notification-arns': { type: 'string', multiple: true },
  'termination-protection': { type: 'boolean' },
  'no-termination-protection': { type: 'boolean' },
  'on-failure': { type: 'string' },
  'disable-rollback': { type: 'boolean' },
  'rollback-alarm-arns': { type: 'string', multiple: true },
  'rollback-monitoring-minutes': { type: 'string' },
  direct: { type: 'boolean' },
  'no-execute': { type: 'boolean' },
  'change-set-name': { type: 'string' },
  'build-id': { type: 'string' },
  'no-recreate-rollback-complete': { type: 'boolean' },
  'warn-on-empty': { type: 'boolean' },
  'fail-on-empty': { type: 'boolean' },
  timeout: { type: 'string' },
  'outputs-json': { type: 'string' },
} as const;

const deleteFlags = {
  ...credentialFlags,
  'stack-name': { type: 'string' },
  'retain-resources': { type: 'string', multiple: true },
  'cfn-role-arn': { type: 'string' },
  timeout: { type: 'string' },
} as const;

/** Options that take several values, AWS CLI style: `--parameter-overrides A=1 B=2`. */
const listFlags = new Set([
  'parameters',
  'parameter-overrides',
  'capabilities',
  'tags',
  'notification-arns',
  'rollback-alarm-arns',
  'retain-resources',
]);

const capabilityNames = ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'];

export async function runCloudFormation(argv: string[], context: CommandContext): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    context.stdout(`${cloudformationHelp}\n`);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'deploy') return runDeploy(expandListFlags(rest, listFlags), context);
  if (sub === 'delete') return runDelete(expandListFlags(rest, listFlags), context);
  throw new UsageError(`Unknown subcommand "${sub}"; use deploy or delete.`, 'cloudformation');
}

async function runDeploy(argv: string[], context: CommandContext): Promise<number> {
  const command = 'cloudformation deploy';
  const { values, positionals } = parseCommandLine(command, argv, deployFlags);
  if (values.help) {
    context.stdout(`${cloudformationHelp}\n`);
    return 0;
  }
  assertNoUnexpected('cloudformation', positionals);
  const stackName = required(values['stack-name'], 'stack-name');
  const template = templateSource(values);
  if (values['warn-on-empty'] && values['fail-on-empty']) {
    throw new UsageError(
      '--warn-on-empty and --fail-on-empty contradict each other; give one.',
      'cloudformation',
    );
  }
  if (values['termination-protection'] && values['no-termination-protection']) {
    throw new UsageError(
      '--termination-protection and --no-termination-protection contradict each other.',
      'cloudformation',
    );
  }
  const onFailure = values['on-failure']?.toUpperCase();
  if (onFailure !== undefined && !['ROLLBACK', 'DO_NOTHING', 'DELETE'].includes(onFailure)) {
    throw new UsageError(
      `--on-failure must be ROLLBACK, DO_NOTHING or DELETE, got "${values['on-failure']}".`,
      'cloudformation',
    );
  }
  const capabilities = splitList(values.capabilities).map((capability) => capability.toUpperCase());
  for (const capability of capabilities) {
    if (!capabilityNames.includes(capability)) {
      throw new UsageError(
        `Unknown capability "${capability}"; use ${capabilityNames.join(', ')}.`,
        'cloudformation',
      );
    }
  }
  const alarms = splitList(values['rollback-alarm-arns']);
  const monitoring = integerOption(
    command,
    'rollback-monitoring-minutes',
    values['rollback-monitoring-minutes'],
    { min: 0, max: 180 },
  );
  const options: DeployStackOptions = {
    stackName,
    template,
    templateBucket: values.bucket,
    parameters: (values.parameters ?? []).map((value) => parameterSource(value, context.cwd)),
    parameterOverrides: values['parameter-overrides'] ?? [],
    capabilities,
    tags: keyValues(values.tags ?? [], '--tags'),
    roleArn: values['cfn-role-arn'],
    notificationArns: splitList(values['notification-arns']),
    terminationProtection: values['termination-protection']
      ? true
      : values['no-termination-protection']
        ? false
        : undefined,
    onFailure: onFailure as DeployStackOptions['onFailure'],
    disableRollback: values['disable-rollback'] ?? false,
    ...(alarms.length ? { rollbackTriggers: { alarmArns: alarms, monitoringTimeMinutes: monitoring } } : {}),
    method: values.direct ? 'direct' : 'change-set',
    execute: !values['no-execute'],
    recreateRollbackComplete: !values['no-recreate-rollback-complete'],
    onEmptyChangeSet: values['fail-on-empty'] ? 'fail' : values['warn-on-empty'] ? 'warn' : 'succeed',
    changeSetName: values['change-set-name'],
    buildId: values['build-id'] ?? buildIdFrom(context.env),
    timeoutMinutes: integerOption(command, 'timeout', values.timeout, { min: 1, max: 10_080 }),
  };
  const reporter = context.reporter({ verbose: values.verbose ?? false });
  const engineContext = await engineContextFor(command, values, context, reporter);
  const result = await deployStack(options, engineContext);
  const lines = Object.entries(result.outputs).map(([key, value]) => `${key}=${value}`);
  if (lines.length) context.stdout(`${reporter.secrets.mask(lines.join('\n'))}\n`);
  if (values['outputs-json']) {
    // The values as they are (an output may be built from a NoEcho parameter): readable by this user only.
    const target = resolve(context.cwd, values['outputs-json']);
    await writeFile(target, `${JSON.stringify(result.outputs, null, 2)}\n`, { mode: 0o600 });
    await chmod(target, 0o600); // also when the file was already there
  }
  return 0;
}

async function runDelete(argv: string[], context: CommandContext): Promise<number> {
  const command = 'cloudformation delete';
  const { values, positionals } = parseCommandLine(command, argv, deleteFlags);
  if (values.help) {
    context.stdout(`${cloudformationHelp}\n`);
    return 0;
  }
  assertNoUnexpected('cloudformation', positionals);
  const stackName = required(values['stack-name'], 'stack-name');
  const reporter = context.reporter({ verbose: values.verbose ?? false });
  const engineContext = await engineContextFor(command, values, context, reporter);
  await deleteStack(
    {
      stackName,
      retainResources: splitList(values['retain-resources']),
      roleArn: values['cfn-role-arn'],
      timeoutMinutes: integerOption(command, 'timeout', values.timeout, { min: 1, max: 10_080 }),
    },
    engineContext,
  );
  return 0;
}

function required(value: string | undefined, name: string): string {
  if (!value) throw new UsageError(`--${name} is required.`, 'cloudformation');
  return value;
}

function templateSource(values: {
  'template-file'?: string;
  'template-url'?: string;
  'template-bucket'?: string;
  'template-key'?: string;
}): TemplateSource {
  const file = values['template-file'];
  const url = values['template-url'];
  const bucket = values['template-bucket'];
  const key = values['template-key'];
  const given = [file, url, bucket ?? key].filter((value) => value !== undefined).length;
  if (given !== 1) {
    throw new UsageError(
      'Give exactly one template: --template-file, --template-url, or --template-bucket with --template-key.',
      'cloudformation',
    );
  }
  if (file) return { kind: 'file', path: file };
  if (url) return { kind: 'url', url };
  if (!bucket || !key)
    throw new UsageError('--template-bucket and --template-key go together.', 'cloudformation');
  return { kind: 's3', bucket, key };
}

/** `--parameters` is inline JSON/YAML when it looks like it, else a file path. */
function parameterSource(value: string, cwd: string): ParameterSource {
  const trimmed = value.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{'))
    return { text: value, origin: '--parameters (inline)' };
  const path = resolve(cwd, value);
  try {
    return { text: readFileSync(path, 'utf8'), origin: value };
  } catch {
    throw new InvalidInputError(
      `The parameters file ${value} cannot be read (looked for ${path}).`,
      'Check the path, or pass the parameters inline as JSON.',
    );
  }
}

function keyValues(items: string[], option: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const item of items) {
    const equals = item.indexOf('=');
    if (equals <= 0)
      throw new UsageError(`${option} takes Key=Value items, got "${item}".`, 'cloudformation');
    map[item.slice(0, equals)] = item.slice(equals + 1);
  }
  return map;
}

/** The CI's build id, so change sets are named after the build that made them. */
function buildIdFrom(env: NodeJS.ProcessEnv): string | undefined {
  if (env.BUILD_BUILDID) return env.BUILD_BUILDID;
  if (env.GITHUB_RUN_ID) return `${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? '1'}`;
  return env.CI_PIPELINE_ID;
}
