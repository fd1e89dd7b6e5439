/**
 * The counters the Azure server keeps between runs — the organisation-wide build id and each pipeline's
 * build-number revisions — kept in `<work>/state.json`. Updates take a lock file so two runs sharing a work
 * folder never hand out the same id.
 */
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KeylessError } from '@keyless/core';

export interface RunnerState {
  lastBuildId: number;
  /** `<pipeline file>\n<build number without its revision>` → the last revision handed out. */
  revisions: Record<string, number>;
}

export class RunnerStateError extends KeylessError {
  readonly code = 'RunnerState';
}

const staleLockMs = 30_000;

/** Runs `change` on the state under the lock and saves what it returns alongside its result. */
export async function updateRunnerState<T>(
  workDirectory: string,
  change: (state: RunnerState) => T,
): Promise<T> {
  await mkdir(workDirectory, { recursive: true });
  const file = join(workDirectory, 'state.json');
  const release = await lock(`${file}.lock`);
  try {
    const state = await readState(file);
    const result = change(state);
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`);
    await rename(temporary, file);
    return result;
  } finally {
    await release();
  }
}

async function readState(file: string): Promise<RunnerState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { lastBuildId: 0, revisions: {} };
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<RunnerState>;
    return {
      lastBuildId: typeof parsed.lastBuildId === 'number' ? parsed.lastBuildId : 0,
      revisions: parsed.revisions && typeof parsed.revisions === 'object' ? parsed.revisions : {},
    };
  } catch {
    throw new RunnerStateError(
      `${file} is not valid JSON, so the build id and build-number counters cannot be read.`,
      'delete the file (the counters restart at 1) or restore it.',
    );
  }
}

async function lock(path: string): Promise<() => Promise<void>> {
  const deadline = Date.now() + 2 * staleLockMs;
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      await handle.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    // A run that crashed while holding the lock must not block every later run.
    const age = await stat(path).then(
      (info) => Date.now() - info.mtimeMs,
      () => 0,
    );
    if (age > staleLockMs) await rm(path, { force: true });
    if (Date.now() > deadline) {
      throw new RunnerStateError(
        `Another run holds ${path}.`,
        'wait for it to finish, or delete the lock file if no run is active.',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
