import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { assertValidAppSpec, checkWorkspaceAppSpec } from './appspec';
import { createExcluder } from './bundle';
import { AppSpecInvalidError } from './errors';

const created: string[] = [];
after(() => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

function workspace(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'keyless-appspec-'));
  created.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
    if (path.endsWith('.sh')) chmodSync(join(root, path), 0o755);
  }
  return root;
}

const valid = [
  'version: 0.0',
  'os: linux',
  'files:',
  '  - source: site',
  '    destination: /var/www/html',
  'hooks:',
  '  AfterInstall:',
  '    - location: scripts/after.sh',
  '      timeout: 300',
  '      runas: root',
].join('\n');

async function problems(files: Record<string, string>, excludes: string[] = []) {
  const check = await checkWorkspaceAppSpec(workspace(files), { isExcluded: createExcluder(excludes) });
  return check.problems.map((problem) => `${problem.line}: ${problem.message}`);
}

test('a valid appspec parses, with its hooks and files', async () => {
  const check = await checkWorkspaceAppSpec(
    workspace({ 'appspec.yml': valid, 'site/index.html': 'x', 'scripts/after.sh': '#!/bin/sh\n' }),
  );
  const spec = assertValidAppSpec(check);
  assert.deepEqual(spec.hooks.AfterInstall, [
    { location: 'scripts/after.sh', timeoutSeconds: 300, runas: 'root' },
  ]);
  assert.equal(spec.os, 'linux');
});

test('a quoted version is refused with its line and the fix', async () => {
  const found = await problems({
    'appspec.yml': valid.replace('version: 0.0', 'version: "0.0"'),
    'site/a': 'x',
    'scripts/after.sh': '',
  });
  assert.equal(found.length, 1);
  assert.match(found[0]!, /^1: version is quoted \("0\.0"\).*without quotes/);
});

test('an unknown hook lists the valid ones; a reserved one says it cannot run scripts', async () => {
  const text = `${valid}\n  AppStart:\n    - location: scripts/after.sh\n  Install:\n    - location: scripts/after.sh`;
  const found = await problems({ 'appspec.yml': text, 'site/a': 'x', 'scripts/after.sh': '' });
  assert.equal(found.length, 2);
  assert.match(
    found[0]!,
    /^11: unknown hook "AppStart"; EC2\/on-premises hooks are: ApplicationStop, BeforeInstall/,
  );
  assert.match(found[1]!, /^13: hook Install cannot run scripts/);
});

test('a missing script names the hook and the path; an excluded script counts as missing', async () => {
  const missing = await problems({ 'appspec.yml': valid, 'site/a': 'x' });
  assert.deepEqual(missing.length, 1);
  assert.match(missing[0]!, /^8: hook AfterInstall: script scripts\/after\.sh is not in the bundle/);
  const excluded = await problems({ 'appspec.yml': valid, 'site/a': 'x', 'scripts/after.sh': '' }, [
    'scripts',
  ]);
  assert.match(excluded[0]!, /^8: hook AfterInstall: script scripts\/after\.sh is not in the bundle/);
});

test('timeouts over 3600 s, a bad os, a runas that is not a name and a missing source are each placed', async () => {
  const text = valid
    .replace('os: linux', 'os: ubuntu')
    .replace('timeout: 300', 'timeout: 7200')
    .replace('runas: root', 'runas: [root]')
    .replace('source: site', 'source: public');
  const found = await problems({ 'appspec.yml': text, 'scripts/after.sh': '' });
  assert.deepEqual(
    found.map((line) => line.split(':')[0]),
    ['2', '4', '9', '10'],
  );
  assert.match(found[0]!, /os must be linux or windows, got "ubuntu"/);
  assert.match(found[1]!, /files source "public" is not in the bundle/);
  assert.match(found[2]!, /timeout 7200 s is over the 3600 s/);
  assert.match(found[3]!, /runas must be a user name/);
});

test('two sources installing the same destination file are refused (the agent would fail Install)', async () => {
  const text = [
    'version: 0.0',
    'os: linux',
    'files:',
    '  - source: a/index.html',
    '    destination: /var/www',
    '  - source: b',
    '    destination: /var/www',
  ].join('\n');
  const found = await problems({ 'appspec.yml': text, 'a/index.html': '1', 'b/index.html': '2' });
  assert.equal(found.length, 1);
  assert.match(found[0]!, /^6: files sources "a\/index\.html" and "b" both install \/var\/www\/index\.html/);
});

test('no appspec at the root is refused, naming a misplaced one', async () => {
  const check = await checkWorkspaceAppSpec(workspace({ 'src/appspec.yml': valid, 'README.md': '' }));
  assert.throws(
    () => assertValidAppSpec(check),
    (error: unknown) => {
      assert.ok(error instanceof AppSpecInvalidError);
      assert.match(error.message, /no appspec\.yml at the root of .* \(found src\/appspec\.yml/);
      return true;
    },
  );
});

test('an appspec inside a lone top-level directory is accepted, as the agent strips that directory', async () => {
  const check = await checkWorkspaceAppSpec(
    workspace({ 'app/appspec.yml': valid, 'app/site/a': 'x', 'app/scripts/after.sh': '' }),
  );
  assert.deepEqual(check.problems, []);
  assert.equal(check.file, 'app/appspec.yml');
});

test('YAML syntax errors carry their line; appspec.yaml is found too', async () => {
  const found = await problems({ 'appspec.yaml': 'version: 0.0\nos: linux\nhooks: [\n  bad' });
  assert.equal(found.length, 1);
  assert.match(found[0]!, /not valid YAML/);
});

test('the error message lists every problem as file:line:column', async () => {
  const check = await checkWorkspaceAppSpec(workspace({ 'appspec.yml': 'version: 1\nos: linux\n' }));
  assert.throws(() => assertValidAppSpec(check), /Invalid appspec: appspec\.yml:1:10: version must be 0\.0/);
});

test('a wrong version is quoted as written, not as YAML reads it', async () => {
  const found = await problems({ 'appspec.yml': 'version: 1.0\nos: linux\n' });
  assert.deepEqual(found, ['1: version must be 0.0 (the only appspec version), got 1.0']);
});

test('permissions: a type other than file or directory is placed, as one value and in a list; valid ones pass', async () => {
  const permissions = (type: string) =>
    `${valid}\npermissions:\n  - object: /var/www/html\n    mode: 755\n    type: ${type}`;
  const files = { 'site/a': 'x', 'scripts/after.sh': '' };
  const single = await problems({ ...files, 'appspec.yml': permissions('weird') });
  assert.deepEqual(single, [
    '14: permissions type must be file or directory (or a list of them), got "weird"',
  ]);
  const listed = await problems({ ...files, 'appspec.yml': permissions('[file, dir]') });
  assert.equal(listed.length, 1);
  assert.match(listed[0]!, /^14: permissions type .* got "dir"/);
  assert.deepEqual(await problems({ ...files, 'appspec.yml': permissions('[file, directory]') }), []);
  assert.deepEqual(await problems({ ...files, 'appspec.yml': permissions('directory') }), []);
});
