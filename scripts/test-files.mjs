// The test files under packages/ whose names end with `suffix`, relative to the repository root, sorted.
// Node 20's test runner has no glob support, so the test scripts collect them here.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));

export function testFiles(suffix) {
  const out = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(suffix)) out.push(relative(root, path));
    }
  };
  walk(join(root, 'packages'));
  return out.sort();
}
