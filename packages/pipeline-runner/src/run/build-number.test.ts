import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  allocateBuild,
  BuildNumberError,
  checkBuildNumber,
  defaultBuildNumberFormat,
  formatBuildNumber,
  formatDate,
  hasRevision,
  revisionKey,
  type BuildNumberContext,
} from './build-number';

const variables: Record<string, string> = {
  'build.definitionname': 'CIBuild',
  'build.buildid': '752',
  'build.sourcebranchname': 'main',
  'system.teamproject': 'Fabrikam',
  version: '1.4',
};
const context = (date: Date): BuildNumberContext => ({
  date,
  variable: (name) => variables[name.toLowerCase()],
});
const may5 = new Date(Date.UTC(2019, 4, 5, 21, 7, 3));

test('the default format gives yyyyMMdd.N', () => {
  assert.equal(formatBuildNumber(defaultBuildNumberFormat, context(may5), 1), '20190505.1');
  assert.equal(formatBuildNumber(defaultBuildNumberFormat, context(may5), 12), '20190505.12');
});

test('the documented example resolves every token', () => {
  const format = '$(TeamProject)_$(Build.DefinitionName)_$(SourceBranchName)_$(Date:yyyyMMdd)$(Rev:.r)';
  assert.equal(formatBuildNumber(format, context(may5), 2), 'Fabrikam_CIBuild_main_20190505.2');
  assert.equal(
    formatBuildNumber(
      '$(BuildDefinitionName)-$(BuildID)-$(DayOfMonth)-$(Month)-$(Hours)-$(Minutes)-$(Seconds)',
      context(may5),
      1,
    ),
    'CIBuild-752-5-5-21-7-3',
  );
  assert.equal(formatBuildNumber('$(Year:yy).$(DayOfYear)', context(may5), 1), '19.125');
});

test('$(Rev:rr) pads and pipeline variables are substituted', () => {
  assert.equal(formatBuildNumber('$(version).$(Rev:rrr)', context(may5), 7), '1.4.007');
});

test('unknown variables stay literal, like the server', () => {
  assert.equal(formatBuildNumber('$(nope)-$(Rev:r)', context(may5), 3), '$(nope)-3');
});

test('date formats follow .NET custom format letters', () => {
  assert.equal(formatDate(may5, 'yyyy-MM-dd HH.mm.ss'), '2019-05-05 21.07.03');
  assert.equal(formatDate(may5, 'yy.M.d'), '19.5.5');
});

test('the revision key ignores the revision and changes with everything else', () => {
  assert.equal(hasRevision('$(Date:yyyyMMdd)$(Rev:.r)'), true);
  assert.equal(hasRevision('$(Date:yyyyMMdd)'), false);
  const today = revisionKey(defaultBuildNumberFormat, context(may5));
  const tomorrow = revisionKey(defaultBuildNumberFormat, context(new Date(Date.UTC(2019, 4, 6))));
  assert.notEqual(today, tomorrow);
  assert.equal(today, revisionKey(defaultBuildNumberFormat, context(new Date(Date.UTC(2019, 4, 5, 1)))));
});

test('invalid build numbers are rejected with the offending character', () => {
  assert.throws(() => formatBuildNumber('a/b', context(may5), 1), BuildNumberError);
  assert.throws(() => checkBuildNumber('1.0.', 'x'), /ends with "."/);
  assert.throws(() => checkBuildNumber('x:y', 'x'), /contains ":"/);
  assert.doesNotThrow(() => checkBuildNumber('1.2.3-rc_1', 'x'));
});

test('build ids increase per work folder and revisions restart each day and per pipeline', async () => {
  const work = await mkdtemp(join(tmpdir(), 'keyless-state-'));
  try {
    const allocate = (date: Date, pipeline = '/p/azure-pipelines.yml', format = defaultBuildNumberFormat) =>
      allocateBuild(
        work,
        pipeline,
        format,
        date,
        (id) => (name) =>
          name.toLowerCase() === 'build.buildid' ? String(id) : variables[name.toLowerCase()],
      );
    // Concurrent runs must not share an id: the lock file serialises them.
    const results = await Promise.all([allocate(may5), allocate(may5), allocate(may5)]);
    assert.deepEqual(results.map((result) => result.buildId).sort(), [1, 2, 3]);
    assert.deepEqual(results.map((result) => result.buildNumber).sort(), [
      '20190505.1',
      '20190505.2',
      '20190505.3',
    ]);
    assert.deepEqual(await allocate(new Date(Date.UTC(2019, 4, 6, 8))), {
      buildId: 4,
      buildNumber: '20190506.1',
    });
    assert.deepEqual(await allocate(may5, '/other/azure-pipelines.yml'), {
      buildId: 5,
      buildNumber: '20190505.1',
    });
    assert.deepEqual(await allocate(may5, '/p/azure-pipelines.yml', 'b$(BuildID)'), {
      buildId: 6,
      buildNumber: 'b6',
    });
    // A format the server would reject consumes nothing.
    await assert.rejects(allocate(may5, '/p/azure-pipelines.yml', 'a:b'), BuildNumberError);
    const saved = JSON.parse(await readFile(join(work, 'state.json'), 'utf8')) as { lastBuildId: number };
    assert.equal(saved.lastBuildId, 6);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
