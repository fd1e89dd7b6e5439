/**
 * Runs one job as the agent does: prepares its folders and variables (predefined < root < stage < job <
 * queue-time, `$[ ]` values evaluated, then recursive expansion), then its steps in order — each after its
 * condition against Agent.JobStatus — with banners, continueOnError, timeouts and cancellation.
 */
import { randomUUID } from 'node:crypto';
import { isKeylessError } from '@keyless/core';
import { evaluateExpression } from '../expressions';
import { runTaskStep, type RunStepOptions } from '../steps/run-step';
import { expandVariableValues, VariableStore, type VariableValue } from '../variables';
import type { CheckoutStep, Job, JobOutcome, Stage, StageOutcome, Step, TaskResult } from '../model';
import type { RunContext } from './context';
import { conditionHolds, defaultCondition, expressionContext, runtimeExpression } from './conditions';
import { emptyTempDirectory, prepareJobDirectories } from './directories';
import { stepDisplayName } from './display-names';
import type { JobDirectories, JobRuntime, StepIssue, StepRecord } from './job-runtime';
import type { LogChannel } from './log';
import {
  predefinedVariables,
  runnerOwnedVariables,
  sourceBranchName,
  type JobFacts,
} from './predefined-variables';
import type { JobRecord } from './record';
import { applyContinueOnError, mergeResult } from './results';
import { formatDuration, labelled } from './summary';

export interface JobDependencies {
  /** Finished jobs of the same stage. */
  jobs: ReadonlyMap<string, JobOutcome>;
  /** Finished earlier stages. */
  stages: ReadonlyMap<string, StageOutcome>;
}

export interface JobRun {
  record: JobRecord;
  outcome: JobOutcome;
}

const ownedNames = new Set(Object.values(runnerOwnedVariables).map((name) => name.toLowerCase()));
/** setTimeout's ceiling; a job without a time limit passes this to its steps. */
const maxTimerMs = 2_147_483_647;
/** How long `always()` steps may run after the job's time is up (the agent's cancelTimeoutInMinutes). */
const cancelGraceMinutes = 5;

export function jobDisplayName(job: Job): string {
  return job.displayName?.trim() || job.name;
}

export async function runJob(
  run: RunContext,
  stage: Stage,
  job: Job,
  dependencies: JobDependencies,
  slot: number,
): Promise<JobRun> {
  const startedAt = new Date();
  const display = jobDisplayName(job);
  const agentName = run.agent.agentName ?? 'keyless-local';
  const channel = run.log.channel();
  channel.write(
    `##[section]Job ${labelled(`${stage.name}.${job.name}`, job.name, display)} (agent ${agentName}, slot ${slot + 1})`,
  );
  let directories: JobDirectories | undefined;
  try {
    directories = await prepareJobDirectories(run.directories, slot);
    const facts: JobFacts = {
      stageName: stage.name,
      stageDisplayName: stage.displayName?.trim() || stage.name,
      jobName: job.name,
      jobDisplayName: display,
      jobId: randomUUID(),
      directories,
    };
    let variables: VariableStore;
    try {
      variables = jobVariables(run, stage, job, facts, dependencies, (line) => channel.write(line));
    } catch (error) {
      // The server fails a job whose variables cannot be evaluated before any step runs.
      const message = errorText(error);
      channel.write(`##[error]${message}`);
      return finish(channel, startedAt, job, display, 'Failed', message, undefined, []);
    }
    for (const variable of variables.entries()) if (variable.secret) run.masker.add(variable.value);
    // A job that starts after the run was canceled (its condition allowed it, e.g. always()) is not
    // itself canceled: its steps run normally.
    const signal = run.signal.aborted ? new AbortController().signal : run.signal;
    const runtime = jobRuntime(run, stage, job, variables, directories, signal, (line) =>
      channel.write(line),
    );
    const executor = new StepExecutor(run, job, runtime, signal, startedAt.getTime());
    for (const step of job.steps) await executor.runStep(step);
    let result = executor.status;
    let message: string | undefined;
    if (signal.aborted) {
      result = mergeResult(result, 'Canceled');
      message = 'The run was canceled.';
    } else if (executor.timedOut) {
      result = mergeResult(result, 'Canceled');
      message = executor.timeoutMessage;
    }
    if (job.continueOnError && result === 'Failed') {
      result = 'SucceededWithIssues';
      message = 'The job failed; continueOnError makes it count as succeeded with issues.';
    }
    return finish(channel, startedAt, job, display, result, message, runtime, executor.records);
  } finally {
    // Generated scripts hold expanded secrets and token files hold tokens: nothing of the job outlives it.
    if (directories) await emptyTempDirectory(directories.temp);
    channel.close();
  }

  function finish(
    log: LogChannel,
    started: Date,
    finishedJob: Job,
    name: string,
    result: TaskResult,
    message: string | undefined,
    runtime: JobRuntime | undefined,
    steps: StepRecord[],
  ): JobRun {
    const finishedAt = new Date();
    const durationMs = finishedAt.getTime() - started.getTime();
    log.write(
      `##[section]Job ${stage.name}.${finishedJob.name} finished: ${result} (${formatDuration(durationMs)})`,
    );
    const outputs = runtime ? Object.fromEntries(runtime.outputs) : {};
    const record: JobRecord = {
      name: finishedJob.name,
      displayName: name,
      result,
      ...(message === undefined ? {} : { message: run.masker.mask(message) }),
      ...(finishedJob.condition === undefined ? {} : { condition: finishedJob.condition }),
      startedAt: started.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs,
      variables: runtime ? recordedVariables(runtime.variables, run) : {},
      outputs: Object.fromEntries(
        Object.entries(outputs).map(([key, value]) => [key, run.masker.mask(value)]),
      ),
      steps,
    };
    // Dependents get the real values (a secret output must still work downstream); the log masks them.
    return { record, outcome: { result, outputs } };
  }
}

/** Job variables: predefined < root < stage < job < queue-time, `$[ ]` evaluated, `$(x)` expanded. */
function jobVariables(
  run: RunContext,
  stage: Stage,
  job: Job,
  facts: JobFacts,
  dependencies: JobDependencies,
  write: (line: string) => void,
): VariableStore {
  const merged = new Map<string, VariableValue>();
  const predefined = new Set<string>();
  for (const value of predefinedVariables(run.facts, facts)) {
    merged.set(value.name.toLowerCase(), { ...value });
    if (value.readonly || ownedNames.has(value.name.toLowerCase())) predefined.add(value.name.toLowerCase());
  }
  const declare = (name: string, value: string, readonly: boolean, source: string) => {
    const key = name.toLowerCase();
    if (predefined.has(key)) {
      write(
        `##[warning]${source} sets the system variable ${name}, which is read-only; the value is ignored.`,
      );
      return;
    }
    const existing = merged.get(key);
    merged.set(key, { name: existing?.name ?? name, value, secret: existing?.secret ?? false, readonly });
  };
  for (const declaration of [...run.pipeline.variables, ...stage.variables, ...job.variables]) {
    declare(declaration.name, declaration.value, declaration.readonly ?? false, 'The pipeline');
  }
  for (const [name, value] of Object.entries(run.overrides)) declare(name, value, false, `--var ${name}`);

  const context = expressionContext({
    variable: (name) => merged.get(name.toLowerCase())?.value,
    canceled: () => run.signal.aborted,
    dependencies: visible(dependencies.jobs, job.dependsOn),
    stageDependencies: visible(dependencies.stages, stage.dependsOn),
  });
  for (const variable of merged.values()) {
    const expression = runtimeExpression(variable.value);
    if (expression !== undefined) variable.value = evaluateExpression(expression, context);
  }
  const store = new VariableStore(merged.values());
  expandVariableValues(store);
  return store;
}

function visible<T>(finished: ReadonlyMap<string, T>, names: readonly string[]): Map<string, T> {
  const wanted = new Set(names.map((name) => name.toLowerCase()));
  return new Map([...finished].filter(([name]) => wanted.has(name.toLowerCase())));
}

function jobRuntime(
  run: RunContext,
  stage: Stage,
  job: Job,
  variables: VariableStore,
  directories: JobDirectories,
  signal: AbortSignal,
  write: (line: string) => void,
): JobRuntime {
  const runtime: JobRuntime = {
    stageName: stage.name,
    jobName: job.name,
    variables,
    outputs: new Map(),
    masker: run.masker,
    pathPrepends: [],
    directories,
    agent: run.agent,
    agentEnv: run.agentEnv,
    catalog: run.catalog,
    write,
    signal,
    buildTags: run.buildTags,
    setBuildNumber: (value) => {
      try {
        run.setBuildNumber(value);
      } catch (error) {
        write(`##[warning]${errorText(error)}`);
        return;
      }
      setRunnerVariable(runtime.variables, runnerOwnedVariables.buildNumber, run.facts.buildNumber);
    },
  };
  return runtime;
}

/** Runs a job's steps one after another, keeping Agent.JobStatus and the job's clock. */
class StepExecutor {
  status: TaskResult = 'Succeeded';
  timedOut = false;
  timeoutMessage: string | undefined;
  readonly records: StepRecord[] = [];
  private readonly deadline: number;

  constructor(
    private readonly context: RunContext,
    private readonly job: Job,
    private readonly runtime: JobRuntime,
    private readonly signal: AbortSignal,
    startedAt: number,
  ) {
    this.deadline = job.timeoutInMinutes > 0 ? startedAt + job.timeoutInMinutes * context.minuteMs : Infinity;
  }

  private canceled(): boolean {
    return this.signal.aborted || this.timedOut;
  }

  async runStep(step: Step): Promise<void> {
    this.checkDeadline();
    const record = await this.execute(step);
    // A step the job's deadline cut short: the job has timed out (said once, before what follows).
    this.checkDeadline();
    this.records.push(record);
    if (record.result !== 'Skipped') {
      this.status = mergeResult(this.status, record.result);
      setRunnerVariable(this.runtime.variables, runnerOwnedVariables.jobStatus, this.status);
    }
  }

  private checkDeadline(): void {
    if (this.timedOut || Date.now() < this.deadline) return;
    this.timedOut = true;
    const agentName = this.context.agent.agentName ?? 'keyless-local';
    this.timeoutMessage =
      `The job running on agent ${agentName} ran longer than the maximum time of ` +
      `${this.job.timeoutInMinutes} minutes.`;
    this.runtime.write(`##[error]${this.timeoutMessage}`);
  }

  private async execute(step: Step): Promise<StepRecord> {
    const write = this.runtime.write;
    const variable = (name: string) => this.runtime.variables.get(name)?.value;
    const facts = this.context.facts;
    const display = stepDisplayName(
      step,
      this.context.catalog,
      variable,
      `${facts.repositoryName}@${sourceBranchName(facts.sourceBranch)}`,
    );
    if (!step.enabled) return skipped(step, display, 'The step is disabled (enabled: false).');

    const condition = step.condition?.trim() || defaultCondition;
    let holds: boolean;
    try {
      holds = conditionHolds(
        condition,
        expressionContext({
          variable,
          canceled: () => this.canceled(),
          // The agent sets the job status to Canceled when the job is canceled or times out.
          status: () => (this.canceled() ? mergeResult(this.status, 'Canceled') : this.status),
        }),
      );
    } catch (error) {
      const message = `Evaluating the condition of step "${display}" failed: ${errorText(error)}`;
      write(`##[error]${message}`);
      return synthetic(step, display, 'Failed', message, [{ type: 'error', message }]);
    }
    if (!holds) {
      write(`Skipping step "${display}": its condition ${condition} is false.`);
      return skipped(step, display, `Condition ${condition} is false.`);
    }

    write(`##[section]Starting: ${display}`);
    let record: StepRecord;
    if (step.kind === 'checkout') {
      record = checkout(step, display, facts.directories.sources, write);
    } else {
      try {
        // After a cancellation the agent runs always() steps on their own clock, not the canceled one.
        const afterCancel = this.canceled();
        this.runtime.signal = afterCancel ? new AbortController().signal : this.signal;
        record = await runTaskStep(step, this.runtime, this.timeoutFor(step.timeoutInMinutes, afterCancel));
      } catch (error) {
        // A task that cannot even start (unknown task, unknown service connection) fails its step.
        const message = errorText(error);
        write(`##[error]${message}`);
        record = synthetic(step, display, 'Failed', message, [
          { type: 'error', message: this.context.masker.mask(message) },
        ]);
      }
    }
    record.displayName = display;
    const result = applyContinueOnError(record.result, step.continueOnError);
    if (result !== record.result) {
      record.message = [record.message, 'continueOnError: the failure counts as succeeded with issues.']
        .filter(Boolean)
        .join(' ');
      record.result = result;
    }
    write(`Step result: ${record.result} (${formatDuration(record.durationMs)})`);
    write(`##[section]Finishing: ${display}`);
    return record;
  }

  /** The step's own timeout, or the job's remaining time when that ends first (which cancels the step). */
  private timeoutFor(stepMinutes: number | undefined, afterCancel: boolean): RunStepOptions {
    const remaining = afterCancel ? cancelGraceMinutes * this.context.minuteMs : this.deadline - Date.now();
    const own = stepMinutes && stepMinutes > 0 ? stepMinutes * this.context.minuteMs : Infinity;
    const timeoutMs = Math.max(1, Math.min(own, remaining, maxTimerMs));
    if (own <= remaining && stepMinutes)
      return { timeoutMs, timeoutSource: { kind: 'step', minutes: stepMinutes } };
    return !afterCancel && remaining < Infinity
      ? { timeoutMs, timeoutSource: { kind: 'job' } }
      : { timeoutMs };
  }
}

function checkout(
  step: CheckoutStep,
  display: string,
  sources: string,
  write: (line: string) => void,
): StepRecord {
  const now = new Date().toISOString();
  const none = step.repository.toLowerCase() === 'none';
  const message = none
    ? 'checkout: none — no repository is checked out.'
    : `Sources are used in place at ${sources} (the local runner does not clone).`;
  write(message);
  return {
    ...emptyRecord(step.name, display, 'checkout'),
    result: 'Succeeded',
    message,
    startedAt: now,
    finishedAt: now,
    durationMs: 0,
  };
}

function skipped(step: Step, display: string, message: string): StepRecord {
  return synthetic(step, display, 'Skipped', message, []);
}

function synthetic(
  step: Step,
  display: string,
  result: TaskResult,
  message: string,
  issues: StepIssue[],
): StepRecord {
  const now = new Date().toISOString();
  return {
    ...emptyRecord(step.name, display, step.kind),
    result,
    message,
    issues,
    startedAt: now,
    finishedAt: now,
    durationMs: 0,
  };
}

function emptyRecord(
  name: string,
  displayName: string,
  kind: StepRecord['kind'],
): Omit<StepRecord, 'result' | 'startedAt' | 'finishedAt' | 'durationMs'> {
  return {
    name,
    displayName,
    kind,
    inputs: {},
    environment: {},
    commands: [],
    variables: [],
    outputs: {},
    issues: [],
    files: [],
  };
}

/** The job's variables for the record: secrets as `***`, everything else masked. */
function recordedVariables(variables: VariableStore, run: RunContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const variable of variables.entries()) {
    out[variable.name] = variable.secret ? '***' : run.masker.mask(variable.value);
  }
  return out;
}

function setRunnerVariable(store: VariableStore, name: string, value: string): void {
  store.set(name, value);
}

function errorText(error: unknown): string {
  if (isKeylessError(error)) return error.toUserText();
  return error instanceof Error ? error.message : String(error);
}
