import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runTaskStep } from './run-step';
import { nativeTaskFor } from './native-scripts';
import { createTestJob, taskStep } from '../../test/step-fixtures';
import type { TestJob } from '../../test/step-fixtures';
import type { VariableValue } from '../variables';
import type { TaskStep } from '../model';

const minute = 60_000;

async function withJob(fn: (ctx: TestJob) => Promise<void>, variables: VariableValue[] = []): Promise<void> {
  const ctx = await createTestJob({ variables });
  try {
    await fn(ctx);
  } finally {
    await ctx.cleanup();
  }
}

function script(text: string, extra: Partial<TaskStep> = {}): TaskStep {
  return taskStep('CmdLine@2', { script: text }, extra);
}

test('Bash@3 and CmdLine@2 resolve natively by name (any case) or GUID; other majors do not', () => {
  assert.equal(nativeTaskFor('bash@3')?.name, 'Bash');
  assert.equal(nativeTaskFor('CMDLINE@2')?.name, 'CmdLine');
  assert.equal(nativeTaskFor('6c731c3c-3c68-459a-a5c9-bde6e6595b5b@3')?.name, 'Bash');
  assert.equal(nativeTaskFor('Bash@2'), undefined);
  assert.equal(nativeTaskFor('S3Upload@1'), undefined);
});

test('CmdLine@2 prints the banner, writes the script to the temp folder and succeeds', () =>
  withJob(async ({ job, lines }) => {
    const record = await runTaskStep(script('echo hello from $(Build.BuildNumber)'), job, {
      timeoutMs: minute,
    });
    assert.equal(record.result, 'Succeeded');
    assert.equal(record.task?.handler, 'native');
    assert.equal(record.displayName, 'Command Line Script');
    const files = await readdir(job.directories.temp);
    assert.equal(files.length, 1);
    assert.match(files[0] ?? '', /^[0-9a-f-]{36}\.sh$/);
    assert.deepEqual(lines.slice(0, 4), [
      'Generating script.',
      'Script contents:',
      'echo hello from 20260115.1',
      '========================== Starting Command Output ===========================',
    ]);
    assert.match(lines[4] ?? '', /^\[command\]\/.*bash --noprofile --norc .*\/_temp\/[0-9a-f-]{36}\.sh$/);
    assert.equal(lines[5], 'hello from 20260115.1');
  }));

test('the last command decides (no -e); a non-zero exit fails with the Bash message', () =>
  withJob(async ({ job }) => {
    const ok = await runTaskStep(script('false\necho after'), job, { timeoutMs: minute });
    assert.equal(ok.result, 'Succeeded');
    const failed = await runTaskStep(script('true\nexit 4'), job, { timeoutMs: minute });
    assert.equal(failed.result, 'Failed');
    assert.equal(failed.exitCode, 4);
    assert.equal(failed.message, "Bash exited with code '4'.");
    assert.deepEqual(
      failed.issues.map((i) => i.message),
      ["Bash exited with code '4'."],
    );
  }));

test('stderr is logged; failOnStderr turns any stderr output into a failure', () =>
  withJob(async ({ job, lines }) => {
    const tolerant = await runTaskStep(script('echo oops >&2'), job, { timeoutMs: minute });
    assert.equal(tolerant.result, 'Succeeded');
    assert.ok(lines.includes('oops'));
    const strict = await runTaskStep(
      taskStep('CmdLine@2', { script: 'echo oops >&2', failOnStderr: 'true' }),
      job,
      {
        timeoutMs: minute,
      },
    );
    assert.equal(strict.result, 'Failed');
    assert.equal(strict.message, 'Bash wrote one or more lines to the standard error stream.');
  }));

test('an unknown $(macro) stays literal and bash runs it as command substitution', () =>
  withJob(async ({ job, lines }) => {
    const record = await runTaskStep(script('echo "[$(no_such_thing)]"'), job, { timeoutMs: minute });
    assert.equal(record.result, 'Succeeded', 'echo is the last command');
    assert.ok(lines.includes('[]'));
    assert.ok(lines.some((line) => /no_such_thing: command not found/.test(line)));
  }));

test('secrets are not in the script env unless mapped through env:; printed values are masked', () =>
  withJob(
    async ({ job, lines }) => {
      const record = await runTaskStep(
        script('echo "[$SECRET_DB_PASSWORD][$DB_PASSWORD][$MAPPED][$INPUT_SCRIPT][$PLAIN_VAR]"', {
          env: { MAPPED: '$(db.password)' },
        }),
        job,
        { timeoutMs: minute },
      );
      assert.equal(record.result, 'Succeeded');
      assert.ok(lines.includes('[][][***][][visible]'), lines.join('\n'));
      assert.equal(record.environment['MAPPED'], '***');
      assert.equal(record.environment['INPUT_SCRIPT'], undefined);
      assert.equal(record.environment['SECRET_DB_PASSWORD'], undefined);
    },
    [
      { name: 'db.password', value: 'Sup3rS3cret!', secret: true, readonly: false },
      { name: 'plain.var', value: 'visible', secret: false, readonly: false },
    ],
  ));

test('logging commands from the script are processed; multi-line scripts are not echoed', () =>
  withJob(async ({ job, lines }) => {
    const record = await runTaskStep(
      script('echo "##vso[task.setvariable variable=fromScript]42"\necho done'),
      job,
      { timeoutMs: minute },
    );
    assert.equal(record.result, 'Succeeded');
    assert.equal(job.variables.get('fromScript')?.value, '42');
    assert.ok(!lines.includes('Script contents:'));
    assert.ok(lines.includes('done'));
  }));

test('task.complete done=true from a script ends the step there, as Bash@3 on the agent does', () =>
  withJob(async ({ job, lines }) => {
    const record = await runTaskStep(
      script(
        'echo "##vso[task.complete result=SucceededWithIssues;done=true]stopped early"\nsleep 30\necho never',
      ),
      job,
      { timeoutMs: minute },
    );
    assert.equal(record.result, 'SucceededWithIssues');
    assert.equal(record.message, 'stopped early');
    // Not waited out: the sleep would take 30 s, the step's timeout a minute.
    assert.ok(record.durationMs < 15_000, `${record.durationMs} ms`);
    assert.ok(!lines.includes('never'));
  }));

test('Bash@3 inline runs the script; working directory is honoured', () =>
  withJob(async ({ job, lines, sources, root }) => {
    const record = await runTaskStep(
      taskStep('Bash@3', { targetType: 'inline', script: 'pwd', workingDirectory: root }),
      job,
      { timeoutMs: minute },
    );
    assert.equal(record.result, 'Succeeded');
    assert.ok(lines.includes(root));
    assert.notEqual(root, sources);
  }));

test('Bash@3 filePath mode execs the file with its arguments; a bad path fails', () =>
  withJob(async ({ job, lines, sources }) => {
    await writeFile(join(sources, 'run.sh'), 'echo "args: $1 $2"\nexit 0\n');
    const record = await runTaskStep(
      taskStep('Bash@3', { filePath: 'run.sh', arguments: 'one "two words"' }),
      job,
      {
        timeoutMs: minute,
      },
    );
    assert.equal(record.result, 'Succeeded');
    assert.ok(lines.includes('args: one two words'));
    const missing = await runTaskStep(taskStep('Bash@3', { filePath: 'missing.sh' }), job, {
      timeoutMs: minute,
    });
    assert.equal(missing.result, 'Failed');
    assert.match(missing.message ?? '', /Invalid file path/);
    const empty = await runTaskStep(taskStep('Bash@3', {}), job, { timeoutMs: minute });
    assert.equal(empty.result, 'Failed', 'an empty filePath arrives as the sources directory');
  }));

test('a missing working directory fails before running', () =>
  withJob(async ({ job }) => {
    const record = await runTaskStep(
      taskStep('CmdLine@2', { script: 'echo x', workingDirectory: 'nowhere' }),
      job,
      {
        timeoutMs: minute,
      },
    );
    assert.equal(record.result, 'Failed');
    assert.match(record.message ?? '', /Not found workingDirectory/);
  }));

test('a script that outlives its timeout is stopped and fails', () =>
  withJob(async ({ job }) => {
    const record = await runTaskStep(script('sleep 30'), job, { timeoutMs: 500, timeoutGraceMs: 500 });
    assert.equal(record.result, 'Failed');
    assert.match(record.message ?? '', /exceeded its timeout/);
  }));
