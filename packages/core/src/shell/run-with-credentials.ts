import { spawn, type ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { constants } from 'node:os';
import { InvalidInputError } from '../errors';
import {
  prepareChildCredentials,
  type ChildCredentialOptions,
  type ChildCredentials,
} from './child-credentials';
import { ChildProcessCancelledError, ChildProcessFailedError, ExecutableNotFoundError } from './errors';

export type OutputStream = 'stdout' | 'stderr';

export interface RunWithCredentialsOptions extends ChildCredentialOptions {
  /** The program (looked up on the child's PATH) and its arguments; never run through a shell. */
  command: string;
  args?: string[];
  /** Working directory (default: the process's); it must exist. */
  cwd?: string;
  /** How messages name what ran, e.g. "The script" or "aws s3 ls" (default: the command). */
  label?: string;
  /** Each complete line the child writes, without its line ending, in order per stream. */
  onLine?: (line: string, stream: OutputStream) => void;
  /** Any stderr output makes the run fail even when the exit code is 0 (task-lib's failOnStdErr). */
  failOnStandardError?: boolean;
  /** Aborting stops the child: SIGINT to its process group, then SIGKILL after `killGraceMs`. */
  signal?: AbortSignal;
  killGraceMs?: number;
  /** How many of the last stderr lines a failure quotes (default 10). */
  stderrTailLines?: number;
  /** Told, before the child starts, how it gets its credentials (so a front end can say so). */
  onCredentials?: (source: ChildCredentials['source'], expiration?: Date) => void;
}

export interface RunResult {
  exitCode: number;
  /** The signal that ended the child, if one did. */
  signal?: NodeJS.Signals;
  stderrLineCount: number;
  /** The last stderr lines, unmasked: pass them through the reporter before printing. */
  stderrTail: string[];
  credentialSource: ChildCredentials['source'];
  /** Set when the run failed: a non-zero exit, a signal, or stderr output with failOnStandardError. */
  failure?: ChildProcessFailedError;
}

/** The longest line kept whole; a child writing megabytes without a newline is split into such pieces. */
const maxLineLength = 64 * 1024;
/** After the child exits, how long its output pipes may stay open (a background grandchild holding them). */
const drainAfterExitMs = 2_000;

/**
 * Runs a program with AWS credentials in its environment only (see prepareChildCredentials), streaming its
 * output line by line to `onLine`. Resolves with the exit code and, when the run failed, a typed `failure`
 * saying so (the caller decides whether that ends its own work). Throws ExecutableNotFoundError when the
 * program cannot be started and ChildProcessCancelledError when `signal` aborted the run.
 */
export async function runWithCredentials(options: RunWithCredentialsOptions): Promise<RunResult> {
  const cwd = options.cwd ?? process.cwd();
  const info = await stat(cwd).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new InvalidInputError(
      `The working directory ${cwd} does not exist${info ? ' as a directory' : ''}.`,
      'Create it in an earlier step or correct the working directory.',
    );
  }
  if (options.signal?.aborted) throw cancelled(options);
  const child = await prepareChildCredentials(options);
  try {
    options.onCredentials?.(child.source, child.expiration);
    return await run(options, cwd, child);
  } finally {
    await child.close();
  }
}

function run(
  options: RunWithCredentialsOptions,
  cwd: string,
  credentials: ChildCredentials,
): Promise<RunResult> {
  const label = options.label ?? options.command;
  const tailSize = options.stderrTailLines ?? 10;
  const stderrTail: string[] = [];
  let stderrLineCount = 0;
  const emit = (line: string, stream: OutputStream) => {
    if (stream === 'stderr') {
      stderrLineCount++;
      stderrTail.push(line);
      if (stderrTail.length > tailSize) stderrTail.shift();
    }
    options.onLine?.(line, stream);
  };

  return new Promise<RunResult>((resolvePromise, reject) => {
    // Its own process group (POSIX), so cancelling reaches what a script started, not only the shell.
    const groupKill = process.platform !== 'win32';
    let child: ChildProcess;
    try {
      child = spawn(options.command, options.args ?? [], {
        cwd,
        env: credentials.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: groupKill,
        windowsHide: true,
      });
    } catch (error) {
      reject(startError(options, error));
      return;
    }
    const splitters = {
      stdout: new LineSplitter((line) => emit(line, 'stdout')),
      stderr: new LineSplitter((line) => emit(line, 'stderr')),
    };
    child.stdout!.on('data', (chunk: Buffer) => splitters.stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => splitters.stderr.push(chunk));

    let killTimer: NodeJS.Timeout | undefined;
    let wasCancelled = false;
    const kill = (signal: NodeJS.Signals) => {
      try {
        if (groupKill && child.pid !== undefined) process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // Already gone.
      }
    };
    const onAbort = () => {
      wasCancelled = true;
      kill('SIGINT');
      killTimer = setTimeout(() => kill('SIGKILL'), options.killGraceMs ?? 5_000);
      killTimer.unref();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });

    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;
    const finish = () => {
      if (settled || !exit) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      splitters.stdout.end();
      splitters.stderr.end();
      if (wasCancelled) {
        reject(cancelled(options));
        return;
      }
      const signal = exit.signal ?? undefined;
      const exitCode = exit.code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 1);
      const result: RunResult = {
        exitCode,
        stderrLineCount,
        stderrTail,
        credentialSource: credentials.source,
      };
      if (signal) result.signal = signal;
      const failure = failureOf(label, result, options.failOnStandardError ?? false);
      if (failure) result.failure = failure;
      resolvePromise(result);
    };
    child.on('error', (error) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      reject(startError(options, error));
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // Normally 'close' follows at once; a background process that inherited the pipes must not hold us.
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }, drainAfterExitMs).unref();
    });
    child.on('close', () => finish());
  });
}

function failureOf(
  label: string,
  result: RunResult,
  failOnStandardError: boolean,
): ChildProcessFailedError | undefined {
  const tail = result.stderrTail.length
    ? `\nLast lines of its standard error:\n  ${result.stderrTail.join('\n  ')}`
    : '';
  if (result.signal) {
    return new ChildProcessFailedError(
      `${label} was killed by ${result.signal}.${tail}`,
      'Check what stopped it (memory limits, a timeout, another process) and re-run.',
      result.exitCode,
    );
  }
  if (result.exitCode !== 0) {
    return new ChildProcessFailedError(
      `${label} exited with code ${result.exitCode}.${tail}`,
      'Read its output above for the cause; the exit code is what it returned.',
      result.exitCode,
    );
  }
  if (failOnStandardError && result.stderrLineCount > 0) {
    return new ChildProcessFailedError(
      `${label} wrote ${result.stderrLineCount} line(s) to standard error, and failOnStandardError is true.${tail}`,
      'Fix what it reports, redirect expected messages (2>&1), or set failOnStandardError to false.',
      result.exitCode,
    );
  }
  return undefined;
}

function startError(options: RunWithCredentialsOptions, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'EACCES') {
    return new ExecutableNotFoundError(
      `Cannot run ${options.command}: ${code === 'ENOENT' ? 'it is not installed or not on PATH' : 'permission denied'}.`,
      `Install ${options.command} on this machine or put its folder on PATH.`,
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

function cancelled(options: RunWithCredentialsOptions): ChildProcessCancelledError {
  return new ChildProcessCancelledError(
    `${options.label ?? options.command} was cancelled; it was sent SIGINT (then SIGKILL if it did not stop).`,
    'Re-run when ready; anything it had started in AWS may have been left half done.',
  );
}

/** Splits a byte stream into lines (LF or CRLF), decoding UTF-8 across chunk boundaries. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private buffer = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    this.buffer += this.decoder.write(chunk);
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) !== -1) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    while (this.buffer.length > maxLineLength) {
      this.onLine(this.buffer.slice(0, maxLineLength));
      this.buffer = this.buffer.slice(maxLineLength);
    }
  }

  /** Emits a last line that had no line ending. */
  end(): void {
    this.buffer += this.decoder.end();
    if (this.buffer !== '') this.onLine(this.buffer.endsWith('\r') ? this.buffer.slice(0, -1) : this.buffer);
    this.buffer = '';
  }
}
