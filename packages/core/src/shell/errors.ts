import { KeylessError } from '../errors';

/**
 * The program to run (bash, sh, pwsh, aws, …) is not installed or not on PATH. Exit 2: the agent needs it.
 */
export class ExecutableNotFoundError extends KeylessError {
  readonly code = 'ExecutableNotFound';
  override readonly exitCode = 2;
}

/**
 * The child process ended with a non-zero exit code, a signal, or wrote to stderr when that counts as
 * failure.
 */
export class ChildProcessFailedError extends KeylessError {
  readonly code = 'ChildProcessFailed';
  constructor(
    message: string,
    fix: string,
    /** The child's exit code (128 + signal number when it was killed by a signal). */
    readonly childExitCode: number,
  ) {
    super(message, fix);
  }
}

/** The run was cancelled (SIGINT/SIGTERM to us); the child was stopped. */
export class ChildProcessCancelledError extends KeylessError {
  readonly code = 'ChildProcessCancelled';
}
