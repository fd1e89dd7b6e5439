import { SecretRegistry, type Reporter } from '@keyless/core';
import { tl } from './task-lib';

/**
 * The engine's Reporter for Azure Pipelines: information goes to the log, warnings and errors become
 * `task.logissue` (so they are counted and shown in the run summary), and every secret the engine meets is
 * announced with `task.setsecret` the moment it is registered — before anything could print it. Messages are
 * masked here too, so a secret is never written even where the agent's masker would have caught it.
 */
export class TaskReporter implements Reporter {
  readonly secrets = new SecretRegistry();
  private readonly write: (text: string) => void;

  constructor(options: { write?: (text: string) => void } = {}) {
    this.write = options.write ?? ((text) => process.stdout.write(text));
    this.secrets.onAdd((value) => {
      // task.setsecret takes one line; register each line of a multi-line value (a PEM key, say) separately.
      for (const line of value.split(/\r?\n/)) if (line.trim() !== '') tl.setSecret(line);
    });
  }

  info(message: string): void {
    this.write(`${this.secrets.mask(message)}\n`);
  }
  warn(message: string): void {
    tl.warning(this.secrets.mask(message));
  }
  error(message: string): void {
    tl.error(this.secrets.mask(message));
  }
  debug(message: string): void {
    tl.debug(this.secrets.mask(message));
  }
  registerSecret(value: string | undefined): void {
    this.secrets.add(value);
  }
  /** `task.setprogress`: the step's progress bar and current operation. */
  progress(percent: number, operation: string): void {
    tl.setProgress(Math.max(0, Math.min(100, Math.round(percent))), this.secrets.mask(operation));
  }
  /** A readable group in the log (the viewer folds it). */
  group<T>(title: string, body: () => Promise<T>): Promise<T> {
    this.write(`##[group]${this.secrets.mask(title)}\n`);
    return body().finally(() => this.write('##[endgroup]\n'));
  }
}
