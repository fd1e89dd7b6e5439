import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/**
 * The full path of `name` as the child's PATH would find it, or undefined. A name with a path separator is
 * checked as it is. On Windows each PATHEXT extension is tried, as cmd.exe does.
 */
export function findExecutable(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const windows = process.platform === 'win32';
  const extensions = windows ? (env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean) : [''];
  const candidates = (base: string) => [base, ...(windows ? extensions.map((ext) => base + ext) : [])];
  if (isAbsolute(name) || name.includes('/') || (windows && name.includes('\\'))) {
    return candidates(name).find(isExecutableFile);
  }
  const path = (windows ? (env.Path ?? env.PATH) : env.PATH) ?? '';
  for (const directory of path.split(delimiter)) {
    if (!directory) continue;
    const found = candidates(join(directory, name)).find(isExecutableFile);
    if (found) return found;
  }
  return undefined;
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
