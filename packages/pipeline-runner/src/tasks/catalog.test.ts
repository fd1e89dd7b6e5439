import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AmbiguousTaskError,
  TaskCatalog,
  TaskDefinitionError,
  TaskNotFoundError,
  TaskReferenceError,
  parseTaskReference,
  qualifiedName,
} from './catalog';

const idA = '7ef7cdfa-aa45-42c5-93c8-d7603643dd99';
const idB = '0b0e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b';

async function task(dir: string, folder: string, json: Record<string, unknown>): Promise<string> {
  const path = join(dir, folder);
  await mkdir(path, { recursive: true });
  await writeFile(
    join(path, 'task.json'),
    JSON.stringify({ execution: { Node20_1: { target: 'index.js' } }, ...json }),
  );
  return path;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'keyless-catalog-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('Name@Major matches task.json name case-insensitively and picks the highest Minor.Patch', () =>
  withDir(async (dir) => {
    await task(dir, 'v1a', {
      id: idA,
      name: 'CloudFormationCreateOrUpdateStack',
      version: { Major: 1, Minor: 2, Patch: 9 },
    });
    await task(dir, 'v1b', {
      id: idA,
      name: 'CloudFormationCreateOrUpdateStack',
      version: { Major: 1, Minor: 10, Patch: 0 },
    });
    await task(dir, 'v1c', {
      id: idA,
      name: 'CloudFormationCreateOrUpdateStack',
      version: { Major: 1, Minor: 10, Patch: 3 },
    });
    await task(dir, 'v2', {
      id: idA,
      name: 'CloudFormationCreateOrUpdateStack',
      version: { Major: 2, Minor: 99, Patch: 0 },
    });
    const catalog = await TaskCatalog.load([dir]);
    const resolved = catalog.resolve('cloudformationcreateorupdatestack@1');
    assert.deepEqual(resolved.version, { Major: 1, Minor: 10, Patch: 3 });
    assert.equal(resolved.directory, join(dir, 'v1c'));
    assert.equal(catalog.resolve('CLOUDFORMATIONCREATEORUPDATESTACK@2').version.Minor, 99);
    assert.equal(catalog.list().length, 4);
  }));

test('a GUID@Major reference resolves by task id', () =>
  withDir(async (dir) => {
    await task(dir, 'a', { id: idA, name: 'Alpha', version: { Major: 1, Minor: 0, Patch: 0 } });
    await task(dir, 'b', { id: idB, name: 'Beta', version: { Major: 1, Minor: 0, Patch: 0 } });
    const catalog = await TaskCatalog.load([dir]);
    assert.equal(catalog.resolve(`${idB.toUpperCase()}@1`).name, 'Beta');
  }));

test('fully-qualified names come from the vss-extension.json above the task folder', () =>
  withDir(async (dir) => {
    const ext = join(dir, 'ext');
    await task(join(ext, 'tasks'), 'Deploy', {
      id: idA,
      name: 'Deploy',
      version: { Major: 1, Minor: 0, Patch: 0 },
    });
    await writeFile(
      join(ext, 'vss-extension.json'),
      JSON.stringify({
        publisher: 'Contoso',
        id: 'keyless-tools',
        contributions: [
          { id: 'deploy-task', type: 'ms.vss-distributed-task.task', properties: { name: 'tasks/Deploy' } },
        ],
      }),
    );
    const catalog = await TaskCatalog.load([join(ext, 'tasks')]);
    const resolved = catalog.resolve('contoso.keyless-tools.deploy-task.Deploy@1');
    assert.equal(qualifiedName(resolved), 'Contoso.keyless-tools.deploy-task.Deploy');
    assert.equal(resolved.publisher, 'Contoso');
    assert.throws(() => catalog.resolve('other.keyless-tools.deploy-task.Deploy@1'), TaskNotFoundError);
  }));

test('multi-major task folders hold task.json in direct subfolders', () =>
  withDir(async (dir) => {
    await task(join(dir, 'Multi'), 'MultiV1', {
      id: idA,
      name: 'Multi',
      version: { Major: 1, Minor: 0, Patch: 0 },
    });
    await task(join(dir, 'Multi'), 'MultiV2', {
      id: idA,
      name: 'Multi',
      version: { Major: 2, Minor: 0, Patch: 0 },
    });
    const catalog = await TaskCatalog.load([dir]);
    assert.equal(catalog.resolve('Multi@2').directory, join(dir, 'Multi', 'MultiV2'));
  }));

test('two different task ids with the same name and major are ambiguous', () =>
  withDir(async (dir) => {
    await task(dir, 'one', { id: idA, name: 'Deploy', version: { Major: 1, Minor: 0, Patch: 0 } });
    await task(dir, 'two', { id: idB, name: 'deploy', version: { Major: 1, Minor: 3, Patch: 0 } });
    const catalog = await TaskCatalog.load([dir]);
    assert.throws(
      () => catalog.resolve('Deploy@1'),
      (error: unknown) =>
        error instanceof AmbiguousTaskError &&
        error.message.includes(idA) &&
        error.message.includes(idB) &&
        /GUID/.test(error.fix ?? '') &&
        /fully-qualified/.test(error.fix ?? ''),
    );
    // The GUID disambiguates.
    assert.equal(catalog.resolve(`${idB}@1`).version.Minor, 3);
  }));

test('an unknown task lists close names; a known task with another major lists its majors', () =>
  withDir(async (dir) => {
    await task(dir, 'a', { id: idA, name: 'S3Upload', version: { Major: 1, Minor: 0, Patch: 0 } });
    await task(dir, 'b', { id: idB, name: 'AWSShellScript', version: { Major: 1, Minor: 0, Patch: 0 } });
    const catalog = await TaskCatalog.load([dir]);
    assert.throws(
      () => catalog.resolve('S3Uplod@1'),
      (error: unknown) =>
        error instanceof TaskNotFoundError &&
        error.message.includes('S3Upload@1') &&
        !error.message.includes('AWSShell'),
    );
    assert.throws(
      () => catalog.resolve('S3Upload@4'),
      (error: unknown) => error instanceof TaskNotFoundError && error.message.includes('@1'),
    );
  }));

test('a reference without @Major is rejected', () => {
  assert.throws(() => parseTaskReference('S3Upload'), TaskReferenceError);
  assert.throws(() => parseTaskReference('S3Upload@'), TaskReferenceError);
  assert.throws(() => parseTaskReference('S3Upload@v1'), TaskReferenceError);
  assert.deepEqual(parseTaskReference(' S3Upload@12 '), { identifier: 'S3Upload', major: 12 });
});

test('an invalid task.json fails the load naming the file', () =>
  withDir(async (dir) => {
    await task(dir, 'bad', { id: 'not-a-guid', name: 'Bad', version: { Major: 1, Minor: 0, Patch: 0 } });
    await assert.rejects(
      TaskCatalog.load([dir]),
      (error: unknown) =>
        error instanceof TaskDefinitionError && error.message.includes(join(dir, 'bad', 'task.json')),
    );
  }));

test('inputs, execution and output variables are read from task.json', () =>
  withDir(async (dir) => {
    await task(dir, 'full', {
      id: idA,
      name: 'Full',
      version: { Major: '1', Minor: '2', Patch: '3' },
      inputs: [
        { name: 'flag', type: 'boolean', defaultValue: false, required: 'true' },
        { name: 'path', type: 'filePath', aliases: ['file'] },
      ],
      execution: { Node10: { target: 'old.js' }, Node20_1: { target: 'index.js', workingDirectory: 'wd' } },
      outputVariables: [{ name: 'StackId', description: 'x' }],
    });
    const resolved = (await TaskCatalog.load([dir])).resolve('Full@1');
    assert.deepEqual(resolved.version, { Major: 1, Minor: 2, Patch: 3 });
    assert.deepEqual(resolved.inputs, [
      { name: 'flag', type: 'boolean', defaultValue: 'false', required: true },
      { name: 'path', type: 'filePath', aliases: ['file'] },
    ]);
    assert.deepEqual(resolved.execution.Node20_1, { target: 'index.js', workingDirectory: 'wd' });
    assert.deepEqual(resolved.outputVariables, [{ name: 'StackId' }]);
  }));
