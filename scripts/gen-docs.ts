// Regenerates the documentation pages that are derived from code (`npm run docs`).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { renderCliDocs } from '../packages/cli/src/cli-docs';
import { renderTaskDocs } from '../packages/azure-pipelines/src/manifest/task-docs';

writeFileSync(new URL('../docs/cli.md', import.meta.url), renderCliDocs());
console.log('wrote docs/cli.md');

const taskDocsDir = new URL('../docs/tasks/', import.meta.url);
const taskDocs = await renderTaskDocs();
mkdirSync(taskDocsDir, { recursive: true });
// Pages of tasks that no longer exist would otherwise linger as stale reference.
for (const file of readdirSync(taskDocsDir)) {
  if (file.endsWith('.md') && !taskDocs.has(file)) rmSync(new URL(file, taskDocsDir));
}
for (const [file, text] of taskDocs) writeFileSync(new URL(file, taskDocsDir), text);
console.log(`wrote docs/tasks/ (${taskDocs.size} pages)`);
