import { isKeylessError, KeylessError } from '@keyless/core';
import type { Pipeline } from '../model';
import { resolveTask } from '../steps/run-step';
import type { TaskCatalog } from '../tasks/catalog';

/** A step names a task that is not installed; the run was refused before any job started. */
export class MissingTaskError extends KeylessError {
  readonly code = 'MissingTask';
}

/**
 * Azure DevOps refuses a run whose steps name a task it cannot find ("A task is missing") before any job
 * starts; so does the runner, or a misspelled task in a late job would fail only after earlier jobs had
 * deployed.
 */
export function checkTaskReferences(pipeline: Pipeline, catalog: TaskCatalog, file: string): void {
  for (const stage of pipeline.stages)
    for (const job of stage.jobs)
      for (const step of job.steps) {
        if (step.kind !== 'task') continue;
        try {
          resolveTask(step.task, catalog);
        } catch (error) {
          if (!isKeylessError(error)) throw error;
          throw new MissingTaskError(`${file}: ${step.path}: ${error.message}`, error.fix, { cause: error });
        }
      }
}
