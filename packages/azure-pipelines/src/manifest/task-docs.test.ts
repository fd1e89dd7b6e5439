import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { renderTaskDocs } from './task-docs';

const docsDir = new URL('../../../../docs/tasks/', import.meta.url);

test('docs/tasks matches the task.json files', async () => {
  const expected = await renderTaskDocs();
  const committed = existsSync(docsDir) ? readdirSync(docsDir).filter((file) => file.endsWith('.md')) : [];
  assert.deepEqual(committed.sort(), [...expected.keys()].sort(), 'docs/tasks is stale: run `npm run docs`');
  for (const [file, text] of expected) {
    assert.equal(
      readFileSync(new URL(file, docsDir), 'utf8'),
      text,
      `docs/tasks/${file} is stale: run \`npm run docs\``,
    );
  }
});
