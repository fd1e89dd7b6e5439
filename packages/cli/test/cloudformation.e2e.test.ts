// `keyless cloudformation` end to end: the built CLI, credentials through the blog's managed-identity flow,
// against the sandbox's CloudFormation and S3. Nothing is faked on our side of the wire.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  ListChangeSetsCommand,
  UpdateStackCommand,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  leakedSecrets,
  managedIdentityArgs,
  runCli,
  startTestSandbox,
  type CliResult,
  type TestSandbox,
} from './support';

let t: TestSandbox;
let cfn: CloudFormationClient;
let s3: S3Client;
const outputs: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'keyless-cfn-e2e-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function template(
  name: string,
  options: { failOn?: string; reason?: string; padding?: number } = {},
): string {
  const metadata = options.failOn
    ? [
        '    Metadata:',
        '      Keyless::Sandbox:',
        `        FailOn: [${options.failOn}]`,
        `        Reason: "${options.reason ?? 'Simulated outage'}"`,
      ]
    : [];
  const lines = [
    'Parameters:',
    '  Label: {Type: String}',
    '  Env: {Type: String, Default: dev}',
    'Resources:',
    '  Bucket:',
    '    Type: AWS::S3::Bucket',
    ...metadata,
    '    Properties:',
    '      Tags: [{Key: label, Value: !Ref Label}]',
    'Outputs:',
    '  BucketName: {Value: !Ref Bucket}',
    '  Label: {Value: !Sub "${Label}-${Env}"}',
  ];
  // Comments make a template large without changing what it does.
  const padding = options.padding ? [`# ${'x'.repeat(options.padding)}`] : [];
  const path = join(dir, name);
  writeFileSync(path, [...lines, ...padding, ''].join('\n'));
  return path;
}

const appTemplate = () => template('app.yml');

async function deploy(args: string[], timeoutMs = 120_000): Promise<CliResult> {
  const result = await runCli(['cloudformation', 'deploy', ...managedIdentityArgs(t), ...args], {
    timeoutMs,
  });
  outputs.push(result.stdout, result.stderr);
  return result;
}

async function describe(stackName: string): Promise<Stack | undefined> {
  try {
    return (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
  } catch (error) {
    if (/does not exist/.test((error as Error).message)) return undefined;
    throw error;
  }
}

function outputMap(stack: Stack | undefined): Record<string, string> {
  return Object.fromEntries((stack?.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]));
}

/** The error a person sees: from the `error:` line to the end. */
function errorLines(stderr: string): string[] {
  const lines = stderr.trimEnd().split('\n');
  const start = lines.findIndex((line) => line.startsWith('error: '));
  return start < 0 ? [] : lines.slice(start);
}

before(async () => {
  // 2 simulated seconds per resource: operations are observably in progress, and the tests stay quick.
  t = await startTestSandbox({ providerDelaySeconds: 2 });
  const common = { region: 'us-east-1', endpoint: t.url, credentials: t.root };
  cfn = new CloudFormationClient(common);
  s3 = new S3Client({ ...common, forcePathStyle: true });
});
after(() => t.sandbox.close());

test('create, update, then a re-run with no changes that changes nothing and leaves no change set', async () => {
  const created = await deploy([
    '--stack-name',
    'web',
    '--template-file',
    appTemplate(),
    '--parameter-overrides',
    'Label=one',
  ]);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /^BucketName=web-bucket-\w+\nLabel=one-dev\n$/);
  assert.match(created.stderr, /Created CREATE change set keyless-\d+ for stack web/);
  assert.match(created.stderr, /CREATE_COMPLETE {2}AWS::S3::Bucket {2}Bucket/);

  const updated = await deploy([
    '--stack-name',
    'web',
    '--template-file',
    appTemplate(),
    '--parameter-overrides',
    'Label=two',
    '--outputs-json',
    join(dir, 'out.json'),
  ]);
  assert.equal(updated.code, 0, updated.stderr);
  assert.match(updated.stdout, /Label=two-dev/);
  assert.equal(statSync(join(dir, 'out.json')).mode & 0o777, 0o600, 'outputs may hold secrets');
  assert.match(updated.stderr, /1 to add|0 to add, 1 to modify/);
  const before = await describe('web');
  assert.equal(before?.StackStatus, 'UPDATE_COMPLETE');

  // Label not given: it keeps its previous value (UsePreviousValue), so nothing changes.
  const again = await deploy([
    '--stack-name',
    'web',
    '--template-file',
    appTemplate(),
    '--build-id',
    '20250101.7',
  ]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(
    again.stderr,
    /No changes to deploy: stack web is up to date \(the empty change set keyless-20250101-7 was deleted\)/,
  );
  assert.match(again.stdout, /Label=two-dev/);
  const afterRerun = await describe('web');
  assert.equal(afterRerun?.LastUpdatedTime?.getTime(), before?.LastUpdatedTime?.getTime());
  // Only the change set of the last real update may remain (executed); the empty one is gone.
  const changeSets = (await cfn.send(new ListChangeSetsCommand({ StackName: 'web' }))).Summaries ?? [];
  assert.deepEqual(
    changeSets.filter((summary) => summary.ExecutionStatus !== 'EXECUTE_COMPLETE'),
    [],
  );
  assert.ok(!changeSets.some((summary) => summary.ChangeSetName === 'keyless-20250101-7'));
});

test('a resource failing during an update: the reason is shown and the stack rolls back with its outputs intact', async () => {
  const failing = template('failing-update.yml', {
    failOn: 'update',
    reason: 'Bucket policy service unavailable',
  });
  const result = await deploy([
    '--stack-name',
    'web',
    '--template-file',
    failing,
    '--parameter-overrides',
    'Label=three',
  ]);
  assert.equal(result.code, 1, result.stderr);
  const lines = errorLines(result.stderr);
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.match(
    lines[0]!,
    /^error: Stack web update failed \(UPDATE_ROLLBACK_COMPLETE\): Bucket \(AWS::S3::Bucket\) UPDATE_FAILED: .*Bucket policy service unavailable/,
  );
  assert.match(lines[1]!, /Fix: The stack was rolled back to its previous state/);
  const stack = await describe('web');
  assert.equal(stack?.StackStatus, 'UPDATE_ROLLBACK_COMPLETE');
  assert.equal(outputMap(stack).Label, 'two-dev');
});

test('a stack busy with another update is waited out, then deployed', async () => {
  // The busy update adds a chain of five dependent resources (2 s each), so it stays in progress for ~10 s:
  // long enough that the CLI, however slowly it starts, finds the stack busy.
  const chain = Array.from({ length: 5 }, (_, i) =>
    [
      `  Step${i}:`,
      '    Type: AWS::SSM::Parameter',
      ...(i > 0 ? [`    DependsOn: Step${i - 1}`] : []),
      `    Properties: {Type: String, Value: busy-${i}}`,
    ].join('\n'),
  ).join('\n');
  const busyTemplate = readFileSync(appTemplate(), 'utf8').replace('Outputs:', `${chain}\nOutputs:`);
  await cfn.send(
    new UpdateStackCommand({
      StackName: 'web',
      TemplateBody: busyTemplate,
      Parameters: [{ ParameterKey: 'Label', ParameterValue: 'busy' }],
    }),
  );
  assert.equal((await describe('web'))?.StackStatus, 'UPDATE_IN_PROGRESS');
  const result = await deploy([
    '--stack-name',
    'web',
    '--template-file',
    appTemplate(),
    '--parameter-overrides',
    'Label=four',
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stderr,
    /Stack web is busy \(UPDATE_IN_PROGRESS\); waiting for that operation to finish first/,
  );
  assert.match(result.stdout, /Label=four-dev/);
});

test('a stack left in ROLLBACK_COMPLETE is deleted and created again', async () => {
  const failed = await deploy([
    '--stack-name',
    'phoenix',
    '--template-file',
    template('failing-create.yml', { failOn: 'create' }),
    '--parameter-overrides',
    'Label=x',
  ]);
  assert.equal(failed.code, 1);
  assert.match(
    errorLines(failed.stderr)[0]!,
    /Stack phoenix create failed \(ROLLBACK_COMPLETE\): Bucket \(AWS::S3::Bucket\) CREATE_FAILED: .*Simulated outage/,
  );
  assert.equal((await describe('phoenix'))?.StackStatus, 'ROLLBACK_COMPLETE');

  const refused = await deploy([
    '--stack-name',
    'phoenix',
    '--template-file',
    appTemplate(),
    '--parameter-overrides',
    'Label=x',
    '--no-recreate-rollback-complete',
  ]);
  assert.equal(refused.code, 1);
  assert.match(errorLines(refused.stderr)[0]!, /is in ROLLBACK_COMPLETE .* recreating it is disabled/);

  const result = await deploy([
    '--stack-name',
    'phoenix',
    '--template-file',
    appTemplate(),
    '--parameter-overrides',
    'Label=x',
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /ROLLBACK_COMPLETE \(a failed creation\): deleting it/);
  assert.equal((await describe('phoenix'))?.StackStatus, 'CREATE_COMPLETE');
});

test('a template over 51,200 bytes goes through S3 under a content-hash key', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'keyless-templates' }));
  const large = template('large.yml', { padding: 60_000 });
  const missingBucket = await deploy([
    '--stack-name',
    'big',
    '--template-file',
    large,
    '--parameter-overrides',
    'Label=big',
  ]);
  assert.equal(missingBucket.code, 2);
  assert.match(
    errorLines(missingBucket.stderr)[0]!,
    /large\.yml is 60,\d{3} bytes, over the 51,200-byte limit/,
  );

  const result = await deploy([
    '--stack-name',
    'big',
    '--template-file',
    large,
    '--parameter-overrides',
    'Label=big',
    '--bucket',
    'keyless-templates',
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stderr,
    /Uploaded the template to s3:\/\/keyless-templates\/keyless\/templates\/big\/[0-9a-f]{64}\.template/,
  );
  assert.match(result.stdout, /Label=big-dev/);
  const listed = await s3.send(
    new ListObjectsV2Command({ Bucket: 'keyless-templates', Prefix: 'keyless/templates/big/' }),
  );
  assert.equal(listed.KeyCount, 1);
});

test('input mistakes fail in one or two lines, with exit code 2, before the stack changes', async () => {
  const before = await describe('web');
  const iam = join(dir, 'iam.yml');
  writeFileSync(
    iam,
    'Resources:\n  DeployRole:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: []}\n',
  );
  const malformed = join(dir, 'infrastructure.yml');
  writeFileSync(malformed, 'Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n   Properties: {}\n');

  const cases: Array<{ args: string[]; stack: string; pattern: RegExp }> = [
    {
      args: ['--template-file', iam],
      stack: 'iam-stack',
      pattern: /needs CAPABILITY_IAM acknowledged: it creates IAM resources: DeployRole \(AWS::IAM::Role\)/,
    },
    {
      args: ['--template-file', appTemplate(), '--parameter-overrides', 'Lable=x'],
      stack: 'web',
      pattern: /does not declare parameter Lable; valid parameters: Label, Env/,
    },
    {
      args: ['--template-file', appTemplate()],
      stack: 'fresh',
      pattern: /Parameter Label has no value: the template gives no default/,
    },
    {
      args: ['--template-file', malformed],
      stack: 'web',
      pattern: /infrastructure\.yml line 4, column \d+: /,
    },
  ];
  for (const { args, stack, pattern } of cases) {
    const result = await deploy(['--stack-name', stack, ...args]);
    assert.equal(result.code, 2, result.stderr);
    const lines = errorLines(result.stderr);
    assert.ok(lines.length >= 1 && lines.length <= 2, lines.join('\n'));
    assert.match(lines[0]!, pattern);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  }
  assert.equal(await describe('iam-stack'), undefined);
  assert.equal(await describe('fresh'), undefined);
  const afterMistakes = await describe('web');
  assert.equal(afterMistakes?.LastUpdatedTime?.getTime(), before?.LastUpdatedTime?.getTime());
  assert.equal(afterMistakes?.StackStatus, before?.StackStatus);
});

test('--no-execute creates the change set and stops; delete is idempotent', async () => {
  const preview = await deploy([
    '--stack-name',
    'web',
    '--template-file',
    appTemplate(),
    '--parameter-overrides',
    'Label=five',
    '--no-execute',
    '--change-set-name',
    'review-me',
  ]);
  assert.equal(preview.code, 0, preview.stderr);
  assert.match(preview.stderr, /Change set review-me for stack web: 0 to add, 1 to modify, 0 to remove/);
  assert.match(preview.stderr, /Not executing change set review-me/);
  const summaries = (await cfn.send(new ListChangeSetsCommand({ StackName: 'web' }))).Summaries ?? [];
  assert.deepEqual(
    summaries
      .filter((summary) => summary.ExecutionStatus === 'AVAILABLE')
      .map((summary) => summary.ChangeSetName),
    ['review-me'],
  );
  assert.equal(outputMap(await describe('web')).Label, 'four-dev');

  for (const expected of [/Stack phoenix deleted/, /Stack phoenix does not exist; nothing to delete/]) {
    const result = await runCli(
      ['cloudformation', 'delete', ...managedIdentityArgs(t), '--stack-name', 'phoenix'],
      { timeoutMs: 60_000 },
    );
    outputs.push(result.stdout, result.stderr);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, expected);
  }
});

test('no secret appears in any output', () => {
  assert.deepEqual(leakedSecrets([...outputs, ...t.logs], t.secrets), []);
});
