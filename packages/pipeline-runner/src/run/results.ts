/**
 * How results combine (agent TaskResultUtil + server rules): steps merge worst-wins into their job, jobs and
 * stages roll up into the run, and `continueOnError` softens a failure into "partially succeeded".
 */
import type { TaskResult } from '../model';

const rank: Record<TaskResult, number> = {
  Succeeded: 0,
  SucceededWithIssues: 1,
  Failed: 2,
  Canceled: 3,
  Skipped: 4,
  Abandoned: 5,
};

/**
 * The agent's MergeTaskResults: worse wins, and once Canceled/Skipped/Abandoned the result never changes.
 * `undefined` stands for "nothing merged yet".
 */
export function mergeResult(current: TaskResult | undefined, coming: TaskResult): TaskResult {
  if (current === undefined) return coming;
  if (rank[current] > rank.Failed) return current;
  return rank[coming] >= rank[current] ? coming : current;
}

/** `continueOnError: true` turns a failure into SucceededWithIssues; nothing else changes. */
export function applyContinueOnError(result: TaskResult, continueOnError: boolean): TaskResult {
  return continueOnError && result === 'Failed' ? 'SucceededWithIssues' : result;
}

/** What `succeeded()` accepts. */
export function isSuccessful(result: TaskResult): boolean {
  return result === 'Succeeded' || result === 'SucceededWithIssues';
}

/**
 * Rolls child results (steps of a job, jobs of a stage, stages of a run) into the parent's. Skipped children
 * do not count — a job whose optional steps were skipped still succeeded — unless every child was skipped.
 * Canceled beats Failed here: a run the user stopped is reported as stopped.
 */
export function rollUp(results: readonly TaskResult[]): TaskResult {
  const counted = results.filter((result) => result !== 'Skipped');
  if (counted.length === 0) return results.length === 0 ? 'Succeeded' : 'Skipped';
  let merged: TaskResult | undefined;
  for (const result of counted) merged = mergeResult(merged, result);
  return merged ?? 'Succeeded';
}

/**
 * The status `succeeded()`/`failed()` see for a job or stage: its dependencies' results merged. A skipped
 * or canceled dependency is sticky, so a default `succeeded()` condition is false after it.
 */
export function dependencyStatus(results: readonly TaskResult[], canceled: boolean): TaskResult {
  if (canceled) return 'Canceled';
  let merged: TaskResult | undefined;
  for (const result of results) merged = mergeResult(merged, result);
  return merged ?? 'Succeeded';
}

/** Exit code a front end should use for a run result: 0 for (partial) success, 1 otherwise. */
export function exitCodeFor(result: TaskResult): number {
  return isSuccessful(result) || result === 'Skipped' ? 0 : 1;
}
