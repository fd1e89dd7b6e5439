import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderCliDocs } from './cli-docs';

test("docs/cli.md matches the commands' --help texts", () => {
  const committed = readFileSync(new URL('../../../docs/cli.md', import.meta.url), 'utf8');
  assert.equal(committed, renderCliDocs(), 'docs/cli.md is stale: run `npm run docs`');
});
