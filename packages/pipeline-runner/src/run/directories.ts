/**
 * The agent's folder layout for one run: `<work>/<n>` is the build directory (Pipeline.Workspace) with `a`
 * (artifact staging), `b` (binaries) and `files` (copies made by upload commands); sources are used in place.
 * Each parallel job slot is its own "agent" with its own temp folder, emptied when a job starts and ends
 * there, so two jobs running side by side never delete each other's files.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobDirectories } from './job-runtime';

export interface RunDirectories {
  work: string;
  build: string;
  sources: string;
  staging: string;
  binaries: string;
  files: string;
  tools: string;
}

export async function createRunDirectories(
  workDirectory: string,
  runNumber: string,
  sourcesDirectory: string,
): Promise<RunDirectories> {
  const build = join(workDirectory, runNumber);
  const directories: RunDirectories = {
    work: workDirectory,
    build,
    sources: sourcesDirectory,
    staging: join(build, 'a'),
    binaries: join(build, 'b'),
    files: join(build, 'files'),
    tools: join(workDirectory, '_tool'),
  };
  for (const path of [directories.staging, directories.binaries, directories.files, directories.tools]) {
    await mkdir(path, { recursive: true });
  }
  return directories;
}

/** Agent.TempDirectory of a job slot: `<work>/_temp` for the first, `<work>/_temp_<n>` for the others. */
export function tempDirectoryFor(workDirectory: string, slot: number): string {
  return join(workDirectory, slot === 0 ? '_temp' : `_temp_${slot + 1}`);
}

/** Empties a job slot's temp folder (as the agent does when a job starts and when it ends). */
export async function emptyTempDirectory(temp: string): Promise<void> {
  for (const entry of await readdir(temp).catch(() => [])) {
    await rm(join(temp, entry), { recursive: true, force: true });
  }
}

/** The job's view of the run folders, with its slot's temp folder emptied. */
export async function prepareJobDirectories(run: RunDirectories, slot: number): Promise<JobDirectories> {
  const temp = tempDirectoryFor(run.work, slot);
  await mkdir(temp, { recursive: true });
  await emptyTempDirectory(temp);
  return {
    work: run.work,
    build: run.build,
    sources: run.sources,
    temp,
    staging: run.staging,
    binaries: run.binaries,
    files: run.files,
  };
}
