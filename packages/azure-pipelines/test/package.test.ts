// End to end: build every task into a private directory, package it with tfx, then inspect the .vsix as the
// Marketplace and an agent would. The build goes to a temp dir so that tests running the shared dist/ tasks in
// parallel never see a half-written bundle.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const MAX_VSIX_BYTES = 26_214_400;

const TASK_IDS: Record<string, string> = {
  AWSCredentials: 'bf3e2d7a-4a1c-4fc7-9db8-357e842a4fd4',
  CloudFormationCreateOrUpdateStack: 'd44f3567-08b2-498f-9aeb-a11a32de729f',
  CloudFormationDeleteStack: '71a3e226-b724-4c96-b6dd-dc0c97679dec',
  CloudFormationExecuteChangeSet: 'ed40b44c-b53d-4e6c-92ae-d34ab7a51d38',
  CodeDeployDeployApplication: '62d42cc4-97e7-4269-9e46-64d9963b392a',
  AWSShellScript: '5e72508d-17bd-4570-9d02-b0d997235fe1',
  AWSCLI: '28b332cc-e50a-4e04-9043-eea4e38f7bf8',
  S3Upload: '435b0e38-bf1c-4486-bd21-b6a408c61be4',
};
const TASKS = Object.keys(TASK_IDS);

// The tasks' code must agree with the manifest on the endpoint type and its modes. Read in a child process:
// importing task-lib here would load (and print) its agent state into this test's output.
async function taskCodeConstants(): Promise<{ endpointTypeName: string; authModes: string[] }> {
  const source = new URL('../src/credentials.ts', import.meta.url).href;
  const script = `import { authModes, endpointTypeName } from ${JSON.stringify(source)};
    console.log('@@' + JSON.stringify({ authModes, endpointTypeName }));`;
  // task-lib writes its vault key (.taskkey) into the agent temp directory, else into the cwd (the repo).
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: packageDir,
    env: { ...process.env, AGENT_TEMPDIRECTORY: work },
  });
  const line = stdout.split('\n').find((l) => l.startsWith('@@'));
  assert.ok(line, `src/credentials.ts exported nothing readable:\n${stdout}`);
  return JSON.parse(line.slice(2)) as { endpointTypeName: string; authModes: string[] };
}

interface Contribution {
  id: string;
  type: string;
  targets: string[];
  properties: Record<string, unknown>;
}

let work: string;
let vsix: { path: string; bytes: number };
let entries: string[];
const unzip = async (...args: string[]) => (await run('unzip', args, { maxBuffer: 64 * 1024 * 1024 })).stdout;

before(async () => {
  const root = await mkdtemp(join(tmpdir(), 'keyless-vsix-'));
  // Same layout as the real one: dist/ inside an ESM package, which the CommonJS bundles must survive.
  await writeFile(join(root, 'package.json'), '{ "type": "module" }\n');
  work = join(root, 'dist');
  const started = Date.now();
  await run(process.execPath, [join(packageDir, 'build.mjs'), '--out-dir', work, '--require-all']);
  const { stdout } = await run(process.execPath, [join(packageDir, 'package.mjs'), '--dist-dir', work], {
    cwd: work,
  });
  const match = /^(.+\.vsix) \(.*, (\d+) bytes\)$/m.exec(stdout);
  assert.ok(match, `package.mjs printed no .vsix path and size:\n${stdout}`);
  vsix = { path: join(work, match[1]!), bytes: Number(match[2]) };
  entries = (await unzip('-Z1', vsix.path)).split('\n').filter(Boolean);
  console.log(`# build + package: ${Date.now() - started} ms, ${vsix.bytes} bytes`);
});

after(async () => {
  if (work) await rm(join(work, '..'), { recursive: true, force: true });
});

test('the .vsix is named after publisher, id and release version, and fits the Marketplace limit', async () => {
  const { version } = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  assert.equal(vsix.path, join(work, `keyless.keyless-aws-${version}.vsix`));
  assert.equal((await stat(vsix.path)).size, vsix.bytes, 'package.mjs reports the real size');
  assert.ok(vsix.bytes < MAX_VSIX_BYTES, `${vsix.bytes} bytes`);
  const manifest = await unzip('-p', vsix.path, 'extension.vsixmanifest');
  assert.match(
    manifest,
    new RegExp(`<Identity [^>]*Publisher="keyless" Id="keyless-aws" Version="${version}"`),
  );
  assert.match(manifest, /Type="Microsoft.VisualStudio.Services.Manifest"[^>]*Path="extension.vsomanifest"/);
  assert.match(manifest, /<Icon>images\/icon.png<\/Icon>/);
  assert.ok(entries.includes('images/icon.png'));
});

test('the manifest contributes the KeylessAWS endpoint type and the eight tasks', async () => {
  // extension.vsixmanifest only points at this file; the contributions themselves live here.
  const { endpointTypeName, authModes } = await taskCodeConstants();
  const vso = JSON.parse(await unzip('-p', vsix.path, 'extension.vsomanifest')) as {
    contributions: Contribution[];
    scopes: string[];
  };
  assert.deepEqual(vso.scopes, ['vso.build', 'vso.build_execute', 'vso.release']);
  const endpoint = vso.contributions.find((c) => c.type === 'ms.vss-endpoint.service-endpoint-type');
  assert.ok(endpoint);
  assert.equal(endpoint.id, 'keyless-aws-connection');
  assert.deepEqual(endpoint.targets, ['ms.vss-endpoint.endpoint-types']);
  assert.equal(endpoint.properties.name, endpointTypeName);
  const schemes = endpoint.properties.authenticationSchemes as Array<{
    type: string;
    inputDescriptors: Array<{
      id: string;
      isConfidential?: boolean;
      values?: { possibleValues?: Array<{ value: string }> };
    }>;
  }>;
  assert.deepEqual(
    schemes.map((s) => s.type),
    ['ms.vss-endpoint.endpoint-auth-scheme-none', 'ms.vss-endpoint.endpoint-auth-scheme-basic'],
  );
  const [none, basic] = schemes;
  const authMode = none!.inputDescriptors.find((d) => d.id === 'authMode');
  assert.deepEqual(
    authMode?.values?.possibleValues?.map((v) => v.value),
    [...authModes],
  );
  assert.deepEqual(
    basic!.inputDescriptors.filter((d) => d.isConfidential).map((d) => d.id),
    ['password', 'sessionToken'],
  );

  const tasks = vso.contributions.filter((c) => c.type === 'ms.vss-distributed-task.task');
  assert.deepEqual(tasks.map((c) => c.id).sort(), [...TASKS].sort());
  for (const task of tasks) {
    assert.deepEqual(task.targets, ['ms.vss-distributed-task.tasks']);
    assert.equal(task.properties.name, `tasks/${task.id}`);
  }
});

test('each task folder holds a stamped task.json, the bundle, lib.json and an icon', async () => {
  const { version } = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  const [Major, Minor, Patch] = version.split('.').map(Number);
  for (const task of TASKS) {
    for (const file of ['task.json', 'index.js', 'lib.json', 'icon.png'])
      assert.ok(entries.includes(`tasks/${task}/${file}`), `tasks/${task}/${file} is not in the .vsix`);
    const json = JSON.parse(await unzip('-p', vsix.path, `tasks/${task}/task.json`)) as Record<
      string,
      unknown
    >;
    assert.equal(json.id, TASK_IDS[task]);
    assert.equal(json.name, task);
    assert.deepEqual(json.version, { Major, Minor, Patch });
    assert.deepEqual(json.execution, { Node20_1: { target: 'index.js' }, Node24: { target: 'index.js' } });
  }
  assert.deepEqual(
    entries.filter((entry) => /node_modules\//.test(entry)),
    [],
    'node_modules must not be shipped: every task is a single bundle',
  );
});

test('each bundle holds exactly one copy of azure-pipelines-task-lib', async () => {
  const report = JSON.parse(await readFile(join(work, 'build-report.json'), 'utf8')) as {
    tasks: Record<string, { inputs: Record<string, number> }>;
  };
  assert.deepEqual(Object.keys(report.tasks).sort(), [...TASKS].sort());
  for (const [task, { inputs }] of Object.entries(report.tasks)) {
    const copies = Object.keys(inputs).filter((path) => path.endsWith('azure-pipelines-task-lib/task.js'));
    assert.equal(copies.length, 1, `${task}: ${copies.join(', ')}`);
  }
});

test('every bundled task, started with no inputs, fails once with a readable message and exits 0', async () => {
  const results = await Promise.all(
    TASKS.map(async (task) => {
      const temp = await mkdtemp(join(work, `agent-temp-${task}-`));
      // execFile rejects on a non-zero exit; the assertion below wants to see that case, not throw.
      const outcome = await run(process.execPath, [join(work, 'tasks', task, 'index.js')], {
        cwd: temp,
        env: { PATH: process.env.PATH, AGENT_TEMPDIRECTORY: temp },
        timeout: 30_000,
      }).then(
        (result) => ({ ...result, code: 0 }),
        (error: { code?: number; stdout?: string; stderr?: string }) => ({
          code: error.code ?? -1,
          stdout: error.stdout ?? '',
          stderr: error.stderr ?? '',
        }),
      );
      return { task, ...outcome };
    }),
  );
  const problems: string[] = [];
  for (const { task, code, stdout, stderr } of results) {
    const completions = stdout.split(/\r?\n/).filter((line) => line.includes('##vso[task.complete'));
    const failed = completions.map((line) => /^##vso\[task\.complete result=Failed;\](.+)$/.exec(line));
    if (code !== 0) problems.push(`${task}: exit code ${code}`);
    if (completions.length !== 1 || !failed[0])
      problems.push(`${task}: expected one task.complete result=Failed, got ${JSON.stringify(completions)}`);
    const message = failed[0]?.[1] ?? '';
    if (message.length < 15) problems.push(`${task}: message too short to explain anything: "${message}"`);
    if (/failed unexpectedly|TypeError|ReferenceError/.test(message))
      problems.push(`${task}: an unexpected error instead of an explanation: "${message}"`);
    // A stack trace may go to the debug log (##vso[task.debug]), never to the visible output.
    const visible = (stdout + '\n' + stderr)
      .split(/\r?\n/)
      .filter((line) => !line.startsWith('##vso[task.debug]'));
    if (visible.some((line) => /^\s+at .+:\d+:\d+\)?$/.test(line)))
      problems.push(`${task}: printed a stack trace:\n${visible.join('\n')}`);
  }
  assert.deepEqual(problems, [], problems.join('\n'));
});
