import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Directories every Amazon Linux box has, so scripts and appspec destinations find their parents. */
const STANDARD_DIRS = [
  'etc',
  'opt',
  'tmp',
  'home',
  'root',
  'usr/local/bin',
  'var/www/html',
  'var/log',
  'var/lib/cloud/instance/scripts',
];

export function instanceRootDir(dataDir: string, instanceId: string): string {
  return join(dataDir, 'instances', instanceId, 'root');
}

export async function createInstanceRoot(rootDir: string): Promise<void> {
  await Promise.all(STANDARD_DIRS.map((dir) => mkdir(join(rootDir, dir), { recursive: true })));
}
