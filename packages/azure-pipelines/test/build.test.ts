// The build's guards, run against throwaway task folders: each must stop the build with a message that names
// the task and the fix, rather than ship a broken .vsix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const taskLibModule = join(packageDir, 'src/task-lib.ts');

function manifest(): Record<string, unknown> {
  return {
    id: '28b332cc-e50a-4e04-9043-eea4e38f7bf8',
    name: 'AWSCLI',
    friendlyName: 'AWS CLI',
    category: 'Deploy',
    version: { Major: 1, Minor: 0, Patch: 0 },
    instanceNameFormat: 'aws $(awsCommand)',
    inputs: [{ name: 'awsCommand', type: 'string', label: 'Command', required: true, defaultValue: '' }],
    execution: { Node20_1: { target: 'index.js' }, Node24: { target: 'index.js' } },
  };
}

const entry = `import { tl } from ${JSON.stringify(taskLibModule)};
tl.setResult(tl.TaskResult.Failed, 'awsCommand is required: ' + (tl.getInput('awsCommand') ?? 'missing'));
`;

async function withTasks(
  setup: (tasksDir: string, root: string) => Promise<void>,
): Promise<{ code: number; stdout: string; stderr: string; outDir: string }> {
  const root = await mkdtemp(join(tmpdir(), 'keyless-build-'));
  const tasksDir = join(root, 'tasks');
  await mkdir(join(tasksDir, 'AWSCLI'), { recursive: true });
  await writeFile(join(tasksDir, 'AWSCLI/task.json'), JSON.stringify(manifest()));
  await writeFile(join(tasksDir, 'AWSCLI/index.ts'), entry);
  await setup(tasksDir, root);
  const outDir = join(root, 'dist');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(packageDir, 'build.mjs'), '--tasks-dir', tasksDir, '--out-dir', outDir],
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr, outDir }),
    );
  });
}

test('a ready task is bundled with its stamped manifest while unwritten tasks are skipped with a warning', async (t) => {
  const result = await withTasks(async () => {});
  t.after(() => rm(join(result.outDir, '..'), { recursive: true, force: true }));
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /warning: skipping tasks not written yet: AWSCredentials \(no task\.json, no index\.ts\)/,
  );
  const { version } = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  const stamped = JSON.parse(await readFile(join(result.outDir, 'tasks/AWSCLI/task.json'), 'utf8')) as {
    version: unknown;
  };
  assert.deepEqual(
    stamped.version,
    Object.fromEntries(['Major', 'Minor', 'Patch'].map((key, i) => [key, Number(version.split('.')[i])])),
  );
  for (const file of ['index.js', 'lib.json', 'icon.png'])
    assert.ok(existsSync(join(result.outDir, 'tasks/AWSCLI', file)), file);
  const staged = JSON.parse(await readFile(join(result.outDir, 'extension/vss-extension.json'), 'utf8')) as {
    version: string;
    files: Array<{ path: string }>;
    contributions: Array<{ type: string; properties: { name: string } }>;
  };
  assert.equal(staged.version, version);
  assert.deepEqual(
    staged.files.map((f) => f.path),
    ['images', 'tasks/AWSCLI'],
  );
  assert.deepEqual(
    staged.contributions
      .filter((c) => c.type === 'ms.vss-distributed-task.task')
      .map((c) => c.properties.name),
    ['tasks/AWSCLI'],
  );
});

test('a second copy of azure-pipelines-task-lib in a bundle fails the build', async (t) => {
  const result = await withTasks(async (tasksDir, root) => {
    const copy = join(root, 'vendor/node_modules/azure-pipelines-task-lib/task.js');
    await mkdir(join(copy, '..'), { recursive: true });
    await writeFile(copy, 'exports.loaded = true;\n');
    await writeFile(join(tasksDir, 'AWSCLI/index.ts'), `${entry}import ${JSON.stringify(copy)};\n`);
  });
  t.after(() => rm(join(result.outDir, '..'), { recursive: true, force: true }));
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /tasks\/AWSCLI: the bundle must hold exactly one azure-pipelines-task-lib, found 2/,
  );
});

test('a task.json that breaks the rules fails the build with every problem listed', async (t) => {
  const result = await withTasks(async (tasksDir) => {
    const json = manifest();
    json.execution = { Node10: { target: 'index.js' }, Node20_1: { target: 'index.js' } };
    json.id = '00000000-0000-0000-0000-000000000000';
    await writeFile(join(tasksDir, 'AWSCLI/task.json'), JSON.stringify(json));
  });
  t.after(() => rm(join(result.outDir, '..'), { recursive: true, force: true }));
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /execution: must declare exactly Node20_1 \+ Node24; missing Node24; remove Node10/,
  );
  assert.match(result.stderr, /execution: must be exactly \{"Node20_1":\{"target":"index.js"\},"Node24"/);
  assert.match(result.stderr, /id: must stay 28b332cc-e50a-4e04-9043-eea4e38f7bf8/);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
});

test('a task folder that vss-extension.json does not declare fails the build', async (t) => {
  const result = await withTasks(async (tasksDir) => {
    await mkdir(join(tasksDir, 'LambdaDeploy'));
  });
  t.after(() => rm(join(result.outDir, '..'), { recursive: true, force: true }));
  assert.equal(result.code, 1);
  assert.match(result.stderr, /tasks\/LambdaDeploy is not declared in vss-extension.json/);
});
