import {
  isKeylessError,
  resolveCredentials,
  type CredentialOptions,
  type ResolvedCredentials,
} from '@keyless/core';
import { credentialOptionsForTask } from './credentials';
import { TaskInputs } from './inputs';
import { TaskReporter } from './reporter';
import { uploadSummary } from './summary';
import { tl } from './task-lib';

export interface TaskContext {
  /** The task's name, for messages (`CloudFormationCreateOrUpdateStack`). */
  readonly name: string;
  readonly inputs: TaskInputs;
  readonly reporter: TaskReporter;
  /** The process environment after task-lib took inputs and secrets out of it (safe to hand to children). */
  readonly env: NodeJS.ProcessEnv;
  /** System.DefaultWorkingDirectory (the agent's cwd for the task), against which relative paths resolve. */
  readonly cwd: string;
  /** Aborted when the agent cancels the job (it sends SIGINT, then SIGTERM). */
  readonly signal: AbortSignal;
  /** Credentials from the task's `awsCredentials` connection or the AWS.* variables; resolved once, on first use. */
  credentials(): Promise<ResolvedCredentials>;
  progress(percent: number, operation: string): void;
  summary(title: string, markdown: string): void;
}

export interface TaskOutcome {
  result: 'Succeeded' | 'SucceededWithIssues';
  message: string;
}

export interface RunTaskOptions {
  /** How `credentials()` builds its options; default credentialOptionsForTask (connection, else AWS.* variables). */
  credentialOptions?: (inputs: TaskInputs, taskName: string) => CredentialOptions;
}

/**
 * Runs a task body and reports its end exactly once with `task.complete`: success, success with issues, or a
 * failure whose message names the cause and the fix (never a stack trace; that goes to the debug log). The
 * process exits 0 either way — a non-zero exit would make the agent discard the message and call it an
 * infrastructure failure.
 */
export async function runTask(
  name: string,
  body: (context: TaskContext) => Promise<TaskOutcome>,
  options: RunTaskOptions = {},
): Promise<void> {
  const reporter = new TaskReporter();
  const controller = new AbortController();
  const cancel = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) return;
    reporter.warn(`${name}: the job was cancelled (${signal}).`);
    controller.abort(new Error(`cancelled by ${signal}`));
  };
  process.on('SIGINT', cancel);
  process.on('SIGTERM', cancel);

  let resolved: Promise<ResolvedCredentials> | undefined;
  const inputs = new TaskInputs(name);
  const cwd = tl.getVariable('System.DefaultWorkingDirectory') || process.cwd();
  const context: TaskContext = {
    name,
    inputs,
    reporter,
    env: process.env,
    cwd,
    signal: controller.signal,
    credentials: () =>
      (resolved ??= resolveTaskCredentials(
        (options.credentialOptions ?? credentialOptionsForTask)(inputs, name),
        reporter,
        cwd,
      )),
    progress: (percent, operation) => reporter.progress(percent, operation),
    summary: (title, markdown) => uploadSummary(title, markdown, (text) => reporter.secrets.mask(text)),
  };

  let completed = false;
  const complete = (result: 'Succeeded' | 'SucceededWithIssues' | 'Failed', message: string) => {
    if (completed) return;
    completed = true;
    // task.complete directly rather than tl.setResult: setResult also logs the message as an issue, and our
    // failures already logged theirs (cause, then fix) in that order.
    tl.command('task.complete', { result }, reporter.secrets.mask(message));
  };
  try {
    const outcome = await body(context);
    if (outcome.result === 'SucceededWithIssues') reporter.warn(outcome.message);
    complete(outcome.result, outcome.message);
  } catch (error) {
    complete('Failed', describeFailure(name, error, reporter));
  } finally {
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
    process.exitCode = 0;
  }
}

async function resolveTaskCredentials(
  options: CredentialOptions,
  reporter: TaskReporter,
  cwd: string,
): Promise<ResolvedCredentials> {
  // Announce every credential we were handed before anything can print it.
  for (const secret of [
    options.accessKeyId,
    options.secretAccessKey,
    options.sessionToken,
    options.systemAccessToken,
    options.pipelineVariables?.['AWS.AccessKeyID'],
    options.pipelineVariables?.['AWS.SecretAccessKey'],
    options.pipelineVariables?.['AWS.SessionToken'],
  ])
    reporter.registerSecret(secret);
  const credentials = await resolveCredentials(options, { env: process.env, reporter, cwd });
  return credentials;
}

/** Logs the failure as an error issue (cause, then fix) and returns the one-line task.complete message. */
function describeFailure(name: string, error: unknown, reporter: TaskReporter): string {
  if (isKeylessError(error)) {
    reporter.error(error.message);
    if (error.fix) reporter.error(`Fix: ${error.fix}`);
    return error.message;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && error.stack) reporter.debug(error.stack);
  reporter.error(`${name} failed unexpectedly: ${message}`);
  reporter.error('Fix: this is a Keyless bug; re-run with System.Debug=true and report the debug log.');
  return `${name} failed unexpectedly: ${message}`;
}
