/**
 * What the runner learns from the sources folder's git checkout, read-only. A folder that is not a git
 * repository, or a machine without git, gives the agent's "unknown" values instead of an error.
 */
import { execFile } from 'node:child_process';
import { basename } from 'node:path';

export interface SourceInfo {
  /** Build.SourceVersion: the commit, or 40 zeros. */
  commit: string;
  /** The checked-out branch (`main`), or undefined when detached or not a repository. */
  branch?: string;
  /** Build.Repository.Name: the repository's top folder name, else the sources folder's name. */
  repositoryName: string;
}

export async function readSourceInfo(sourcesDirectory: string): Promise<SourceInfo> {
  const [commit, branch, top] = await Promise.all([
    git(sourcesDirectory, ['rev-parse', 'HEAD']),
    git(sourcesDirectory, ['rev-parse', '--abbrev-ref', 'HEAD']),
    git(sourcesDirectory, ['rev-parse', '--show-toplevel']),
  ]);
  return {
    commit: commit && /^[0-9a-f]{40}$/i.test(commit) ? commit.toLowerCase() : '0'.repeat(40),
    branch: branch && branch !== 'HEAD' ? branch : undefined,
    repositoryName: basename(top ?? sourcesDirectory),
  };
}

function git(cwd: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, timeout: 5000, windowsHide: true }, (error, stdout) => {
      resolve(error ? undefined : stdout.trim() || undefined);
    });
  });
}
