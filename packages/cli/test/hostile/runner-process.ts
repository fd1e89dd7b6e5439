// `keyless pipeline run` as a real process, for the tests that kill or cancel it: its output as it comes, a
// wait for a line, and the process tree it started (the runner puts each step in a process group of its own,
// so the tree is found by a marker in the environment every descendant inherits).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliBundle, runnerEnvironment, type SampleSystem } from './sample-system';

export interface RunnerProcess {
  child: ChildProcess;
  /** Everything printed so far (stdout and stderr, in arrival order). */
  output(): string;
  /** Resolves with the first match of `pattern` in the output. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL to the runner and to every process it started (its steps run in process groups of their own). */
  killTree(): number[];
}

export function startRunner(
  system: SampleSystem,
  pipeline: string,
  extraArgs: string[] = [],
  timeoutMs = 240_000,
): RunnerProcess {
  const marker = randomUUID();
  const child = spawn(
    process.execPath,
    [
      cliBundle,
      'pipeline',
      'run',
      join(system.repo, pipeline),
      '--agent',
      system.agentFile,
      '--work-dir',
      system.agentWork,
      '--branch',
      'main',
      ...extraArgs,
    ],
    {
      cwd: system.repo,
      env: runnerEnvironment({ KEYLESS_HOSTILE_MARK: marker }),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let text = '';
  const waiters: Array<() => void> = [];
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    for (const waiter of waiters.splice(0)) waiter();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const guard = setTimeout(() => killMarked(marker), timeoutMs);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      done = true;
      clearTimeout(guard);
      for (const waiter of waiters.splice(0)) waiter();
      resolve({ code, signal });
    });
  });

  return {
    child,
    output: () => text,
    exited,
    killTree: () => killMarked(marker),
    waitFor(pattern, waitMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`No ${pattern} in the runner's output after ${waitMs} ms:\n${tail(text)}`)),
          waitMs,
        );
        const check = () => {
          const match = pattern.exec(text);
          if (match) {
            clearTimeout(timer);
            resolve(match);
          } else if (done) {
            clearTimeout(timer);
            reject(new Error(`The runner ended without printing ${pattern}:\n${tail(text)}`));
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

/** The process ids whose environment carries this marker (Linux /proc; none elsewhere). */
export function markedProcesses(marker: string): number[] {
  const needle = `KEYLESS_HOSTILE_MARK=${marker}`;
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
      if (environ.split('\0').includes(needle)) pids.push(Number(entry));
    } catch {
      // Gone already, or not ours to read.
    }
  }
  return pids;
}

function killMarked(marker: string): number[] {
  const pids = markedProcesses(marker);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  return pids;
}

export function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}
