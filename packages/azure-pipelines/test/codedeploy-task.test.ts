// CodeDeployDeployApplication@1 end to end: the task entry run as the agent runs it, against the sandbox's
// S3, EC2 fleet, load balancers and CodeDeploy (real agents running real hook scripts on simulated instances).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import {
  CodeDeployClient,
  CreateApplicationCommand,
  GetDeploymentCommand,
  type DeploymentInfo,
} from '@aws-sdk/client-codedeploy';
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  blueGreenTemplate,
  createTaggedDeploymentGroup,
  launchTaggedInstances,
  until,
} from '../../sandbox/src/codedeploy/test-support';
import { deploymentSummary } from '../tasks/CodeDeployDeployApplication/summary';
import {
  leakedSecrets,
  runTaskSource,
  startTestSandbox,
  type Endpoint,
  type TaskRun,
  type TaskRunOptions,
  type TestSandbox,
} from './support';

const TASK = 'CodeDeployDeployApplication';
/** One simulated minute lasts a second: agent polling, waits and health checks are scaled; hooks run for real. */
const TIME_SCALE = 60;
const APP = 'aws-toolkit-for-azure-devops';
const BUCKET = 'keyless-task-bundles';
const EMPTY_BUCKET = 'keyless-task-refused';
const SERVICE_ROLE = 'arn:aws:iam::210987654321:role/CodeDeployServiceRole';

let t: TestSandbox;
let codedeploy: CodeDeployClient;
let s3: S3Client;
let ec2: EC2Client;
const root = mkdtempSync(join(tmpdir(), 'keyless-codedeploy-task-'));
const instancesOf = new Map<string, string[]>();

function writeTree(dir: string, files: Record<string, string>): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
    if (path.endsWith('.sh')) chmodSync(join(dir, path), 0o755);
  }
  return dir;
}

const appspec = [
  'version: 0.0',
  'os: linux',
  'files:',
  '  - source: app',
  '    destination: /opt/sample-app',
  'hooks:',
  '  ApplicationStop:',
  '    - location: scripts/stop.sh',
  '      timeout: 300',
  '  BeforeInstall:',
  '    - location: scripts/before.sh',
  '      timeout: 1800',
  '  ApplicationStart:',
  '    - location: scripts/start.sh',
  '      timeout: 300',
  '  ValidateService:',
  '    - location: scripts/validate.sh',
  '      timeout: 300',
].join('\n');

/** A workspace (the task's cwd) holding the sample application under app/: a tiny server and its hooks. */
function workspace(
  name: string,
  options: { version: string; failValidate?: boolean; beforeSleep?: number; withAppSpec?: boolean },
): string {
  const dir = join(root, name);
  const files: Record<string, string> = {
    'app/app/server.js': `const v = require('node:fs').readFileSync(__dirname + '/VERSION', 'utf8').trim();\nrequire('node:http').createServer((q, r) => r.end(v)).listen(Number(process.argv[2]), '127.0.0.1');\n`,
    'app/app/VERSION': `${options.version}\n`,
    'app/scripts/stop.sh': [
      '#!/bin/bash',
      'ROOT="${KEYLESS_INSTANCE_ROOT:-}"',
      '[ -f "$ROOT/tmp/sample-app.pid" ] && kill "$(cat "$ROOT/tmp/sample-app.pid")" 2>/dev/null',
      'rm -f "$ROOT/tmp/sample-app.pid"',
      'for i in $(seq 1 100); do curl -s -o /dev/null --max-time 1 "http://127.0.0.1:${KEYLESS_INSTANCE_PORT:-80}/" || exit 0; sleep 0.05; done',
      'exit 1',
      '',
    ].join('\n'),
    'app/scripts/before.sh': `#!/bin/bash\necho "before install of ${options.version}"\nsleep ${options.beforeSleep ?? 0}\n`,
    'app/scripts/start.sh': [
      '#!/bin/bash',
      'ROOT="${KEYLESS_INSTANCE_ROOT:-}"',
      // Whatever serves the port (the previous revision, or the placeholder the user data started) goes first.
      '"$(dirname "$0")/stop.sh" || exit 1',
      'cd "$ROOT/opt/sample-app"',
      'nohup node server.js "${KEYLESS_INSTANCE_PORT:-80}" > /dev/null 2>&1 < /dev/null &',
      'echo $! > "$ROOT/tmp/sample-app.pid"',
      `echo "started ${options.version}"`,
      '',
    ].join('\n'),
    'app/scripts/validate.sh': options.failValidate
      ? `#!/bin/bash\necho "checking ${options.version}"\necho "health check failed: ${options.version} answered 503" >&2\nexit 7\n`
      : `#!/bin/bash\nfor i in $(seq 1 200); do [ "$(curl -sf --max-time 1 http://127.0.0.1:\${KEYLESS_INSTANCE_PORT:-80}/)" = "${options.version}" ] && { echo "validated ${options.version}"; exit 0; }; sleep 0.05; done\nexit 3\n`,
    'app/.git/HEAD': 'ref: refs/heads/main\n',
    'app/notes/draft.md': 'not for the instances\n',
  };
  if (options.withAppSpec !== false) files['app/appspec.yml'] = appspec;
  return writeTree(dir, files);
}

const managedIdentityConnection = (): Endpoint => ({
  id: randomUUID(),
  scheme: 'None',
  parameters: {
    authMode: 'azureManagedIdentity',
    roleArn: t.ids.roleArn,
    audience: t.ids.audience,
    clientId: t.ids.clientId,
  },
});

/** Runs the task and checks what every run must satisfy: one task.complete, exit 0, no secret in the output. */
async function runTask(inputs: Record<string, string>, options: TaskRunOptions = {}): Promise<TaskRun> {
  const run = await runTaskSource(TASK, {
    timeoutMs: 120_000,
    ...options,
    inputs,
    env: { AWS_ENDPOINT_URL: t.url, AZURE_POD_IDENTITY_AUTHORITY_HOST: t.url, ...options.env },
  });
  assert.equal(run.completions.length, 1, `exactly one task.complete:\n${run.stdout}\n${run.stderr}`);
  assert.equal(run.exitCode, 0, run.stderr);
  const agentKnown = Object.values(options.secrets ?? {});
  assert.deepEqual(
    leakedSecrets([visible(run.stdout, agentKnown), visible(run.stderr, agentKnown)], t.secrets),
    [],
    'no secret in the output',
  );
  return run;
}

/**
 * What the agent shows: it consumes `task.setsecret` commands (whose data is the secret) and masks the secret
 * variables it passed in (task-lib itself echoes every variable it reads into the debug log, relying on that).
 */
function visible(output: string, secretVariables: string[]): string {
  let shown = output
    .split(/\r?\n/)
    .filter((line) => !line.includes('##vso[task.setsecret]'))
    .join('\n');
  for (const secret of secretVariables) shown = shown.split(secret).join('***');
  return shown;
}

/** The blog's CodeDeploy step: us-east-1, the workspace uploaded to the bucket, OVERWRITE, via a connection. */
async function deployWorkspace(
  cwd: string,
  group: string,
  extra: Record<string, string> = {},
  options: TaskRunOptions = {},
): Promise<TaskRun> {
  const connection = managedIdentityConnection();
  return runTask(
    {
      awsCredentials: connection.id,
      regionName: 'us-east-1',
      applicationName: APP,
      deploymentGroupName: group,
      deploymentRevisionSource: 'workspace',
      revisionBundle: 'app',
      bucketName: BUCKET,
      fileExistsBehavior: 'OVERWRITE',
      ...extra,
    },
    { cwd, endpoints: [connection], ...options },
  );
}

function summaryOf(run: TaskRun): string {
  assert.equal(run.summaries.length, 1, 'one summary section');
  return readFileSync(run.summaries[0]!, 'utf8');
}

function message(run: TaskRun): string {
  return run.completions[0]?.data ?? '';
}

async function deployment(id: string): Promise<DeploymentInfo> {
  return (await codedeploy.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo ?? {};
}

/** An in-place group over `count` freshly launched instances tagged with its name. */
async function inPlaceGroup(name: string, count: number, autoRollback = false): Promise<void> {
  instancesOf.set(name, await launchTaggedInstances(ec2, name, count));
  await createTaggedDeploymentGroup(codedeploy, {
    applicationName: APP,
    deploymentGroupName: name,
    tag: name,
    serviceRoleArn: SERVICE_ROLE,
    autoRollback,
  });
}

before(async () => {
  t = await startTestSandbox({ timeScale: TIME_SCALE, providerDelaySeconds: 0 });
  const common = { endpoint: t.url, region: 'us-east-1', credentials: t.root };
  codedeploy = new CodeDeployClient(common);
  s3 = new S3Client({ ...common, forcePathStyle: true });
  ec2 = new EC2Client(common);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new CreateBucketCommand({ Bucket: EMPTY_BUCKET }));
  await codedeploy.send(new CreateApplicationCommand({ applicationName: APP, computePlatform: 'Server' }));
  await Promise.all([
    inPlaceGroup('web', 2),
    inPlaceGroup('from-s3', 1),
    inPlaceGroup('failing', 1),
    inPlaceGroup('cancel-stop', 1),
    inPlaceGroup('cancel-leave', 1),
  ]);
});

after(async () => {
  await t?.sandbox.close();
  rmSync(root, { recursive: true, force: true });
});

describe('wrong inputs fail before any AWS call, naming the input and the fix', () => {
  test('each bad value gets a one-line message about its input', async () => {
    const base = {
      applicationName: APP,
      deploymentGroupName: 'web',
      bucketName: BUCKET,
      revisionBundle: 'app',
    };
    const cwd = workspace('inputs', { version: 'v0' });
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { deploymentRevisionSource: 'folder' },
        /"deploymentRevisionSource" is "folder", which is not one of: workspace, s3/,
      ],
      [{ deploymentRevisionSource: 's3' }, /"bundleKey" is required when deploymentRevisionSource is s3/],
      [
        { fileExistsBehavior: 'REPLACE' },
        /"fileExistsBehavior" is "REPLACE", which is not one of: DISALLOW, OVERWRITE, RETAIN/,
      ],
      [{ timeoutInMins: 'thirty' }, /"timeoutInMins" must be a whole number from 1 to 10080, not "thirty"/],
      [{ filesAcl: 'public' }, /"filesAcl" is "public", which is not one of: none, private/],
      [
        { outputVariable: 'deployment id' },
        /"outputVariable" is "deployment id", which is not a variable name/,
      ],
      [
        { autoRollback: 'enabled', autoRollbackEvents: 'DEPLOYMENT_FAILURE\nON_ALARM' },
        /"autoRollbackEvents" has "ON_ALARM", which CodeDeploy does not know/,
      ],
      [
        { finishAfterReroute: 'true', skipTerminationWait: 'true' },
        /finishAfterReroute and skipTerminationWait contradict each other/,
      ],
      [{ stopOnCancel: 'yes' }, /"stopOnCancel" must be true or false, not "yes"/],
      [{ applicationName: '' }, /"applicationName" is required but is empty/],
    ];
    const runs = await Promise.all(cases.map(([inputs]) => runTask({ ...base, ...inputs }, { cwd })));
    runs.forEach((run, index) => {
      const [, expected] = cases[index]!;
      assert.equal(run.result, 'Failed', `case ${index}`);
      assert.match(message(run), expected);
      assert.ok(message(run).split('\n').length <= 2, `short message: ${message(run)}`);
      const fix = run.issues.find((issue) => issue.message.startsWith('Fix: '));
      assert.ok(fix, `a fix is given for case ${index}`);
      assert.doesNotMatch(run.stdout, /AWS credentials:/, 'no credentials were resolved');
    });
  });

  test('no connection and no AWS.* variables: a clear error saying what to set', async () => {
    const run = await runTask(
      { applicationName: APP, deploymentGroupName: 'web', bucketName: BUCKET, revisionBundle: 'app' },
      { cwd: workspace('no-connection', { version: 'v0' }) },
    );
    assert.equal(run.result, 'Failed');
    assert.match(message(run), /no AWS credentials: the "awsCredentials" input names no service connection/);
    assert.ok(
      run.issues.some((issue) => /Fix: Set awsCredentials to a service connection/.test(issue.message)),
    );
  });

  test('a connection the job cannot see is named', async () => {
    const run = await runTask(
      {
        awsCredentials: 'c0ffee00-0000-4000-8000-000000000000',
        applicationName: APP,
        deploymentGroupName: 'web',
        bucketName: BUCKET,
        revisionBundle: 'app',
      },
      { cwd: workspace('unknown-connection', { version: 'v0' }) },
    );
    assert.equal(run.result, 'Failed');
    assert.match(
      message(run),
      /service connection "c0ffee00-0000-4000-8000-000000000000" .* is not available/,
    );
  });
});

test('in-place from the workspace with the blog inputs: outputs, progress and the per-instance timeline', async () => {
  const run = await deployWorkspace(workspace('in-place', { version: 'v1' }), 'web', {
    bundlePrefix: 'deployments',
    outputVariable: 'myDeploymentId',
    description: 'task e2e v1',
    excludePatterns: 'notes\n*.md',
    filesAcl: 'bucket-owner-full-control',
  });
  assert.equal(run.result, 'Succeeded', `${message(run)}\n${run.stdout}`);
  const id = run.variables.get('deploymentId');
  assert.match(id?.value ?? '', /^d-[A-Z0-9]{9}$/);
  assert.equal(id?.output, true, 'deploymentId is an isOutput variable');
  assert.match(
    message(run),
    new RegExp(`Deployment ${id?.value} of s3://${BUCKET}/deployments/.* succeeded on 2 instances`),
  );

  // outputVariable: the toolkit's plain job variable and an output, both holding the id.
  const named = run.commands.filter(
    (command) => command.event === 'setvariable' && command.properties.variable === 'myDeploymentId',
  );
  assert.deepEqual(
    named.map((command) => [command.data, command.properties.isoutput]),
    [
      [id?.value, 'false'],
      [id?.value, 'true'],
    ],
  );
  const location = run.variables.get('revisionLocation')?.value ?? '';
  assert.match(location, new RegExp(`^s3://${BUCKET}/deployments/${APP}-[0-9a-f]{16}\\.zip$`));
  const info = await deployment(id!.value);
  assert.equal(info.status, 'Succeeded');
  assert.equal(info.fileExistsBehavior, 'OVERWRITE');
  // Keyless appends its request marker, which lets a retry find a deployment whose answer was lost.
  assert.match(info.description ?? '', /^task e2e v1 \[keyless-request:[0-9a-f-]{36}\]$/);
  assert.equal(info.revision?.s3Location?.eTag, run.variables.get('bundleETag')?.value);

  // The zip CodeDeploy got: hook scripts executable, .git and the excluded paths left out.
  const zip = join(root, 'in-place.zip');
  const object = await s3.send(
    new GetObjectCommand({ Bucket: BUCKET, Key: location.replace(`s3://${BUCKET}/`, '') }),
  );
  writeFileSync(zip, await object.Body!.transformToByteArray());
  const listing = execFileSync('unzip', ['-Z', zip], { encoding: 'utf8' });
  assert.match(listing, /^-rwx.* scripts\/validate\.sh$/m);
  assert.match(listing, / appspec\.yml$/m);
  assert.doesNotMatch(listing, /\.git\/|notes\//);

  const progress = run.commands.filter((command) => command.event === 'setprogress');
  assert.equal(progress.at(-1)?.properties.value, '100', 'the progress bar ends full');

  const summary = summaryOf(run);
  assert.match(summary, /^### CodeDeploy: aws-toolkit-for-azure-devops \/ web/);
  assert.match(summary, /\*\*Status:\*\* Succeeded/);
  assert.ok(summary.includes(id!.value));
  for (const instance of instancesOf.get('web')!) {
    const section = summary.slice(summary.indexOf(`#### ${instance}: Succeeded`));
    assert.ok(section.length < summary.length, `a timeline for ${instance}`);
    for (const event of ['ApplicationStop', 'DownloadBundle', 'BeforeInstall', 'Install', 'ValidateService'])
      assert.match(
        section,
        new RegExp(`\\| ${event} \\| Succeeded \\| \\d\\d:\\d\\d:\\d\\dZ \\| [\\d.]+ s \\|`),
      );
  }
});

test('from s3 with bundleKey, credentials from the AWS.* variables an earlier step set (the blog variant)', async () => {
  const zipDir = workspace('s3-source', { version: 's3' });
  const zip = join(root, 's3-source.zip');
  execFileSync('zip', ['-qr', zip, '.'], { cwd: join(zipDir, 'app') });
  const key = `20250101.${Date.now()}.zip`;
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: readFileSync(zip) }));
  const run = await runTask(
    {
      regionName: 'us-east-1',
      applicationName: APP,
      deploymentGroupName: 'from-s3',
      deploymentRevisionSource: 's3',
      bucketName: BUCKET,
      bundleKey: key,
      bundlePrefix: 'leftover',
      fileExistsBehavior: 'OVERWRITE',
    },
    {
      cwd: zipDir,
      // As AWSCredentials@1 sets them: the secret key as a secret variable.
      variables: { 'AWS.AccessKeyID': t.root.accessKeyId },
      secrets: { 'AWS.SecretAccessKey': t.root.secretAccessKey },
    },
  );
  assert.equal(run.result, 'Succeeded', `${message(run)}\n${run.stdout}`);
  assert.ok(run.secretsSet.includes(t.root.secretAccessKey), 'the secret key variable is masked');
  assert.match(run.stdout, /Ignoring bundlePrefix \(it applies to deploymentRevisionSource workspace\)/);
  assert.equal(run.variables.get('revisionLocation')?.value, `s3://${BUCKET}/${key}`);
  const info = await deployment(run.variables.get('deploymentId')!.value);
  assert.equal(info.status, 'Succeeded');
  assert.equal(info.revision?.s3Location?.key, key);
  assert.equal(info.revision?.s3Location?.bundleType, 'zip');
  assert.match(summaryOf(run), new RegExp(`#### ${instancesOf.get('from-s3')![0]}: Succeeded`));
});

test('a folder without appspec.yml at its root fails before anything is uploaded', async () => {
  const run = await deployWorkspace(workspace('no-appspec', { version: 'v0', withAppSpec: false }), 'web', {
    bucketName: EMPTY_BUCKET,
  });
  assert.equal(run.result, 'Failed');
  assert.match(message(run), /no appspec\.yml at the root of .*app/);
  assert.equal(run.variables.get('deploymentId'), undefined);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: EMPTY_BUCKET }));
  assert.equal(listed.KeyCount ?? 0, 0, 'nothing was uploaded');
});

test('a failing ValidateService: Failed, naming the instance, the event and the script output; summary too', async () => {
  const run = await deployWorkspace(workspace('failing', { version: 'v2', failValidate: true }), 'failing');
  assert.equal(run.result, 'Failed');
  const [instance] = instancesOf.get('failing')!;
  const text = message(run);
  assert.match(text, /^Deployment d-[A-Z0-9]{9} to aws-toolkit-for-azure-devops\/failing failed/);
  assert.match(
    text,
    new RegExp(`${instance} ValidateService failed: ScriptFailed, script scripts/validate\\.sh, exit code 7`),
  );
  assert.match(text, /health check failed: v2 answered 503/);
  assert.ok(
    run.issues.some(
      (issue) => issue.type === 'error' && /Correct the failing hook script/.test(issue.message),
    ),
  );
  assert.match(run.variables.get('deploymentId')?.value ?? '', /^d-/, 'the id is published before the wait');

  const summary = summaryOf(run);
  assert.match(summary, /\*\*Status:\*\* Failed/);
  assert.match(
    summary,
    new RegExp(
      `\\*\\*Failed:\\*\\* ${instance}, ValidateService, ScriptFailed, script \`scripts/validate\\.sh\``,
    ),
  );
  assert.match(summary, /health check failed: v2 answered 503/);
  assert.match(summary, new RegExp(`#### ${instance}: Failed`));
  assert.match(summary, /\| ValidateService \| Failed \|/);
});

describe('cancelling the job (SIGINT) mid-deployment', () => {
  test('with stopOnCancel the deployment is stopped with rollback, and the message says so', async () => {
    const good = await deployWorkspace(workspace('cancel-v1', { version: 'v1' }), 'cancel-stop');
    assert.equal(good.result, 'Succeeded', message(good));
    const run = await deployWorkspace(
      workspace('cancel-v2', { version: 'v2', beforeSleep: 20 }),
      'cancel-stop',
      { stopOnCancel: 'true' },
      { interruptWhen: { text: ': InProgress', signal: 'SIGINT' } },
    );
    assert.equal(run.result, 'Failed');
    const id = run.variables.get('deploymentId')?.value ?? '';
    assert.match(
      message(run),
      new RegExp(`deployment ${id} was stopped and (rolled back|is being rolled back)`),
    );
    const info = await deployment(id);
    assert.equal(info.status, 'Stopped');
    const rollback = info.rollbackInfo?.rollbackDeploymentId;
    assert.ok(rollback, 'an automatic rollback was started');
    assert.ok(message(run).includes(rollback));
    assert.match(summaryOf(run), /\*\*Status:\*\* Stopped \(stopped because the run was cancelled\)/);
    await until('the rollback to finish', async () => {
      const status = (await deployment(rollback)).status;
      return status === 'Succeeded' || status === 'Failed' ? status : undefined;
    });
  });

  test('without stopOnCancel it continues in AWS, and the message says how to watch it', async () => {
    const run = await deployWorkspace(
      workspace('leave-v1', { version: 'v1', beforeSleep: 2 }),
      'cancel-leave',
      {},
      { interruptWhen: { text: ': InProgress', signal: 'SIGINT' } },
    );
    assert.equal(run.result, 'Failed');
    const id = run.variables.get('deploymentId')?.value ?? '';
    assert.match(
      message(run),
      new RegExp(
        `deployment ${id} continues in AWS .*watch it with: aws deploy get-deployment --deployment-id ${id} --region us-east-1`,
      ),
    );
    assert.match(run.stdout, /Set stopOnCancel: true/);
    const finished = await until('the deployment to finish on its own', async () => {
      const status = (await deployment(id)).status;
      return status === 'Succeeded' || status === 'Failed' || status === 'Stopped' ? status : undefined;
    });
    assert.equal(finished, 'Succeeded', 'it was left running and finished by itself');
  });
});

test('blue/green over Azure DevOps OIDC: Ready continued, termination wait skipped, ORIGINAL and REPLACEMENT timelines', async () => {
  const cfn = new CloudFormationClient({ endpoint: t.url, region: 'us-east-1', credentials: t.root });
  const stackName = 'aws-sample-app';
  await cfn.send(
    new CreateStackCommand({
      StackName: stackName,
      TemplateBody: blueGreenTemplate(stackName, {
        serviceRoleArn: SERVICE_ROLE,
        terminationWaitMinutes: 60,
        existingApplication: APP,
        deploymentGroupName: 'my-sample-bg-deployment-group',
      }),
    }),
  );
  const stack = await until<Stack>('the stack', async () => {
    const current = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
    return current?.StackStatus?.endsWith('_IN_PROGRESS') ? undefined : current;
  });
  assert.equal(stack.StackStatus, 'CREATE_COMPLETE', stack.StackStatusReason);

  const connection: Endpoint = {
    id: t.ids.serviceConnectionId,
    scheme: 'None',
    parameters: { authMode: 'oidcServiceConnection', roleArn: t.ids.adoRoleArn },
  };
  const run = await runTask(
    {
      awsCredentials: connection.id,
      regionName: 'us-east-1',
      applicationName: APP,
      deploymentGroupName: 'my-sample-bg-deployment-group',
      deploymentRevisionSource: 'workspace',
      revisionBundle: 'app',
      bucketName: BUCKET,
      fileExistsBehavior: 'OVERWRITE',
      continueWhenReady: 'true',
      skipTerminationWait: 'true',
    },
    {
      cwd: workspace('blue-green', { version: 'bg1' }),
      endpoints: [connection],
      secrets: { 'System.AccessToken': t.ids.systemAccessToken },
      variables: {
        'System.OidcRequestUri': `${t.url}/contoso/${t.ids.projectId}/_apis/distributedtask/hubs/build/plans/${randomUUID()}/jobs/${randomUUID()}/oidctoken`,
      },
    },
  );
  assert.equal(run.result, 'Succeeded', `${message(run)}\n${run.stdout}`);
  assert.match(run.stdout, /continued the deployment \(ContinueDeployment READY_WAIT\)/);
  assert.match(run.stdout, /skipping the termination wait \(ContinueDeployment TERMINATION_WAIT\)/);
  const summary = summaryOf(run);
  const originals = summary.match(/^#### i-[0-9a-f]+ \(ORIGINAL\): \w+/gm) ?? [];
  const replacements = summary.match(/^#### i-[0-9a-f]+ \(REPLACEMENT\): Succeeded/gm) ?? [];
  assert.equal(originals.length, 2, summary);
  assert.equal(replacements.length, 2, summary);
  assert.match(summary, /\| AllowTraffic \| Succeeded \|/);
  assert.match(summary, /\| BlockTraffic \| Succeeded \|/);
  assert.equal((await deployment(run.variables.get('deploymentId')!.value)).status, 'Succeeded');
});

test('the summary renders a failure without a fence the log can close, and large fleets stay readable', () => {
  const event = (name: string, status: string) => ({ name, status });
  const instances = Array.from({ length: 45 }, (_, index) => ({
    instanceId: `i-${String(index).padStart(17, '0')}`,
    status: index === 44 ? 'Failed' : 'Succeeded',
    events: [
      event('BeforeInstall', 'Succeeded'),
      index === 44
        ? {
            ...event('ValidateService', 'Failed'),
            errorCode: 'ScriptFailed',
            logTail: 'line ~~~ with a fence\n',
          }
        : event('ValidateService', 'Succeeded'),
    ],
  }));
  const markdown = deploymentSummary({
    applicationName: 'web',
    deploymentGroupName: 'prod',
    region: 'eu-west-1',
    deploymentId: 'd-ABCDEFGHI',
    status: 'Failed',
    instances,
    failure: 'Deployment d-ABCDEFGHI failed',
  });
  assert.match(markdown, /\*\*Failed:\*\* i-00000000000000044, ValidateService, ScriptFailed/);
  assert.match(markdown, /~~~~\nline ~~~ with a fence\n~~~~/);
  assert.match(markdown, /^#### i-00000000000000044: Failed/m, 'the failed instance is detailed first');
  assert.equal(markdown.match(/^#### i-/gm)?.length, 40, 'at most 40 detailed timelines');
  assert.match(markdown, /_5 more instances are in the table above\._/);
  assert.equal(markdown.match(/^\| i-\d+ \| in-place \|/gm)?.length, 45, 'every instance is in the overview');
});
