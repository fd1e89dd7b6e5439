/**
 * Runs a step's process the way the agent's ProcessInvoker does: both streams read line by line, a timeout
 * or a cancellation first sends SIGINT (so a task can stop what it started) and SIGKILL after a grace
 * period, and `task.complete done=true` stops the wait without waiting for the exit.
 */
import { spawn } from 'node:child_process';
import type { StepOutput } from './process-output';

export interface ProcessOptions {
  cwd: string;
  env: Record<string, string>;
  output: StepOutput;
  /** 0 or Infinity: no timeout. */
  timeoutMs: number;
  /** The run's cancellation. */
  signal: AbortSignal;
  /** Aborted when the task reports `done=true`. */
  done?: AbortSignal;
  /** Grace between SIGINT and SIGKILL; the agent's defaults unless a test shortens them. */
  timeoutGraceMs?: number;
  cancelGraceMs?: number;
}

export interface ProcessOutcome {
  exitCode?: number;
  /** The signal that ended the process, if any. */
  exitSignal?: string;
  timedOut: boolean;
  canceled: boolean;
  /** The task said `done=true`; its exit was not waited for. */
  forcedDone: boolean;
  /** Bytes seen on stderr (failOnStderr). */
  stderrBytes: number;
  /** The process could not be started. */
  startError?: string;
}

/** After the exit, how long to keep reading streams a background grandchild may hold open. */
const drainMs = 1000;

export function runProcess(file: string, args: string[], options: ProcessOptions): Promise<ProcessOutcome> {
  const outcome: ProcessOutcome = { timedOut: false, canceled: false, forcedDone: false, stderrBytes: 0 };
  if (options.signal.aborted) return Promise.resolve({ ...outcome, canceled: true });

  return new Promise((resolvePromise) => {
    const timers: NodeJS.Timeout[] = [];
    let settled = false;
    // Its own process group, so a timeout or cancellation reaches the whole tree the task started.
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });

    const signalTree = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // The group is gone (or never formed): fall back to the process itself if it still runs.
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      }
    };
    const stop = (graceMs: number) => {
      signalTree('SIGINT');
      const kill = setTimeout(() => signalTree('SIGKILL'), graceMs);
      kill.unref();
      timers.push(kill);
    };
    const finish = () => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      options.signal.removeEventListener('abort', onCancel);
      options.done?.removeEventListener('abort', onDone);
      options.output.end('stdout');
      options.output.end('stderr');
      resolvePromise(outcome);
    };
    const onCancel = () => {
      outcome.canceled = true;
      stop(options.cancelGraceMs ?? 10_000);
    };
    const onDone = () => {
      outcome.forcedDone = true;
      finish();
      // Nobody listens any more; make sure the task does not linger.
      signalTree('SIGTERM');
    };

    child.stdout.on('data', (chunk: Buffer) => {
      if (!settled) options.output.write('stdout', chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      outcome.stderrBytes += chunk.length;
      if (!settled) options.output.write('stderr', chunk);
    });
    child.on('error', (error) => {
      outcome.startError = error.message;
      finish();
    });
    child.on('exit', (code, signal) => {
      if (code !== null) outcome.exitCode = code;
      if (signal !== null) outcome.exitSignal = signal;
      const drain = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, drainMs);
      drain.unref();
      timers.push(drain);
    });
    child.on('close', finish);

    options.signal.addEventListener('abort', onCancel, { once: true });
    options.done?.addEventListener('abort', onDone, { once: true });
    if (options.timeoutMs > 0 && Number.isFinite(options.timeoutMs)) {
      const timeout = setTimeout(() => {
        outcome.timedOut = true;
        stop(options.timeoutGraceMs ?? 5_000);
      }, options.timeoutMs);
      timers.push(timeout);
    }
  });
}
