/**
 * The run record (`<work>/<n>/run.json`): what ran, with which inputs, environment, commands, variables and
 * results — everything already masked. Contract tests assert on it.
 */
import { writeFile } from 'node:fs/promises';
import type { Masker } from '../logging/masker';
import type { TaskResult } from '../model';
import type { StepRecord } from './job-runtime';

export interface JobRecord {
  name: string;
  displayName: string;
  result: TaskResult;
  /** Why the job did not run, or what stopped it (condition false, timeout, variable error…). */
  message?: string;
  condition?: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs: number;
  /** The job's variables at its end: values masked, secrets `***`. */
  variables: Record<string, string>;
  /** Output variables, `step.var` → masked value. */
  outputs: Record<string, string>;
  steps: StepRecord[];
}

export interface StageRecord {
  name: string;
  displayName: string;
  result: TaskResult;
  message?: string;
  condition?: string;
  durationMs: number;
  jobs: JobRecord[];
}

export interface RunCounts {
  steps: number;
  failed: number;
  skipped: number;
  issues: { errors: number; warnings: number };
}

export interface RunRecord {
  runId: string;
  buildNumber: string;
  pipeline: string;
  result: TaskResult;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Branch, reason and commit the run was given, and whether its CI trigger would have fired. */
  source: {
    branch: string;
    version: string;
    reason: string;
    ciTrigger: { wouldRun: boolean; reason: string };
  };
  stages: StageRecord[];
  buildTags: string[];
  counts: RunCounts;
  recordFile: string;
  logFile: string;
}

export function countSteps(stages: readonly StageRecord[]): RunCounts {
  const counts: RunCounts = { steps: 0, failed: 0, skipped: 0, issues: { errors: 0, warnings: 0 } };
  // A job that failed before any step ran (a variable cycle, a bad dependency) printed its own error.
  for (const job of stages.flatMap((stage) => stage.jobs))
    if (job.steps.length === 0 && job.result === 'Failed' && job.message) counts.issues.errors++;
  for (const step of stages.flatMap((stage) => stage.jobs).flatMap((job) => job.steps)) {
    counts.steps++;
    if (step.result === 'Failed') counts.failed++;
    if (step.result === 'Skipped') counts.skipped++;
    for (const issue of step.issues) {
      if (issue.type === 'error') counts.issues.errors++;
      else counts.issues.warnings++;
    }
  }
  return counts;
}

/** The record with every string in it masked, object keys included (a deep copy). */
export function maskedRecord(masker: Masker, record: RunRecord): RunRecord {
  const mask = (value: unknown): unknown => {
    if (typeof value === 'string') return masker.mask(value);
    if (Array.isArray(value)) return value.map(mask);
    if (value === null || typeof value !== 'object') return value;
    // A variable named after a secret ("name-<secret>") is a key, not a value.
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [masker.mask(key), mask(entry)]));
  };
  return mask(JSON.parse(JSON.stringify(record))) as RunRecord;
}

export async function writeRunRecord(record: RunRecord): Promise<void> {
  await writeFile(record.recordFile, `${JSON.stringify(record, null, 2)}\n`);
}
