import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatCommand } from '../logging/command';
import { StepOutput } from './process-output';
import { createTestJob } from '../../test/step-fixtures';
import type { TestJob } from '../../test/step-fixtures';
import type { VariableValue } from '../variables';

async function withOutput(
  fn: (ctx: TestJob & { output: StepOutput; doneCalls: number[] }) => Promise<void> | void,
  options: { variables?: VariableValue[]; outputVariables?: string[] } = {},
): Promise<void> {
  const ctx = await createTestJob({ variables: options.variables ?? [] });
  const doneCalls: number[] = [];
  const output = new StepOutput({
    job: ctx.job,
    stepName: 'deploy',
    outputVariables: options.outputVariables ?? [],
    cwd: ctx.sources,
    onDone: () => doneCalls.push(Date.now()),
  });
  try {
    await fn({ ...ctx, output, doneCalls });
  } finally {
    await ctx.cleanup();
  }
}

test('setvariable sets a job variable; the command is not echoed', () =>
  withOutput(({ job, output, lines }) => {
    output.line('##vso[task.setvariable variable=Color]blue');
    output.line('plain text');
    assert.equal(job.variables.get('color')?.value, 'blue');
    assert.deepEqual(lines, ['plain text']);
    assert.deepEqual(output.record.variables, [
      { name: 'Color', value: 'blue', secret: false, output: false, readonly: false },
    ]);
    assert.deepEqual(output.record.commands, [
      { area: 'task', event: 'setvariable', properties: { variable: 'Color' }, data: 'blue' },
    ]);
    assert.equal(output.commandResult, undefined);
  }));

test('escaping: %3B, %0A, %AZP25 decoded; the header ends at the first ]', () =>
  withOutput(({ job, output }) => {
    output.line('##vso[task.setvariable variable=list]a%3Bb%0Ac%AZP25');
    assert.equal(job.variables.get('list')?.value, 'a;b\nc%');
    output.line('##vso[task.setvariable variable=x%5Dy]v');
    assert.equal(job.variables.get('x]y')?.value, 'v');
    // An unescaped ] inside a property ends the header: the rest becomes data.
    output.line('##vso[task.setvariable variable=arr[0]]value');
    assert.equal(job.variables.get('arr[0')?.value, ']value');
    // task-lib's own encoder round-trips.
    output.line(formatCommand('task', 'setvariable', { variable: 'k;1]' }, 'v%;]\r\n'));
    assert.equal(job.variables.get('k;1]')?.value, 'v%;]\r\n');
  }));

test('a secret variable is masked raw, base64- and URL-encoded, and marked secret', () =>
  withOutput(({ job, output, lines }) => {
    const secret = 'S3cr3t/Value+=&';
    output.line(`##vso[task.setvariable variable=token;issecret=true]${secret}`);
    output.line(`raw ${secret}`);
    output.line(`b64 ${Buffer.from(secret).toString('base64')}`);
    output.line(`url ${encodeURIComponent(secret)}`);
    assert.deepEqual(lines, ['raw ***', 'b64 ***', 'url ***']);
    assert.equal(job.variables.get('token')?.secret, true);
    assert.equal(output.record.commands[0]?.data, '***');
    assert.deepEqual(output.record.variables[0], {
      name: 'token',
      value: '***',
      secret: true,
      output: false,
      readonly: false,
    });
    // Once secret, always secret: a later plain write stays secret and masked.
    output.line('##vso[task.setvariable variable=token]second-value');
    output.line('second-value');
    assert.equal(job.variables.get('token')?.secret, true);
    assert.equal(lines.at(-1), '***');
  }));

test('a multi-line secret is rejected and fails the step', () =>
  withOutput(({ job, output }) => {
    output.line('##vso[task.setvariable variable=k;issecret=true]line1%0Aline2');
    assert.equal(job.variables.get('k'), undefined);
    assert.equal(output.commandResult, 'Failed');
  }));

test('setsecret masks what follows, in the log and in issues', () =>
  withOutput(({ output, lines }) => {
    output.line('##vso[task.setsecret]hunter2hunter2');
    output.line('password is hunter2hunter2');
    output.line('##vso[task.logissue type=warning]leaked hunter2hunter2');
    assert.deepEqual(lines, ['password is ***', '##[warning]leaked ***']);
    assert.equal(output.record.issues[0]?.message, 'leaked ***');
  }));

test('isoutput stores only <step>.<var> (read-only) and the job output', () =>
  withOutput(({ job, output }) => {
    output.line('##vso[task.setvariable variable=StackId;isOutput=true]arn:stack/1');
    assert.equal(job.variables.get('StackId'), undefined);
    assert.equal(job.variables.get('deploy.StackId')?.value, 'arn:stack/1');
    assert.equal(job.variables.get('deploy.stackid')?.readonly, true);
    assert.equal(job.outputs.get('deploy.StackId'), 'arn:stack/1');
    assert.deepEqual(output.record.outputs, { StackId: 'arn:stack/1' });
    assert.equal(output.record.variables[0]?.output, true);
  }));

test('a variable listed in task.json outputVariables is an output without isoutput', () =>
  withOutput(
    ({ job, output }) => {
      output.line('##vso[task.setvariable variable=websiteurl]http://x');
      assert.equal(job.variables.get('websiteurl'), undefined);
      assert.equal(job.outputs.get('deploy.websiteurl'), 'http://x');
    },
    { outputVariables: ['WebsiteURL'] },
  ));

test('writing a read-only variable is a warning and changes nothing; isreadonly makes one', () =>
  withOutput(({ job, output }) => {
    output.line('##vso[task.setvariable variable=Build.SourcesDirectory]/elsewhere');
    assert.notEqual(job.variables.get('Build.SourcesDirectory')?.value, '/elsewhere');
    assert.equal(output.record.issues[0]?.type, 'warning');
    assert.match(output.record.issues[0]?.message ?? '', /read-only/);
    output.line('##vso[task.setvariable variable=locked;isreadonly=true]1');
    output.line('##vso[task.setvariable variable=locked]2');
    assert.equal(job.variables.get('locked')?.value, '1');
    assert.equal(output.commandResult, undefined, 'read-only warnings never fail the step');
  }));

test('with agent.readOnlyVariables=true writing a read-only variable fails the step', () =>
  withOutput(
    ({ job, output }) => {
      output.line('##vso[task.setvariable variable=Build.SourcesDirectory]/elsewhere');
      assert.notEqual(job.variables.get('Build.SourcesDirectory')?.value, '/elsewhere');
      assert.equal(output.commandResult, 'Failed');
      assert.match(output.record.issues.at(-1)?.message ?? '', /read-only/);
    },
    { variables: [{ name: 'agent.readOnlyVariables', value: 'true', secret: false, readonly: false }] },
  ));

test('logissue/issue render as ##[error]/##[warning], are recorded, and never fail the step', () =>
  withOutput(({ output, lines }) => {
    output.line(
      '##vso[task.logissue type=error;sourcepath=src/a.ts;linenumber=3;columnnumber=7;code=E1]broken',
    );
    output.line('##vso[task.issue type=Warning]careful');
    assert.deepEqual(lines, ['##[error]broken', '##[warning]careful']);
    assert.deepEqual(output.record.issues, [
      {
        type: 'error',
        message: 'broken',
        code: 'E1',
        sourcePath: 'src/a.ts',
        lineNumber: 3,
        columnNumber: 7,
      },
      { type: 'warning', message: 'careful' },
    ]);
    assert.equal(output.commandResult, undefined);
  }));

test('complete merges worst-wins; done=true stops listening', () =>
  withOutput(({ output, doneCalls, lines }) => {
    output.line('##vso[task.complete result=SucceededWithIssues;]half');
    assert.equal(output.commandResult, 'SucceededWithIssues');
    output.line('##vso[task.complete result=Succeeded;]better?');
    assert.equal(output.commandResult, 'SucceededWithIssues', 'a better result does not win');
    output.line('##vso[task.complete result=Failed;done=true]it broke');
    assert.equal(output.commandResult, 'Failed');
    assert.equal(output.completeMessage, 'it broke');
    assert.equal(doneCalls.length, 1);
    output.line('after done');
    assert.deepEqual(lines, []);
    assert.deepEqual(output.record.progress, { value: 100, operation: 'it broke' });
  }));

test("task-lib's 'Cancelled' spelling is rejected and fails the step with errors", () =>
  withOutput(({ output, lines }) => {
    output.line('##vso[task.complete result=Cancelled;]stop');
    assert.equal(output.commandResult, 'Failed');
    assert.equal(output.record.issues.length, 2);
    assert.match(
      lines[0] ?? '',
      /^##\[error\]Unable to process command '##vso\[task\.complete result=Cancelled;\]stop'/,
    );
    assert.match(lines[1] ?? '', /Cancelled/);
  }));

test('Canceled is sticky once merged', () =>
  withOutput(({ output }) => {
    output.line('##vso[task.complete result=Canceled]');
    output.line('##vso[task.complete result=Failed]');
    assert.equal(output.commandResult, 'Canceled');
  }));

test('unknown area warns; unknown event in a known area fails; malformed ##vso warns and prints', () =>
  withOutput(({ output, lines }) => {
    output.line('##vso[bogus.thing]x');
    assert.equal(output.commandResult, undefined);
    assert.equal(output.record.issues[0]?.type, 'warning');
    output.line('##vso[nodot]x');
    assert.equal(output.record.issues[1]?.type, 'warning');
    assert.equal(lines.at(-1), '##vso[nodot]x', 'an unparsable line is still printed');
    output.line('##vso[task.frobnicate]x');
    assert.equal(output.commandResult, 'Failed');
    assert.equal(output.record.issues.at(-1)?.type, 'error');
  }));

test('setprogress is clamped; prependpath is newest first without duplicates', () =>
  withOutput(({ job, output }) => {
    output.line('##vso[task.setprogress value=150;]Uploading');
    assert.deepEqual(output.record.progress, { value: 100, operation: 'Uploading' });
    output.line('##vso[task.setprogress value=-5;]x');
    assert.equal(output.record.progress?.value, 0);
    output.line('##vso[task.prependpath]/opt/a');
    output.line('##vso[task.prependpath]/opt/b');
    output.line('##vso[task.prependpath]/opt/a');
    assert.deepEqual(job.pathPrepends, ['/opt/a', '/opt/b']);
  }));

test('file commands copy into the run files folder; a missing file is a warning', () =>
  withOutput(async ({ job, output, sources }) => {
    await writeFile(join(sources, 'summary.md'), '# Deployed');
    await writeFile(join(sources, 'trace.log'), 'log line');
    output.line(`##vso[task.uploadsummary]${join(sources, 'summary.md')}`);
    output.line('##vso[task.uploadfile]trace.log');
    output.line(
      `##vso[task.addattachment type=Distributedtask.Core.Summary;name=My Summary]${join(sources, 'summary.md')}`,
    );
    output.line(`##vso[build.uploadlog]${join(sources, 'trace.log')}`);
    output.line('##vso[task.uploadfile]/does/not/exist.txt');
    assert.deepEqual(
      output.record.files.map((f) => [f.kind, f.name]),
      [
        ['summary', 'summary.md'],
        ['file', 'trace.log'],
        ['attachment', 'My Summary'],
        ['log', 'trace.log'],
      ],
    );
    for (const file of output.record.files) {
      assert.ok(file.path.startsWith(job.directories.files));
    }
    assert.equal(await readFile(output.record.files[0]!.path, 'utf8'), '# Deployed');
    assert.equal(await readFile(output.record.files[1]!.path, 'utf8'), 'log line');
    assert.equal(output.record.issues.length, 1);
    assert.equal(output.record.issues[0]?.type, 'warning');
    assert.equal(output.commandResult, undefined);
    // addattachment without its required name fails the step.
    output.line(`##vso[task.addattachment type=x]${join(sources, 'summary.md')}`);
    assert.equal(output.commandResult, 'Failed');
  }));

test('artifact.upload copies the path under the artifact name', () =>
  withOutput(async ({ output, sources }) => {
    await writeFile(join(sources, 'bundle.zip'), 'zip');
    output.line(`##vso[artifact.upload artifactname=drop]${join(sources, 'bundle.zip')}`);
    assert.equal(output.record.files[0]?.name, 'drop/bundle.zip');
    assert.equal(await readFile(output.record.files[0]!.path, 'utf8'), 'zip');
  }));

test('build number and tags', () =>
  withOutput(({ job, output, buildNumbers }) => {
    output.line('##vso[build.updatebuildnumber]1.2.3');
    output.line('##vso[build.addbuildtag]deployed');
    output.line('##vso[build.addbuildtag]deployed');
    assert.deepEqual(buildNumbers, ['1.2.3']);
    assert.deepEqual(job.buildTags, ['deployed']);
  }));

test('debug lines and Processed: lines appear only with System.Debug=true', async () => {
  await withOutput(({ output, lines }) => {
    output.line('##vso[task.debug]detail');
    assert.deepEqual(lines, []);
  });
  await withOutput(
    ({ output, lines }) => {
      output.line('##vso[task.debug]detail');
      assert.deepEqual(lines, ['##[debug]detail', '##[debug]Processed: ##vso[task.debug]detail']);
    },
    { variables: [{ name: 'System.Debug', value: 'True', secret: false, readonly: false }] },
  );
});

test('formatting lines pass through unchanged and create no issues', () =>
  withOutput(({ output, lines }) => {
    for (const line of ['##[group]Deploy', '##[warning]looks odd', '##[error]not really', '##[endgroup]'])
      output.line(line);
    assert.deepEqual(lines, [
      '##[group]Deploy',
      '##[warning]looks odd',
      '##[error]not really',
      '##[endgroup]',
    ]);
    assert.deepEqual(output.record.issues, []);
    assert.equal(output.commandResult, undefined);
  }));

test('stream splitting: partial lines, CRLF, split UTF-8, both streams independent', () =>
  withOutput(({ job, output, lines }) => {
    const euro = Buffer.from('€');
    output.write('stdout', Buffer.from('first li'));
    output.write('stderr', Buffer.from('err one\r\nerr '));
    output.write('stdout', Buffer.concat([Buffer.from('ne\r\nprice 5'), euro.subarray(0, 1)]));
    output.write(
      'stdout',
      Buffer.concat([euro.subarray(1), Buffer.from('\n##vso[task.setvariable variable=a]1\r\n')]),
    );
    output.write('stderr', Buffer.from('two'));
    output.end('stdout');
    output.end('stderr');
    assert.deepEqual(lines, ['err one', 'first line', 'price 5€', 'err two']);
    assert.equal(job.variables.get('a')?.value, '1');
  }));
