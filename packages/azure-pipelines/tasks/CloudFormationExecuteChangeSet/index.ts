// CloudFormationExecuteChangeSet@1: the AWS Toolkit's inputs (same names, defaults and meaning) plus a timeout
// and an output prefix, mapped onto core's executeChangeSet; outputs and the run summary.
import {
  EmptyChangeSetError,
  executeChangeSet,
  InvalidInputError,
  type ExecuteChangeSetOptions,
  type ExecuteChangeSetResult,
} from '@keyless/core';
import {
  describeOutputs,
  outputVariableCollision,
  publishStackResult,
  readStackOutputSettings,
  runTask,
  stackSummaryMarkdown,
  stackTaskOutputs,
  type TaskContext,
} from '../../src';

const taskName = 'CloudFormationExecuteChangeSet';

function noteDiagnosticInputs(ctx: TaskContext): void {
  for (const name of ['logRequest', 'logResponse']) {
    const line = `${name}: raw AWS requests and responses are not logged (their headers carry credentials); the log shows every step and stack event, and System.Debug=true adds the engine's details.`;
    if (ctx.inputs.boolean(name, false)) ctx.reporter.warn(line);
    else ctx.reporter.debug(line);
  }
}

function readOptions(ctx: TaskContext): ExecuteChangeSetOptions {
  const changeSetName = ctx.inputs.required('changeSetName');
  const stackName = ctx.inputs.optional('stackName');
  if (!changeSetName.startsWith('arn:') && stackName === undefined) {
    throw new InvalidInputError(
      `${taskName}: the input "stackName" is required when "changeSetName" is a name ("${changeSetName}") rather than an ARN, but is empty.`,
      'Set "stackName" to the change set\'s stack, or give the change set\'s ARN in "changeSetName".',
    );
  }
  const timeoutMinutes = ctx.inputs.integer('timeoutInMins', { min: 1, max: 10_080, fallback: 60 });
  return {
    changeSetName,
    ...(stackName ? { stackName } : {}),
    onEmpty: ctx.inputs.boolean('noFailOnEmptyChangeSet', false) ? 'succeed' : 'fail',
    deleteEmpty: ctx.inputs.boolean('deleteEmptyChangeSet', false),
    ...(timeoutMinutes ? { timeoutMinutes } : {}),
  };
}

const outcomeText: Record<ExecuteChangeSetResult['outcome'], string> = {
  created: 'Created',
  updated: 'Updated',
  empty: 'Nothing to execute (empty change set)',
  'already-executed': 'Already executed',
};

function completionMessage(result: ExecuteChangeSetResult): string {
  switch (result.outcome) {
    case 'created':
    case 'updated':
      return `Change set ${result.changeSetName} executed: stack ${result.stackName} ${result.outcome} (${result.status}).`;
    case 'empty':
      return `Change set ${result.changeSetName} of stack ${result.stackName} has no changes; nothing was executed${result.deleted ? ' and it was deleted' : ''}.`;
    case 'already-executed':
      return `Change set ${result.changeSetName} was already executed; stack ${result.stackName} is ${result.status}.`;
  }
}

void runTask(taskName, async (ctx) => {
  const options = readOptions(ctx);
  const outputs = readStackOutputSettings(ctx.inputs, taskName);
  noteDiagnosticInputs(ctx);
  const collision = outputVariableCollision(taskName, outputs.outputVariable, stackTaskOutputs);
  if (collision) ctx.reporter.warn(collision);
  const label = options.stackName ?? options.changeSetName;

  ctx.progress(0, 'Obtaining AWS credentials');
  const credentials = await ctx.credentials();
  ctx.progress(10, `Executing change set ${options.changeSetName}`);
  let result: ExecuteChangeSetResult;
  try {
    result = await executeChangeSet(options, {
      credentials,
      env: ctx.env,
      reporter: ctx.reporter,
      cwd: ctx.cwd,
      signal: ctx.signal,
    });
  } catch (error) {
    ctx.summary(
      `CloudFormation: ${label}`,
      stackSummaryMarkdown({ stackName: label, region: credentials.region, outcome: 'Failed', error }),
    );
    if (error instanceof EmptyChangeSetError) {
      throw new EmptyChangeSetError(
        `${taskName}: ${error.message}`,
        'Set noFailOnEmptyChangeSet: true if an unchanged stack is fine (and deleteEmptyChangeSet: true to remove such change sets).',
      );
    }
    throw error;
  }

  ctx.progress(90, 'Publishing the stack outputs');
  const captured = publishStackResult(result, outputs);
  ctx.reporter.info(describeOutputs(result.outputs, outputs.secure));
  ctx.summary(
    `CloudFormation: ${result.stackName}`,
    stackSummaryMarkdown({
      stackName: result.stackName,
      region: credentials.region,
      outcome: outcomeText[result.outcome],
      status: result.status,
      stackId: result.stackId,
      changeSet: result.summary,
      outputs: result.outputs,
      secure: outputs.secure,
      captured,
    }),
  );
  ctx.progress(100, 'Done');
  return { result: 'Succeeded', message: completionMessage(result) };
});
