// `keyless codedeploy` end to end: the built CLI, credentials through the blog's managed-identity flow, against
// the sandbox's S3, EC2 fleet and CodeDeploy (real agents running real hook scripts on simulated instances).
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  GetDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { EC2Client } from '@aws-sdk/client-ec2';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  createTaggedDeploymentGroup,
  launchTaggedInstances,
} from '../../sandbox/src/codedeploy/test-support';
import {
  leakedSecrets,
  managedIdentityArgs,
  runCli,
  startTestSandbox,
  type CliResult,
  type TestSandbox,
} from './support';

/** One simulated minute lasts a second: agent polling and waits are scaled, hooks run for real. */
const TIME_SCALE = 60;
const APP = 'sample-app';
const BUCKET = 'keyless-bundles';
const EMPTY_BUCKET = 'keyless-refused';
const SERVICE_ROLE = 'arn:aws:iam::210987654321:role/CodeDeployServiceRole';

let t: TestSandbox;
let codedeploy: CodeDeployClient;
let s3: S3Client;
const outputs: string[] = [];
const root = mkdtempSync(join(tmpdir(), 'keyless-codedeploy-e2e-'));
after(() => rmSync(root, { recursive: true, force: true }));

function writeTree(dir: string, files: Record<string, string>): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
    if (path.endsWith('.sh')) chmodSync(join(dir, path), 0o755);
  }
  return dir;
}

const appspec = (extra = '') =>
  [
    'version: 0.0',
    'os: linux',
    'files:',
    '  - source: app',
    '    destination: /opt/sample-app',
    'hooks:',
    '  BeforeInstall:',
    '    - location: scripts/before.sh',
    '      timeout: 300',
    '  ApplicationStart:',
    '    - location: scripts/start.sh',
    '      timeout: 300',
    '  ValidateService:',
    '    - location: scripts/validate.sh',
    '      timeout: 300',
    extra,
  ].join('\n');

/** The sample application: its files, and hooks that record, start and validate it. */
function sampleApp(
  name: string,
  options: { version: string; failValidate?: boolean; beforeSleep?: number },
): string {
  const dir = join(root, name);
  return writeTree(dir, {
    'appspec.yml': appspec(),
    'app/VERSION': `${options.version}\n`,
    'scripts/before.sh': `#!/bin/bash\necho "before install of ${options.version}"\nsleep ${options.beforeSleep ?? 0}\n`,
    'scripts/start.sh': `#!/bin/bash\necho "started ${options.version} on \${KEYLESS_INSTANCE_PORT:-80}"\n`,
    'scripts/validate.sh': options.failValidate
      ? `#!/bin/bash\necho "checking ${options.version}"\necho "health check failed: ${options.version} answered 503" >&2\nexit 7\n`
      : `#!/bin/bash\ntest -f "\${KEYLESS_INSTANCE_ROOT:-}/opt/sample-app/VERSION" && echo "validated ${options.version}"\n`,
    '.git/HEAD': 'ref: refs/heads/main\n',
  });
}

async function deploy(args: string[], timeoutMs = 180_000): Promise<CliResult> {
  const result = await runCli(['codedeploy', 'deploy', ...managedIdentityArgs(t), ...args], { timeoutMs });
  outputs.push(result.stdout, result.stderr);
  return result;
}

async function launchInstances(tag: string, count: number): Promise<string[]> {
  return launchTaggedInstances(
    new EC2Client({ endpoint: t.url, region: 'us-east-1', credentials: t.root }),
    tag,
    count,
  );
}

async function group(name: string, tag: string, autoRollback: boolean): Promise<void> {
  await createTaggedDeploymentGroup(codedeploy, {
    applicationName: APP,
    deploymentGroupName: name,
    tag,
    serviceRoleArn: SERVICE_ROLE,
    autoRollback,
  });
}

before(async () => {
  t = await startTestSandbox({ timeScale: TIME_SCALE });
  const common = { endpoint: t.url, region: 'us-east-1', credentials: t.root };
  codedeploy = new CodeDeployClient(common);
  s3 = new S3Client({ ...common, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new CreateBucketCommand({ Bucket: EMPTY_BUCKET }));
  await codedeploy.send(new CreateApplicationCommand({ applicationName: APP, computePlatform: 'Server' }));
  await Promise.all([launchInstances('web', 2), launchInstances('failing', 2), launchInstances('busy', 1)]);
  await group('web', 'web', false);
  await group('failing', 'failing', true);
  await group('busy', 'busy', false);
});

after(async () => {
  await t?.sandbox.close();
  const leaks = leakedSecrets(outputs, t?.secrets ?? []);
  assert.deepEqual(leaks, [], 'no secret reaches any output');
});

test('in-place deployment of a workspace folder to two instances: validated, zipped, uploaded, followed', async () => {
  const dir = sampleApp('v1', { version: 'v1' });
  const result = await deploy([
    '--application',
    APP,
    '--deployment-group',
    'web',
    '--bundle',
    dir,
    '--bucket',
    BUCKET,
    '--bundle-prefix',
    'deployments',
    '--description',
    'e2e v1',
  ]);
  assert.equal(result.code, 0, result.stderr);
  const id = /^deploymentId=(d-[A-Z0-9]{9})$/m.exec(result.stdout)?.[1];
  assert.ok(id, result.stdout);
  assert.match(result.stderr, /Checked appspec\.yml/);
  assert.match(
    result.stderr,
    /Uploaded the bundle to s3:\/\/keyless-bundles\/deployments\/sample-app-[0-9a-f]{16}\.zip/,
  );
  const events = result.stderr.match(/i-[0-9a-f]{17} ValidateService Succeeded/g) ?? [];
  assert.equal(new Set(events).size, 2, `both instances validated:\n${result.stderr}`);
  const info = (await codedeploy.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo;
  assert.equal(info?.status, 'Succeeded');
  assert.equal(info?.deploymentOverview?.Succeeded, 2);
  const location = info?.revision?.s3Location;
  assert.ok(location?.eTag, 'the ETag is pinned in the revision');
  // The zip in S3 keeps hook scripts executable and leaves .git out.
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'deployments/' }));
  assert.equal(listed.KeyCount, 1);

  // Same content again: the upload is skipped and the deployment still runs.
  const again = await deploy([
    '--application',
    APP,
    '--deployment-group',
    'web',
    '--bundle',
    dir,
    '--bucket',
    BUCKET,
    '--bundle-prefix',
    'deployments',
  ]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /already in s3:\/\/keyless-bundles\/deployments\/.*not uploading it again/);
});

test('a failing ValidateService exits 1 with the script, its exit code, the log tail and the rollback', async () => {
  const good = await deploy([
    '--application',
    APP,
    '--deployment-group',
    'failing',
    '--bundle',
    sampleApp('f1', { version: 'v1' }),
    '--bucket',
    BUCKET,
  ]);
  assert.equal(good.code, 0, good.stderr);
  const result = await deploy([
    '--application',
    APP,
    '--deployment-group',
    'failing',
    '--bundle',
    sampleApp('f2', { version: 'v2', failValidate: true }),
    '--bucket',
    BUCKET,
  ]);
  assert.equal(result.code, 1, result.stderr);
  const error = result.stderr.slice(result.stderr.indexOf('error: '));
  assert.match(error, /^error: Deployment d-[A-Z0-9]{9} to sample-app\/failing failed \([A-Z_]+\):/);
  assert.match(error, /ValidateService failed: ScriptFailed, script scripts\/validate\.sh, exit code 7/);
  assert.match(error, /health check failed: v2 answered 503/);
  assert.match(error, /Automatic rollback: deployment d-[A-Z0-9]{9}/);
  assert.match(error, /Fix: Correct the failing hook script/);
});

test('bad bundles are refused before anything is uploaded', async () => {
  const base = (name: string, files: Record<string, string>) =>
    writeTree(join(root, name), {
      'app/VERSION': 'v\n',
      'scripts/before.sh': '#!/bin/sh\n',
      'scripts/start.sh': '#!/bin/sh\n',
      'scripts/validate.sh': '#!/bin/sh\n',
      ...files,
    });
  const cases: Array<[string, string, RegExp]> = [
    [
      'missing-appspec',
      base('missing-appspec', { 'deploy/appspec.yml': appspec() }),
      /no appspec\.yml at the root .*found deploy\/appspec\.yml/,
    ],
    [
      'quoted-version',
      base('quoted-version', { 'appspec.yml': appspec().replace('version: 0.0', "version: '0.0'") }),
      /appspec\.yml:1:10: version is quoted/,
    ],
    [
      'unknown-hook',
      base('unknown-hook', {
        'appspec.yml': `${appspec()}\n  AfterDeploy:\n    - location: scripts/start.sh`,
      }),
      /appspec\.yml:\d+:3: unknown hook "AfterDeploy"; EC2\/on-premises hooks are: ApplicationStop/,
    ],
    [
      'missing-script',
      base('missing-script', { 'appspec.yml': appspec().replace('scripts/validate.sh', 'scripts/check.sh') }),
      /hook ValidateService: script scripts\/check\.sh is not in the bundle/,
    ],
    [
      'disallow-conflict',
      base('disallow-conflict', {
        'appspec.yml': appspec().replace(
          'files:',
          'files:\n  - source: app/VERSION\n    destination: /opt/sample-app',
        ),
      }),
      /both install \/opt\/sample-app\/VERSION/,
    ],
  ];
  for (const [name, dir, expected] of cases) {
    const result = await deploy([
      '--application',
      APP,
      '--deployment-group',
      'web',
      '--bundle',
      dir,
      '--bucket',
      EMPTY_BUCKET,
    ]);
    assert.equal(result.code, 2, `${name}: ${result.stderr}`);
    assert.match(result.stderr, expected, name);
  }
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: EMPTY_BUCKET }));
  assert.equal(listed.KeyCount ?? 0, 0, 'nothing was uploaded');
});

test('a group busy with another deployment is waited for, then ours succeeds', async () => {
  // Someone else's deployment, slow in BeforeInstall, started directly with the SDK.
  const slowDir = sampleApp('slow', { version: 'slow', beforeSleep: 4 });
  spawnSync('zip', ['-qr', join(root, 'slow.zip'), '.'], { cwd: slowDir });
  const put = await s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: 'other/slow.zip',
      Body: readFileSync(join(root, 'slow.zip')),
    }),
  );
  const other = await codedeploy.send(
    new CreateDeploymentCommand({
      applicationName: APP,
      deploymentGroupName: 'busy',
      revision: {
        revisionType: 'S3',
        s3Location: {
          bucket: BUCKET,
          key: 'other/slow.zip',
          bundleType: 'zip',
          eTag: put.ETag?.replace(/"/g, ''),
        },
      },
    }),
  );
  const result = await deploy([
    '--application',
    APP,
    '--deployment-group',
    'busy',
    '--bundle',
    sampleApp('b2', { version: 'v2' }),
    '--bucket',
    BUCKET,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stderr,
    new RegExp(`busy with deployment ${other.deploymentId} \\(not ours; Keyless never stops it\\)`),
  );
  const blocker = (await codedeploy.send(new GetDeploymentCommand({ deploymentId: other.deploymentId })))
    .deploymentInfo;
  assert.equal(blocker?.status, 'Succeeded', 'the other deployment was left to finish');
});

test('codedeploy local runs the lifecycle on a throwaway instance with the sandbox agent', async () => {
  const dir = sampleApp('local', { version: 'local' });
  const result = await runCli(['codedeploy', 'local', dir], { timeoutMs: 60_000 });
  outputs.push(result.stdout, result.stderr);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /ValidateService Succeeded/);
  assert.match(result.stderr, /Local deployment d-[A-Z0-9]{9}-local succeeded/);

  // --events as in the help: DownloadBundle and Install run anyway (the others need the unpacked revision).
  const chosen = await runCli(
    ['codedeploy', 'local', dir, '--events', 'BeforeInstall', 'ApplicationStart', 'ValidateService'],
    { timeoutMs: 60_000 },
  );
  outputs.push(chosen.stdout, chosen.stderr);
  assert.equal(chosen.code, 0, chosen.stderr);
  assert.deepEqual(
    [...chosen.stderr.matchAll(/^ {2}(\w+) Succeeded/gm)].map((match) => match[1]),
    ['DownloadBundle', 'BeforeInstall', 'Install', 'ApplicationStart', 'ValidateService'],
  );

  const failing = await runCli(
    ['codedeploy', 'local', sampleApp('local-fail', { version: 'x', failValidate: true })],
    { timeoutMs: 60_000 },
  );
  outputs.push(failing.stdout, failing.stderr);
  assert.equal(failing.code, 1);
  assert.match(
    failing.stderr,
    /ValidateService failed: ScriptFailed, script scripts\/validate\.sh, exit code 7/,
  );
});

test('codedeploy validate exits 0 or 1 with each problem and its line', async () => {
  const ok = await runCli(['codedeploy', 'validate', sampleApp('valid', { version: 'v' })]);
  assert.equal(ok.code, 0, ok.stderr);
  const bad = writeTree(join(root, 'invalid'), { 'appspec.yml': 'version: "0.0"\nos: linux\n' });
  const result = await runCli(['codedeploy', 'validate', bad]);
  outputs.push(ok.stdout, ok.stderr, result.stdout, result.stderr);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /appspec\.yml:1:10: version is quoted/);
});
