// CloudFormationCreateOrUpdateStack@1: the AWS Toolkit's inputs (same names, defaults and meaning) mapped onto
// core's deployStack, as `keyless cloudformation deploy` maps its flags; outputs and the run summary.
import { readFileSync } from 'node:fs';
import {
  deployStack,
  InvalidInputError,
  type DeployStackOptions,
  type DeployStackResult,
  type ParameterSource,
  type TemplateSource,
} from '@keyless/core';
import {
  describeOutputs,
  outputVariableCollision,
  publishStackResult,
  readStackOutputSettings,
  runTask,
  stackSummaryMarkdown,
  stackTaskOutputs,
  type StackOutputSettings,
  type TaskContext,
  type TaskInputs,
} from '../../src';

const taskName = 'CloudFormationCreateOrUpdateStack';
const templateSources = ['file', 'url', 's3', 'usePrevious'] as const;
const onFailureModes = ['ROLLBACK', 'DO_NOTHING', 'DELETE'] as const;
const protectionModes = ['unchanged', 'enabled', 'disabled'] as const;

interface Settings {
  options: DeployStackOptions;
  outputs: StackOutputSettings;
  /** Inputs that are set but mean nothing in this configuration, with why (told, not silently dropped). */
  ignored: string[];
}

function invalid(message: string, fix: string): InvalidInputError {
  return new InvalidInputError(`${taskName}: ${message}`, fix);
}

/** Every input read and checked before any AWS call: a wrong value fails here, naming the input and the fix. */
function readSettings(inputs: TaskInputs, env: NodeJS.ProcessEnv): Settings {
  const ignored: string[] = [];
  const stackName = inputs.required('stackName');
  const { template, templateBucket } = readTemplate(inputs, ignored);
  const useChangeSet = inputs.boolean('useChangeSet', false);
  const autoExecute = inputs.boolean('autoExecuteChangeSet', true);
  const includeNestedStacks = inputs.boolean('includeNestedStacks', false);
  const changeSetName = inputs.optional('changeSetName');
  const description = inputs.optional('description');
  if (!useChangeSet) {
    for (const [name, set] of [
      ['changeSetName', changeSetName !== undefined],
      ['description', description !== undefined],
      ['includeNestedStacks', includeNestedStacks],
    ] as const) {
      if (set) ignored.push(`${name} (it applies when useChangeSet is true)`);
    }
  }

  const disableRollback = inputs.boolean('disableRollback', false);
  const onFailure = inputs.choice('onFailure', onFailureModes, 'ROLLBACK');
  if (disableRollback && onFailure === 'DELETE') {
    throw invalid(
      'onFailure is DELETE but disableRollback is true: a failed creation cannot both keep and delete its resources.',
      'Set disableRollback: false, or onFailure: DO_NOTHING to keep what failed.',
    );
  }

  const monitor = inputs.boolean('monitorRollbackTriggers', false);
  const alarms = inputs.list('rollbackTriggerARNs');
  const monitoringMinutes = inputs.integer('monitoringTimeInMinutes', { min: 0, max: 180, fallback: 0 });
  if (monitor && alarms.length > 5) {
    throw invalid(
      `the input "rollbackTriggerARNs" lists ${alarms.length} alarms; CloudFormation accepts at most 5.`,
      'Keep the five most important alarms (or combine them in a composite alarm).',
    );
  }
  if (!monitor && alarms.length > 0) ignored.push('rollbackTriggerARNs (monitorRollbackTriggers is false)');

  const protection = inputs.choice('terminationProtection', protectionModes, 'unchanged');
  const options: DeployStackOptions = {
    stackName,
    template,
    ...(templateBucket ? { templateBucket } : {}),
    parameters: readParameters(inputs),
    parameterOverrides: inputs.list('parameterOverrides'),
    capabilities: [
      ...(inputs.boolean('capabilityIAM', true) ? ['CAPABILITY_IAM'] : []),
      ...(inputs.boolean('capabilityNamedIAM', true) ? ['CAPABILITY_NAMED_IAM'] : []),
      ...(inputs.boolean('capabilityAutoExpand', false) ? ['CAPABILITY_AUTO_EXPAND'] : []),
    ],
    tags: readTags(inputs),
    ...optional('roleArn', inputs.optional('roleARN')),
    notificationArns: inputs.list('notificationARNs'),
    resourceTypes: inputs.list('resourceTypes'),
    ...(protection === 'unchanged' ? {} : { terminationProtection: protection === 'enabled' }),
    // CloudFormation's default is ROLLBACK, so only a different choice is sent; disableRollback replaces it.
    ...(disableRollback ? { disableRollback } : onFailure !== 'ROLLBACK' ? { onFailure } : {}),
    ...(monitor && alarms.length > 0
      ? { rollbackTriggers: { alarmArns: alarms, monitoringTimeMinutes: monitoringMinutes } }
      : {}),
    // The toolkit's meaning: CreateStack/UpdateStack directly unless useChangeSet (so a role allowed only
    // those calls keeps working); with useChangeSet, a change set executed only when autoExecuteChangeSet.
    method: useChangeSet ? 'change-set' : 'direct',
    execute: useChangeSet ? autoExecute : true,
    includeNestedStacks: useChangeSet && includeNestedStacks,
    recreateRollbackComplete: inputs.boolean('recreateRollbackComplete', true),
    onEmptyChangeSet: inputs.boolean('warnWhenNoWorkNeeded', true) ? 'warn' : 'succeed',
    ...(useChangeSet && changeSetName ? { changeSetName } : {}),
    ...(useChangeSet && description ? { description } : {}),
    ...optional('buildId', env.BUILD_BUILDID),
    timeoutMinutes: inputs.integer('timeoutInMins', { min: 1, max: 10_080, fallback: 60 }),
  };
  if (changeSetName !== undefined && useChangeSet && !/^[a-zA-Z][-a-zA-Z0-9]{0,127}$/.test(changeSetName)) {
    throw invalid(
      `the input "changeSetName" is "${changeSetName}", which CloudFormation does not accept.`,
      'Use up to 128 letters, digits and hyphens, starting with a letter (or leave it empty for keyless-<build id>).',
    );
  }
  return { options, outputs: readStackOutputSettings(inputs, taskName), ignored };
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined || value === '' ? {} : ({ [key]: value } as Record<K, string>);
}

function readTemplate(
  inputs: TaskInputs,
  ignored: string[],
): { template: TemplateSource; templateBucket?: string } {
  const source = inputs.choice('templateSource', templateSources, 'file');
  const bucket = inputs.optional('s3BucketName');
  const key = inputs.optional('s3ObjectKey');
  switch (source) {
    case 'file': {
      const path = inputs.requiredPath('templateFile', 'when templateSource is file');
      // A bucket is used for templates too large to send inline, under a content-hash key.
      if (key) ignored.push('s3ObjectKey (templates from a file are uploaded under a content-hash key)');
      return { template: { kind: 'file', path }, ...(bucket ? { templateBucket: bucket } : {}) };
    }
    case 'url':
      return { template: { kind: 'url', url: inputs.required('templateUrl', 'when templateSource is url') } };
    case 's3':
      return {
        template: {
          kind: 's3',
          bucket: inputs.required('s3BucketName', 'when templateSource is s3'),
          key: inputs.required('s3ObjectKey', 'when templateSource is s3'),
        },
      };
    case 'usePrevious':
      return { template: { kind: 'previous' } };
  }
}

function readParameters(inputs: TaskInputs): ParameterSource[] {
  const source = inputs.choice('templateParametersSource', ['file', 'inline'], 'file');
  if (source === 'inline') {
    const text = inputs.optional('templateParameters');
    return text ? [{ text, origin: 'templateParameters (inline)' }] : [];
  }
  const path = inputs.path('templateParametersFile');
  if (path === undefined) return [];
  try {
    return [{ text: readFileSync(path, 'utf8'), origin: path }];
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
    throw invalid(
      `the parameters file "${path}" (input "templateParametersFile") ${reason}.`,
      'Check the path (relative to the repository root), or give the parameters inline (templateParametersSource: inline).',
    );
  }
}

function readTags(inputs: TaskInputs): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const line of inputs.list('tags')) {
    const equals = line.indexOf('=');
    if (equals <= 0) {
      throw invalid(
        `the input "tags" has the line "${line}", which is not Key=Value.`,
        'Give one tag per line as Key=Value.',
      );
    }
    tags[line.slice(0, equals).trim()] = line.slice(equals + 1).trim();
  }
  return tags;
}

function noteDiagnosticInputs(ctx: TaskContext): void {
  for (const name of ['logRequest', 'logResponse']) {
    const line = `${name}: raw AWS requests and responses are not logged (their headers carry credentials); the log shows every step and stack event, and System.Debug=true adds the engine's details.`;
    if (ctx.inputs.boolean(name, false)) ctx.reporter.warn(line);
    else ctx.reporter.debug(line);
  }
}

const outcomeText: Record<DeployStackResult['outcome'], string> = {
  created: 'Created',
  updated: 'Updated',
  'no-changes': 'Up to date (no changes)',
  'change-set-created': 'Change set created, not executed',
};

function completionMessage(result: DeployStackResult): string {
  switch (result.outcome) {
    case 'created':
      return `Stack ${result.stackName} created (${result.status}).`;
    case 'updated':
      return `Stack ${result.stackName} updated (${result.status}).`;
    case 'no-changes':
      return `Stack ${result.stackName} is up to date; nothing was changed.`;
    case 'change-set-created':
      return `Change set ${result.changeSet?.name ?? ''} created for stack ${result.stackName} and not executed (autoExecuteChangeSet is false).`;
  }
}

void runTask(taskName, async (ctx) => {
  const settings = readSettings(ctx.inputs, ctx.env);
  noteDiagnosticInputs(ctx);
  const collision = outputVariableCollision(taskName, settings.outputs.outputVariable, stackTaskOutputs);
  if (collision) ctx.reporter.warn(collision);
  for (const note of settings.ignored) ctx.reporter.info(`Ignoring ${note}.`);
  const { stackName } = settings.options;

  ctx.progress(0, 'Obtaining AWS credentials');
  const credentials = await ctx.credentials();
  ctx.progress(10, `Deploying stack ${stackName}`);
  let result: DeployStackResult;
  try {
    result = await deployStack(settings.options, {
      credentials,
      env: ctx.env,
      reporter: ctx.reporter,
      cwd: ctx.cwd,
      signal: ctx.signal,
    });
  } catch (error) {
    ctx.summary(
      `CloudFormation: ${stackName}`,
      stackSummaryMarkdown({ stackName, region: credentials.region, outcome: 'Failed', error }),
    );
    throw error;
  }

  ctx.progress(90, 'Publishing the stack outputs');
  const captured = publishStackResult(result, settings.outputs);
  ctx.reporter.info(describeOutputs(result.outputs, settings.outputs.secure));
  if (result.outcome === 'change-set-created') {
    ctx.reporter.info('The change set was not executed: the outputs published are those the stack has now.');
  }
  ctx.summary(
    `CloudFormation: ${stackName}`,
    stackSummaryMarkdown({
      stackName,
      region: credentials.region,
      outcome: outcomeText[result.outcome],
      status: result.status,
      stackId: result.stackId,
      ...(result.changeSet ? { changeSet: result.changeSet.summary } : {}),
      outputs: result.outputs,
      secure: settings.outputs.secure,
      captured,
    }),
  );
  ctx.progress(100, 'Done');
  return { result: 'Succeeded', message: completionMessage(result) };
});
