/**
 * Runs one stage: its condition first (default `succeeded()` over the stages it depends on), then its jobs
 * in dependency order — jobs without dependsOn start together, bounded by the run's job slots — each after
 * its own condition (default `succeeded()` over its dependencies).
 */
import { isKeylessError } from '@keyless/core';
import type { Job, JobOutcome, Stage, StageOutcome, TaskResult, VariableDeclaration } from '../model';
import type { RunContext } from './context';
import {
  conditionHolds,
  defaultCondition,
  expressionContext,
  stageAsDependency,
  type Dependency,
} from './conditions';
import { tempDirectoryFor } from './directories';
import { jobDisplayName, runJob, type JobRun } from './job';
import { predefinedVariables } from './predefined-variables';
import type { JobRecord, StageRecord } from './record';
import { rollUp } from './results';
import { runGraph } from './schedule';
import { formatDuration, labelled } from './summary';

export interface StageRun {
  record: StageRecord;
  outcome: StageOutcome;
}

export function stageDisplayName(stage: Stage): string {
  return stage.displayName?.trim() || stage.name;
}

export async function runStage(
  run: RunContext,
  stage: Stage,
  finishedStages: ReadonlyMap<string, StageOutcome>,
): Promise<StageRun> {
  const started = Date.now();
  const display = stageDisplayName(stage);
  const stages = visibleStages(finishedStages, stage.dependsOn);
  const variable = variableLookup(run, stage, [...run.pipeline.variables]);
  const verdict = evaluate(stage.condition, {
    variable,
    canceled: () => run.signal.aborted,
    dependencies: new Map([...stages].map(([name, outcome]) => [name, stageAsDependency(outcome)])),
  });
  if (verdict !== true) {
    const result = notRunResult(run, verdict);
    const message =
      verdict === false ? `Condition ${conditionText(stage.condition)} is false.` : verdict.error;
    run.log.write(`##[section]Stage ${labelled(stage.name, stage.name, display)}: ${result}. ${message}`);
    return {
      record: {
        name: stage.name,
        displayName: display,
        result,
        message,
        ...conditionField(stage),
        durationMs: 0,
        jobs: [],
      },
      outcome: { result, jobs: {} },
    };
  }

  run.log.write(`##[section]Stage ${labelled(stage.name, stage.name, display)}`);
  const stageVariable = variableLookup(run, stage, [...run.pipeline.variables, ...stage.variables]);
  const finishedJobs = await runGraph<JobRun>(stage.jobs, async (node, finished) => {
    const job = stage.jobs.find((candidate) => candidate.name === node.name)!;
    const outcomes = new Map([...finished].map(([name, jobRun]) => [name, jobRun.outcome]));
    return runJobWhenDue(run, stage, job, outcomes, stages, stageVariable);
  });
  const jobs = stage.jobs.map((job) => finishedJobs.get(job.name)!);
  const result = rollUp(jobs.map((job) => job.outcome.result));
  const durationMs = Date.now() - started;
  run.log.write(`##[section]Stage ${stage.name} finished: ${result} (${formatDuration(durationMs)})`);
  return {
    record: {
      name: stage.name,
      displayName: display,
      result,
      ...conditionField(stage),
      durationMs,
      jobs: jobs.map((job) => job.record),
    },
    outcome: {
      result,
      jobs: Object.fromEntries(jobs.map((job, index) => [stage.jobs[index]!.name, job.outcome])),
    },
  };
}

async function runJobWhenDue(
  run: RunContext,
  stage: Stage,
  job: Job,
  finishedJobs: ReadonlyMap<string, JobOutcome>,
  stages: ReadonlyMap<string, StageOutcome>,
  variable: (name: string) => string | undefined,
): Promise<JobRun> {
  const scope = {
    variable,
    canceled: () => run.signal.aborted,
    dependencies: visibleJobs(finishedJobs, job.dependsOn),
    stageDependencies: stages,
  };
  let verdict = evaluate(job.condition, scope);
  if (verdict !== true) return notRun(run, stage, job, verdict);
  const slot = await run.slots.acquire();
  try {
    // The run may have been canceled while the job waited for a free agent.
    if (run.signal.aborted) verdict = evaluate(job.condition, scope);
    if (verdict !== true) return notRun(run, stage, job, verdict);
    return await runJob(run, stage, job, { jobs: finishedJobs, stages }, slot);
  } finally {
    run.slots.release(slot);
  }
}

type Verdict = boolean | { error: string };

function evaluate(condition: string | undefined, scope: Parameters<typeof expressionContext>[0]): Verdict {
  try {
    return conditionHolds(condition, expressionContext(scope));
  } catch (error) {
    const text = isKeylessError(error)
      ? error.toUserText()
      : error instanceof Error
        ? error.message
        : String(error);
    return { error: `Evaluating the condition ${conditionText(condition)} failed: ${text}` };
  }
}

/** A job or stage that does not run: Canceled when the run was canceled, Failed on a bad condition. */
function notRunResult(run: RunContext, verdict: false | { error: string }): TaskResult {
  if (verdict !== false) return 'Failed';
  return run.signal.aborted ? 'Canceled' : 'Skipped';
}

function notRun(run: RunContext, stage: Stage, job: Job, verdict: false | { error: string }): JobRun {
  const result = notRunResult(run, verdict);
  const message = verdict === false ? `Condition ${conditionText(job.condition)} is false.` : verdict.error;
  run.log.write(
    `${verdict === false ? '' : '##[error]'}Job ${labelled(`${stage.name}.${job.name}`, job.name, jobDisplayName(job))}: ${result}. ${message}`,
  );
  const now = new Date().toISOString();
  const record: JobRecord = {
    name: job.name,
    displayName: jobDisplayName(job),
    result,
    message,
    ...(job.condition === undefined ? {} : { condition: job.condition }),
    startedAt: now,
    finishedAt: now,
    durationMs: 0,
    variables: {},
    outputs: {},
    steps: [],
  };
  return { record, outcome: { result, outputs: {} } };
}

function conditionText(condition: string | undefined): string {
  return condition?.trim() || defaultCondition;
}

function conditionField(stage: Stage): { condition?: string } {
  return stage.condition === undefined ? {} : { condition: stage.condition };
}

function visibleStages(
  finished: ReadonlyMap<string, StageOutcome>,
  names: readonly string[],
): Map<string, StageOutcome> {
  const wanted = new Set(names.map((name) => name.toLowerCase()));
  return new Map([...finished].filter(([name]) => wanted.has(name.toLowerCase())));
}

function visibleJobs(
  finished: ReadonlyMap<string, JobOutcome>,
  names: readonly string[],
): Map<string, Dependency> {
  const wanted = new Set(names.map((name) => name.toLowerCase()));
  return new Map([...finished].filter(([name]) => wanted.has(name.toLowerCase())));
}

/**
 * Variables a stage or job condition can see: the run's predefined values, YAML variables of the
 * enclosing scopes and queue-time overrides (not yet `$( )`-expanded, as on the server).
 */
function variableLookup(
  run: RunContext,
  stage: Stage,
  declarations: VariableDeclaration[],
): (name: string) => string | undefined {
  const values = new Map<string, string>();
  const predefined = predefinedVariables(run.facts, {
    stageName: stage.name,
    stageDisplayName: stageDisplayName(stage),
    jobName: '',
    jobDisplayName: '',
    jobId: '',
    directories: {
      work: run.directories.work,
      build: run.directories.build,
      sources: run.directories.sources,
      temp: tempDirectoryFor(run.directories.work, 0),
      staging: run.directories.staging,
      binaries: run.directories.binaries,
      files: run.directories.files,
    },
  });
  const readonly = new Set(
    predefined.filter((value) => value.name !== 'System.Debug').map((value) => value.name.toLowerCase()),
  );
  const set = (name: string, value: string) => {
    if (!readonly.has(name.toLowerCase())) values.set(name.toLowerCase(), value);
  };
  for (const value of predefined) values.set(value.name.toLowerCase(), value.value);
  for (const declaration of declarations) set(declaration.name, declaration.value);
  for (const [name, value] of Object.entries(run.overrides)) set(name, value);
  return (name) => values.get(name.toLowerCase());
}
