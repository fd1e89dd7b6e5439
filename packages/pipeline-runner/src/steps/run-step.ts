/**
 * Runs one task step the way the agent does (§2): resolve the task, build its inputs and environment, run
 * the process, act on its logging commands, and decide its result. Conditions, continueOnError and the
 * Starting/Finishing banners belong to the job runner.
 */
import { isKeylessError } from '@keyless/core';
import { mergeResult } from '../run/results';
import type { TaskResult, TaskStep } from '../model';
import type { JobRuntime, StepRecord } from '../run/job-runtime';
import type { TaskCatalog, TaskDefinition } from '../tasks/catalog';
import { buildInputs } from '../tasks/inputs';
import {
  buildScriptEnvironment,
  buildTaskEnvironment,
  redactEnvironment,
  registerStepSecrets,
} from '../tasks/environment';
import { expandMacros } from '../variables';
import { nativeTaskFor, runNativeScript } from './native-scripts';
import { exitCodeMessage, selectNodeHandler } from './node-task';
import { runProcess } from './process';
import type { ProcessOutcome } from './process';
import { StepOutput } from './process-output';

export interface RunStepOptions {
  timeoutMs: number;
  /**
   * What the timeout is: the step's own `timeoutInMinutes` (the minutes as written, for the message), or the
   * rest of the job's time, which cancels the step rather than failing it, as the agent does.
   */
  timeoutSource?: { kind: 'step'; minutes: number } | { kind: 'job' };
  /** Grace periods before SIGKILL (agent: 5 s after a timeout, 10 s after a cancellation). */
  timeoutGraceMs?: number;
  cancelGraceMs?: number;
}

export interface ResolvedTask {
  definition: TaskDefinition;
  /** Bash@3 and CmdLine@2 run natively; everything else is a Node task from the catalog. */
  native: boolean;
}

/** The task a step references; throws the catalog's KeylessErrors (the server would reject the pipeline). */
export function resolveTask(reference: string, catalog: TaskCatalog): ResolvedTask {
  const native = nativeTaskFor(reference);
  return native
    ? { definition: native, native: true }
    : { definition: catalog.resolve(reference), native: false };
}

export async function runTaskStep(
  step: TaskStep,
  job: JobRuntime,
  options: RunStepOptions,
): Promise<StepRecord> {
  const started = new Date();
  const lookup = (name: string) => job.variables.get(name)?.value;
  const sourcesDirectory = lookup('Build.SourcesDirectory') || job.directories.sources;
  const defaultWorkingDirectory =
    lookup('System.DefaultWorkingDirectory') || sourcesDirectory || job.directories.work;

  const record: StepRecord = {
    name: step.name,
    displayName: job.masker.mask(step.displayName ?? step.task),
    kind: 'task',
    inputs: {},
    environment: {},
    commands: [],
    variables: [],
    outputs: {},
    issues: [],
    files: [],
    result: 'Succeeded',
    startedAt: started.toISOString(),
    finishedAt: '',
    durationMs: 0,
  };
  const finish = (result: TaskResult, output: StepOutput, message?: string): StepRecord => {
    const finished = new Date();
    Object.assign(record, output.record, {
      result,
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
    });
    if (message) record.message = job.masker.mask(message);
    return record;
  };

  let cwd = defaultWorkingDirectory;
  const doneController = new AbortController();
  let definition: TaskDefinition;
  let native: boolean;
  const earlyOutput = () =>
    new StepOutput({
      job,
      stepName: step.name,
      outputVariables: [],
      cwd,
      onDone: () => doneController.abort(),
    });
  try {
    ({ definition, native } = resolveTask(step.task, job.catalog));
  } catch (error) {
    return failBeforeStart(error, earlyOutput(), finish);
  }

  const output = new StepOutput({
    job,
    stepName: step.name,
    outputVariables: definition.outputVariables.map((v) => v.name),
    get cwd() {
      return cwd;
    },
    onDone: () => doneController.abort(),
  });
  const version = `${definition.version.Major}.${definition.version.Minor}.${definition.version.Patch}`;
  record.task = { name: definition.name, id: definition.id, version, handler: 'native' };

  let built;
  try {
    built = buildInputs(definition, step.inputs, {
      variable: lookup,
      agentEnv: job.agentEnv,
      sourcesDirectory,
      serviceConnections: job.agent.serviceConnections,
    });
  } catch (error) {
    return failBeforeStart(error, output, finish);
  }
  const variables = job.variables.entries();
  registerStepSecrets(job.masker, variables, built.endpoints, job.agent.accessToken);
  record.inputs = Object.fromEntries(Object.entries(built.inputs).map(([k, v]) => [k, job.masker.mask(v)]));
  if (step.displayName === undefined && definition.instanceNameFormat) {
    record.displayName = job.masker.mask(
      expandMacros(definition.instanceNameFormat, (name) => step.inputs[name]),
    );
  }
  for (const warning of built.warnings) output.issue({ type: 'warning', message: warning });

  const environmentContext = {
    agentEnv: job.agentEnv,
    stepEnv: step.env,
    variables,
    inputs: built.inputs,
    endpoints: built.endpoints,
    collectionUri: job.agent.collectionUri,
    accessToken: job.agent.accessToken,
    pathPrepends: [...job.pathPrepends],
  };
  const graces = {
    ...(options.timeoutGraceMs !== undefined ? { timeoutGraceMs: options.timeoutGraceMs } : {}),
    ...(options.cancelGraceMs !== undefined ? { cancelGraceMs: options.cancelGraceMs } : {}),
  };

  let outcome: ProcessOutcome | undefined;
  let reason: string | undefined;
  if (native) {
    const environment = buildScriptEnvironment(environmentContext);
    record.environment = redactEnvironment(environment, job.masker);
    cwd = built.inputs['workingDirectory'] || sourcesDirectory;
    const result = await runNativeScript(definition, {
      inputs: built.inputs,
      env: environment.env,
      output,
      tempDirectory: lookup('Agent.TempDirectory') || job.directories.temp,
      sourcesDirectory,
      timeoutMs: options.timeoutMs,
      signal: job.signal,
      done: doneController.signal,
      ...graces,
    });
    outcome = result.process;
    reason = result.message;
  } else {
    const handler = selectNodeHandler(definition);
    if (!handler) {
      output.issue({
        type: 'error',
        message: `Task ${definition.name}@${definition.version.Major} has no Node handler (execution: ${Object.keys(definition.execution).join(', ') || 'none'}); the local runner runs Node tasks only.`,
      });
      return finish('Failed', output, 'The task has no Node execution handler.');
    }
    record.task.handler = handler.handler;
    if (handler.deprecated) {
      output.issue({
        type: 'warning',
        message: `Task ${definition.name}@${definition.version.Major} uses the end-of-life ${handler.handler} handler; it runs on the local Node ${process.version}.`,
      });
    }
    const environment = buildTaskEnvironment(environmentContext);
    record.environment = redactEnvironment(environment, job.masker);
    cwd = handler.workingDirectory ?? defaultWorkingDirectory;
    outcome = await runProcess(process.execPath, [handler.target], {
      cwd,
      env: environment.env,
      output,
      timeoutMs: options.timeoutMs,
      signal: job.signal,
      done: doneController.signal,
      ...graces,
    });
    if (outcome.startError) {
      reason = `The task process could not be started in ${cwd}: ${outcome.startError}`;
      output.issue({ type: 'error', message: reason });
      output.complete('Failed');
    } else if (!outcome.forcedDone && !outcome.timedOut && !outcome.canceled && outcome.exitCode !== 0) {
      // A non-zero exit is an infrastructure failure, whatever task.complete said.
      reason = exitCodeMessage(outcome.exitCode ?? 1, process.execPath, [handler.target]);
      if (outcome.exitCode === undefined) reason += ` The process was ended by ${outcome.exitSignal}.`;
      output.issue({ type: 'error', message: reason });
    }
  }

  if (outcome?.exitCode !== undefined) record.exitCode = outcome.exitCode;
  if (outcome?.canceled) {
    output.issue({ type: 'error', message: 'The operation was canceled.' });
    return finish('Canceled', output, 'The operation was canceled.');
  }
  if (outcome?.timedOut && options.timeoutSource?.kind === 'job') {
    const message = "The job's time ran out while this step was running, so it was canceled.";
    output.issue({ type: 'error', message });
    return finish('Canceled', output, message);
  }
  if (outcome?.timedOut) {
    const minutes =
      options.timeoutSource?.kind === 'step'
        ? options.timeoutSource.minutes
        : Number((options.timeoutMs / 60_000).toFixed(2));
    const message = `The step exceeded its timeout of ${minutes} minutes.`;
    output.issue({ type: 'error', message });
    return finish('Failed', output, message);
  }
  const exitFailed = reason !== undefined && !native;
  const result = mergeResult(exitFailed ? 'Failed' : undefined, output.commandResult ?? 'Succeeded');
  return finish(result, output, output.completeMessage ?? reason);
}

function failBeforeStart(
  error: unknown,
  output: StepOutput,
  finish: (result: TaskResult, output: StepOutput, message?: string) => StepRecord,
): StepRecord {
  if (!isKeylessError(error)) throw error;
  // Cause, then the fix on its own line, as the CLI and the job-level errors print them.
  output.issue({ type: 'error', message: error.toUserText() });
  return finish('Failed', output, error.message);
}
