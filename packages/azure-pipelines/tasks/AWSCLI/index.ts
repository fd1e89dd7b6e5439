// AWSCLI@1: the AWS Toolkit's inputs (same names, defaults and meaning): `aws <command> <subcommand> <args>`
// with the task's credentials in the CLI's environment only.
import { ExecutableNotFoundError, findExecutable, splitArguments } from '@keyless/core';
import { forwardChildLine, runChildWithTaskCredentials, runTask, type TaskInputs } from '../../src';

const taskName = 'AWSCLI';

interface Settings {
  args: string[];
  failOnStandardError: boolean;
  useTokenFile: boolean;
}

function readSettings(inputs: TaskInputs): Settings {
  // "s3 ls" typed into awsCommand would reach the CLI as one word and fail obscurely; words are words.
  const command = splitArguments(inputs.required('awsCommand'), `${taskName}: the input "awsCommand"`);
  const subCommand = splitArguments(
    inputs.optional('awsSubCommand') ?? '',
    `${taskName}: the input "awsSubCommand"`,
  );
  const args = splitArguments(inputs.optional('awsArguments') ?? '', `${taskName}: the input "awsArguments"`);
  return {
    args: [...command, ...subCommand, ...args],
    failOnStandardError: inputs.boolean('failOnStandardError', false),
    useTokenFile: inputs.boolean('useTokenFile', false),
  };
}

void runTask(taskName, async (ctx) => {
  const settings = readSettings(ctx.inputs);
  const aws = findExecutable('aws', ctx.env);
  if (!aws) {
    throw new ExecutableNotFoundError(
      `${taskName}: the AWS CLI (aws) is not installed on this agent (not found on PATH).`,
      'Install the AWS CLI on the agent: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html (or add its folder to PATH in an earlier step).',
    );
  }
  const label = `aws ${settings.args.slice(0, 2).join(' ')}`;
  const result = await runChildWithTaskCredentials(ctx, {
    command: aws,
    args: settings.args,
    cwd: ctx.cwd,
    label,
    useTokenFile: settings.useTokenFile,
    failOnStandardError: settings.failOnStandardError,
    onLine: (line) => forwardChildLine(ctx, line),
  });
  if (result.failure) throw result.failure;
  return { result: 'Succeeded', message: `${label} exited with code 0.` };
});
