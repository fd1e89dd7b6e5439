import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runTaskStep } from './run-step';
import { createTestJob, taskStep, writeTask } from '../../test/step-fixtures';
import type { FixtureTask, TestJob } from '../../test/step-fixtures';
import type { VariableValue } from '../variables';

const id = '3e0b3a59-5a5e-4d43-9a4c-6b1f4e5c7d01';
const minute = 60_000;

async function withTask(
  task: Partial<FixtureTask> & { source: string },
  fn: (ctx: TestJob) => Promise<void>,
  variables: VariableValue[] = [],
): Promise<void> {
  const ctx = await createTestJob({ variables });
  try {
    await writeTask(ctx.tasksDir, { name: 'Fixture', id, ...task });
    await ctx.reloadCatalog();
    await fn(ctx);
  } finally {
    await ctx.cleanup();
  }
}

test('exit 0 without task.complete succeeds, even after an error issue', () =>
  withTask(
    {
      inputs: [{ name: 'who', type: 'string', defaultValue: 'world' }],
      source: `console.log('hello ' + process.env.INPUT_WHO); console.log('##vso[task.logissue type=error]oops'); console.log('cwd=' + process.cwd());`,
    },
    async ({ job, lines, sources }) => {
      const record = await runTaskStep(taskStep('fixture@1'), job, { timeoutMs: minute });
      assert.equal(record.result, 'Succeeded');
      assert.equal(record.exitCode, 0);
      assert.deepEqual(lines, ['hello world', '##[error]oops', `cwd=${sources}`]);
      assert.deepEqual(record.inputs, { who: 'world' });
      assert.deepEqual(record.task, { name: 'Fixture', id, version: '1.0.0', handler: 'Node20_1' });
      assert.equal(record.environment['INPUT_WHO'], 'world');
      assert.equal(record.environment['TF_BUILD'], 'True');
      assert.equal(record.environment['HOME'], undefined, 'the inherited agent env is not recorded');
      assert.ok(record.durationMs >= 0 && record.finishedAt >= record.startedAt);
    },
  ));

test('a non-zero exit fails the step whatever task.complete said', () =>
  withTask(
    { source: `console.log('##vso[task.complete result=Succeeded;]all good'); process.exit(3);` },
    async ({ job }) => {
      const record = await runTaskStep(taskStep('Fixture@1'), job, { timeoutMs: minute });
      assert.equal(record.result, 'Failed');
      assert.equal(record.exitCode, 3);
      assert.ok(
        record.issues.some((i) => i.type === 'error' && /^Exit code 3 returned from process/.test(i.message)),
      );
    },
  ));

test('task.complete decides the result on exit 0; its message is recorded', () =>
  withTask(
    { source: `console.error('##vso[task.complete result=SucceededWithIssues;]partly');` },
    async ({ job }) => {
      const record = await runTaskStep(taskStep('Fixture@1'), job, { timeoutMs: minute });
      assert.equal(record.result, 'SucceededWithIssues', 'commands on stderr are processed too');
      assert.equal(record.message, 'partly');
    },
  ));

test('Node24 is preferred over Node20_1; deprecated-only handlers warn', async () => {
  await withTask(
    {
      execution: { Node20_1: { target: 'old.js' }, Node24: { target: 'index.js' } },
      source: `console.log('new')`,
    },
    async ({ job, lines }) => {
      const record = await runTaskStep(taskStep('Fixture@1'), job, { timeoutMs: minute });
      assert.equal(record.task?.handler, 'Node24');
      assert.deepEqual(lines, ['new']);
    },
  );
  await withTask(
    { execution: { Node10: { target: 'index.js' } }, source: `console.log('old')` },
    async ({ job }) => {
      const record = await runTaskStep(taskStep('Fixture@1'), job, { timeoutMs: minute });
      assert.equal(record.task?.handler, 'Node10');
      assert.equal(record.result, 'Succeeded');
      assert.match(record.issues[0]?.message ?? '', /end-of-life Node10/);
    },
  );
});

test('the handler workingDirectory is the cwd when declared', () =>
  withTask(
    {
      execution: { Node20_1: { target: 'index.js', workingDirectory: '$(currentDirectory)/wd' } },
      source: `console.log(process.cwd())`,
    },
    async ({ job, lines, tasksDir }) => {
      await mkdir(join(tasksDir, 'Fixture', 'wd'));
      await runTaskStep(taskStep('Fixture@1'), job, { timeoutMs: minute });
      assert.deepEqual(lines, [join(tasksDir, 'Fixture', 'wd')]);
    },
  ));

test('a timeout interrupts the process tree and fails the step', () =>
  withTask(
    {
      source: `process.on('SIGINT', () => { console.log('got SIGINT'); process.exit(130); }); console.log('started'); setInterval(() => {}, 1000);`,
    },
    async ({ job, lines }) => {
      const record = await runTaskStep(taskStep('Fixture@1'), job, { timeoutMs: 1500 });
      assert.equal(record.result, 'Failed');
      assert.equal(record.message, 'The step exceeded its timeout of 0.03 minutes.');
      assert.deepEqual(lines.slice(0, 2), ['started', 'got SIGINT']);
    },
  ));

test('a process ignoring SIGINT is killed after the grace period', () =>
  withTask(
    { source: `process.on('SIGINT', () => {}); console.log('started'); setInterval(() => {}, 1000);` },
    async ({ job }) => {
      const started = Date.now();
      const record = await runTaskStep(taskStep('Fixture@1'), job, { timeoutMs: 1000, timeoutGraceMs: 300 });
      assert.equal(record.result, 'Failed');
      assert.ok(Date.now() - started < 5000);
    },
  ));

test('cancellation sends SIGINT, lets the task finish, and marks the step Canceled', () =>
  withTask(
    {
      source: `process.on('SIGINT', () => { setTimeout(() => { console.log('rolled back'); process.exit(1); }, 200); }); console.log('deploying'); setInterval(() => {}, 1000);`,
    },
    async ({ job, lines, cancel }) => {
      const running = runTaskStep(taskStep('Fixture@1'), job, { timeoutMs: minute });
      while (!lines.includes('deploying')) await new Promise((r) => setTimeout(r, 20));
      cancel.abort();
      const record = await running;
      assert.equal(record.result, 'Canceled');
      assert.ok(lines.includes('rolled back'), 'the task had time to stop what it started');
    },
  ));

test('task.complete done=true stops waiting for the process', () =>
  withTask(
    {
      source: `console.log('##vso[task.complete result=Succeeded;done=true]finished early'); setInterval(() => console.log('still here'), 50);`,
    },
    async ({ job, lines }) => {
      const started = Date.now();
      const record = await runTaskStep(taskStep('Fixture@1'), job, { timeoutMs: minute });
      assert.equal(record.result, 'Succeeded');
      assert.equal(record.message, 'finished early');
      assert.ok(Date.now() - started < 5000);
      assert.ok(!lines.includes('still here'));
    },
  ));

test('an unknown task fails the step with the catalog error instead of throwing', async () => {
  const ctx = await createTestJob();
  try {
    const record = await runTaskStep(taskStep('Nope@1'), ctx.job, { timeoutMs: minute });
    assert.equal(record.result, 'Failed');
    assert.match(record.message ?? '', /Nope@1/);
    assert.equal(record.issues[0]?.type, 'error');
  } finally {
    await ctx.cleanup();
  }
});

test('effects carry to later steps: variables, secrets as SECRET_, outputs as $(step.var), PATH prepends', () =>
  withTask(
    {
      outputVariables: ['Url'],
      inputs: [{ name: 'echo', type: 'string' }],
      source: [
        `const e = process.env;`,
        `if (!e.INPUT_ECHO) {`,
        `  console.log('##vso[task.setvariable variable=plain]p1');`,
        `  console.log('##vso[task.setvariable variable=pwd;issecret=true]topsecret1');`,
        `  console.log('##vso[task.setvariable variable=Url]http://site');`,
        `  console.log('##vso[task.prependpath]/opt/tool/bin');`,
        `} else {`,
        `  console.log(['echo=' + e.INPUT_ECHO, 'plain=' + e.PLAIN, 'pwd=' + e.PWD, 'secret=' + e.SECRET_PWD, 'out=' + e.FIRST_URL, 'path=' + e.PATH.split(':')[0]].join('|'));`,
        `}`,
      ].join('\n'),
    },
    async ({ job, lines }) => {
      const first = await runTaskStep(taskStep('Fixture@1', {}, { name: 'first' }), job, {
        timeoutMs: minute,
      });
      assert.equal(first.result, 'Succeeded');
      assert.deepEqual(first.outputs, { Url: 'http://site' });
      assert.equal(job.outputs.get('first.Url'), 'http://site');
      const second = await runTaskStep(
        taskStep('Fixture@1', { echo: '$(first.Url) $(pwd)' }, { name: 'second' }),
        job,
        { timeoutMs: minute },
      );
      assert.equal(second.result, 'Succeeded');
      assert.deepEqual(lines, [
        'echo=http://site ***|plain=p1|pwd=undefined|secret=***|out=http://site|path=/opt/tool/bin',
      ]);
      assert.equal(second.inputs['echo'], 'http://site ***');
      assert.equal(second.environment['SECRET_PWD'], '***');
      assert.equal(second.environment['INPUT_ECHO'], '***', 'an input carrying a secret is redacted');
    },
  ));

test('a task with no Node handler fails clearly', () =>
  withTask({ execution: { PowerShell3: { target: 'x.ps1' } }, source: '' }, async ({ job }) => {
    const record = await runTaskStep(taskStep('Fixture@1'), job, { timeoutMs: minute });
    assert.equal(record.result, 'Failed');
    assert.match(record.issues[0]?.message ?? '', /no Node handler/);
  }));
