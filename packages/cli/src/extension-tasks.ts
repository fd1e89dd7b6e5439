import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The extension built next to this CLI: from packages/cli/dist (the bundle) or packages/cli/src/commands
 * (run from source), the first ancestor holding azure-pipelines/dist/tasks.
 */
export async function builtExtensionTasks(): Promise<string | undefined> {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(directory, 'azure-pipelines', 'dist', 'tasks');
    if (await isDirectory(candidate)) return candidate;
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
}
