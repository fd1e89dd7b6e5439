// CloudFormationDeleteStack@1: the AWS Toolkit's input (stackName) plus retainResources, roleARN and a timeout,
// mapped onto core's deleteStack as `keyless cloudformation delete` maps its flags. Deletes are idempotent.
import { deleteStack } from '@keyless/core';
import { publishOutput, runTask, stackSummaryMarkdown, type TaskContext } from '../../src';

const taskName = 'CloudFormationDeleteStack';

function noteDiagnosticInputs(ctx: TaskContext): void {
  for (const name of ['logRequest', 'logResponse']) {
    const line = `${name}: raw AWS requests and responses are not logged (their headers carry credentials); the log shows every step and stack event, and System.Debug=true adds the engine's details.`;
    if (ctx.inputs.boolean(name, false)) ctx.reporter.warn(line);
    else ctx.reporter.debug(line);
  }
}

void runTask(taskName, async (ctx) => {
  const stackName = ctx.inputs.required('stackName');
  const retainResources = ctx.inputs.list('retainResources');
  const roleArn = ctx.inputs.optional('roleARN');
  const timeoutMinutes = ctx.inputs.integer('timeoutInMins', { min: 1, max: 10_080, fallback: 60 });
  noteDiagnosticInputs(ctx);

  ctx.progress(0, 'Obtaining AWS credentials');
  const credentials = await ctx.credentials();
  ctx.progress(10, `Deleting stack ${stackName}`);
  const summarize = (outcome: string, extra: { stackId?: string; error?: unknown } = {}) =>
    ctx.summary(
      `CloudFormation: ${stackName}`,
      stackSummaryMarkdown({ stackName, region: credentials.region, outcome, ...extra }),
    );
  try {
    const result = await deleteStack(
      {
        stackName,
        ...(retainResources.length ? { retainResources } : {}),
        ...(roleArn ? { roleArn } : {}),
        ...(timeoutMinutes ? { timeoutMinutes } : {}),
      },
      { credentials, env: ctx.env, reporter: ctx.reporter, cwd: ctx.cwd, signal: ctx.signal },
    );
    publishOutput('stackId', result.stackId ?? '');
    ctx.progress(100, 'Done');
    if (result.outcome === 'absent') {
      summarize('Nothing to delete (no such stack)');
      return {
        result: 'Succeeded',
        message: `Stack ${stackName} does not exist in ${credentials.region}; nothing to delete.`,
      };
    }
    summarize('Deleted', result.stackId ? { stackId: result.stackId } : {});
    return { result: 'Succeeded', message: `Stack ${stackName} deleted.` };
  } catch (error) {
    summarize('Failed', { error });
    throw error;
  }
});
