// The bad-input catalogue: docs/errors.md is the specification. Each table row names a case (an HTML comment
// `<!-- case: id -->` in its first cell); this file holds the case — the bad input, given to the built CLI or to
// a built Azure DevOps task run as the agent runs it — and checks what the row says: the first line Keyless
// prints (`…` stands for any text), the exit code or task result, no stack trace, a fix, no secret, and that
// nothing changed or was lost (every stack, change set, bucket, object, CodeDeploy application, group,
// revision and deployment in the sandbox, described with the account's root keys before and after, and every
// file of the case's folder). A row without a case, or a case without a row, fails.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  GetTemplateCommand,
  ListChangeSetsCommand,
  ListStackResourcesCommand,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import {
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentGroupCommand,
  ListApplicationRevisionsCommand,
  ListApplicationsCommand,
  ListDeploymentGroupsCommand,
  ListDeploymentsCommand,
} from '@aws-sdk/client-codedeploy';
import {
  CreateBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { runTaskProcess, type Endpoint, type TaskRun } from '../../azure-pipelines/test/support';
import {
  cleanEnv,
  leakedSecrets,
  managedIdentityArgs,
  runCli,
  startTestSandbox,
  type CliResult,
  type TestSandbox,
} from './support';

const catalogueFile = fileURLToPath(new URL('../../../docs/errors.md', import.meta.url));
const tasksDirectory = fileURLToPath(new URL('../../azure-pipelines/dist/tasks/', import.meta.url));
const region = 'us-east-1';

// What exists before any case runs, and must be exactly as it was after each one.
const STACK = 'catalogue-web'; // termination protection on; Label must be blue or green
const ROLLBACK_STACK = 'catalogue-rollback'; // the one case whose mistake CloudFormation finds mid-update
const BUCKET = 'catalogue-artifacts';
const APP = 'catalogue-app';
const GROUP = 'catalogue-group';
const GOOD_TEMPLATE = `Parameters:
  Label: {Type: String, Default: blue, AllowedValues: [blue, green]}
Resources:
  Setting:
    Type: AWS::SSM::Parameter
    Properties: {Type: String, Value: !Ref Label}
Outputs:
  SettingName: {Value: !Ref Setting}
`;
const GOOD_APPSPEC = `version: 0.0
os: linux
files:
  - source: /
    destination: /var/www/app
hooks:
  ApplicationStart:
    - location: scripts/start.sh
      timeout: 60
`;

let t: TestSandbox;
let cfn: CloudFormationClient;
let s3: S3Client;
let codedeploy: CodeDeployClient;
let root: string;
/** Tokens this file minted (besides the sandbox's own secrets), for the leak checks. */
const mintedSecrets = new Set<string>();

// ---------------------------------------------------------------------------------------------------------
// The cases. Each one sets up its own folder (`w`), runs one command or task, and returns what it printed.

interface Workspace {
  dir: string;
  /** Writes a file (parents created); `mode` e.g. 0o755. */
  write(path: string, text: string, mode?: number): Promise<string>;
  symlink(path: string, target: string): Promise<void>;
  /** A folder outside the case folder for output Keyless may write (agent work folders); not compared. */
  scratch: string;
  /** Called by the case once its files are in place, right before the command starts. */
  ready(): Promise<void>;
}

type Outcome = { kind: 'cli'; result: CliResult } | { kind: 'task'; result: TaskRun };

interface Case {
  /** Exactly as the row's second cell reads, e.g. `keyless cloudformation deploy` or `S3Upload@1`. */
  command: string;
  run(w: Workspace): Promise<Outcome>;
  /** Runs alone, after the others: CloudFormation changes and rolls back a stack, which others would see. */
  exclusive?: boolean;
}

/** `keyless …` with the given arguments; `credentials` appends the blog's managed-identity options. */
function keyless(
  command: string,
  args: (w: Workspace) => string[] | Promise<string[]>,
  options: { credentials?: boolean; timeoutMs?: number } = {},
): Case {
  return {
    command: `keyless ${command}`,
    run: async (w) => {
      const argv = [...(await args(w)), ...(options.credentials ? managedIdentityArgs(t) : [])];
      await w.ready();
      const result = await runCli(argv, {
        cwd: w.dir,
        timeoutMs: options.timeoutMs ?? 60_000,
        env: cleanEnv(),
      });
      return { kind: 'cli', result };
    },
  };
}

/** A connection of the extension's type for the blog's managed identity, as the agent hands it to a task. */
function managedIdentityConnection(id: string): Endpoint {
  return {
    id,
    scheme: 'None',
    parameters: {
      authMode: 'azureManagedIdentity',
      roleArn: t.ids.roleArn,
      audience: t.ids.audience,
      clientId: t.ids.clientId,
    },
  };
}

interface TaskCaseOptions {
  /** Default: a managed-identity connection named by `awsCredentials`. */
  connection?: 'managed-identity' | 'none' | ((id: string) => Endpoint | undefined);
}

/** A built task (dist/tasks/<name>/index.js) run as the agent runs it, with the case folder as the sources. */
function task(
  name: string,
  inputs: (w: Workspace) => Record<string, string> | Promise<Record<string, string>>,
  options: TaskCaseOptions = {},
): Case {
  return {
    command: `${name}@1`,
    run: async (w) => {
      const id = '6c1f0b52-0d0a-4d36-9b5e-5a5f2f7b9e01';
      const connection = options.connection ?? 'managed-identity';
      const endpoint =
        connection === 'managed-identity'
          ? managedIdentityConnection(id)
          : connection === 'none'
            ? undefined
            : connection(id);
      const given = await inputs(w);
      await w.ready();
      const result = await runTaskProcess([process.execPath, join(tasksDirectory, name, 'index.js')], {
        cwd: w.dir,
        timeoutMs: 60_000,
        inputs: { ...(connection === 'none' ? {} : { awsCredentials: id }), regionName: region, ...given },
        endpoints: endpoint ? [endpoint] : [],
        // The agent's temp folder (summaries, task-lib's files) in the case's scratch folder, read back below.
        env: {
          AWS_ENDPOINT_URL: t.url,
          AZURE_POD_IDENTITY_AUTHORITY_HOST: t.url,
          AGENT_TEMPDIRECTORY: w.scratch,
        },
      });
      return { kind: 'task', result };
    },
  };
}

/** A CodeDeploy bundle folder (index.html, an executable hook script), with `appspec` as its appspec.yml. */
async function bundle(w: Workspace, appspec = GOOD_APPSPEC, folder = 'app'): Promise<string> {
  await w.write(`${folder}/appspec.yml`, appspec);
  await w.write(`${folder}/index.html`, '<h1>catalogue</h1>\n');
  await w.write(`${folder}/scripts/start.sh`, '#!/bin/bash\necho started\n', 0o755);
  return folder;
}

/** A good pipeline's first lines plus `steps` (YAML, already indented under `steps:`). */
const pipeline = (steps: string) => `trigger: none\nsteps:\n${steps}`;

const cfnDeploy = (args: (w: Workspace) => string[] | Promise<string[]>, exclusive = false): Case => ({
  ...keyless('cloudformation deploy', async (w) => ['cloudformation', 'deploy', ...(await args(w))], {
    credentials: true,
  }),
  exclusive,
});
const cdDeploy = (args: (w: Workspace) => string[] | Promise<string[]>): Case =>
  keyless('codedeploy deploy', async (w) => ['codedeploy', 'deploy', ...(await args(w))], {
    credentials: true,
  });
const s3Upload = (args: (w: Workspace) => string[] | Promise<string[]>): Case =>
  keyless('s3 upload', async (w) => ['s3', 'upload', ...(await args(w))], { credentials: true });
const pipelineRun = (args: (w: Workspace) => string[] | Promise<string[]>): Case =>
  keyless('pipeline run', async (w) => ['pipeline', 'run', ...(await args(w))]);
const sandboxCommand = (args: (w: Workspace) => string[] | Promise<string[]>): Case =>
  keyless('sandbox', async (w) => ['sandbox', ...(await args(w))], { timeoutMs: 20_000 });

/** The appspec case: the good bundle with `appspec`, deployed to the existing group through the bucket. */
const appspecCase = (appspec: string): Case =>
  cdDeploy(async (w) => [
    '--application',
    APP,
    '--deployment-group',
    GROUP,
    '--bundle',
    await bundle(w, appspec),
    '--bucket',
    BUCKET,
  ]);

const withTemplate =
  (template: string, extra: string[] = [], stack = STACK) =>
  async (w: Workspace) => [
    '--stack-name',
    stack,
    '--template-file',
    relative(w.dir, await w.write('template.yml', template)),
    ...extra,
  ];

const cases: Record<string, Case> = {
  // The CLI itself
  'cli-unknown-command': keyless('frobnicate', () => ['frobnicate']),
  'cli-unknown-option': keyless('credentials', () => ['credentials', '--rgion', region]),

  // keyless credentials
  'cred-no-provider': keyless('credentials', () => [
    'credentials',
    '--role-arn',
    t.ids.roleArn,
    '--region',
    region,
  ]),
  'cred-unknown-provider': keyless('credentials', () => [
    'credentials',
    '--provider',
    'azure-magic',
    '--role-arn',
    t.ids.roleArn,
    '--region',
    region,
  ]),
  'cred-role-bare-name': keyless('credentials', () => [
    'credentials',
    ...managedIdentityArgs(t).map((arg) => (arg === t.ids.roleArn ? 'deploy' : arg)),
  ]),
  'cred-role-arn-malformed': keyless('credentials', () => [
    'credentials',
    ...managedIdentityArgs(t).map((arg) =>
      arg === t.ids.roleArn ? 'arn:aws:iam::21098765432:role/deploy' : arg,
    ),
  ]),
  'cred-region-unknown': keyless('credentials', () => [
    'credentials',
    ...managedIdentityArgs(t).map((arg) => (arg === region ? 'us-east1' : arg)),
  ]),
  'cred-region-missing': keyless('credentials', () => [
    'credentials',
    ...managedIdentityArgs(t).slice(0, -2), // without --region us-east-1
  ]),
  'cred-duration-type': keyless('credentials', () => ['credentials', '--duration', '1h'], {
    credentials: true,
  }),
  'cred-duration-range': keyless('credentials', () => ['credentials', '--duration', '60'], {
    credentials: true,
  }),
  'cred-audience-unknown': keyless('credentials', () => [
    'credentials',
    ...managedIdentityArgs(t).map((arg) => (arg === t.ids.audience ? 'api://not-registered' : arg)),
  ]),
  'cred-token-wrong-audience': keyless('credentials', async (w) => {
    const token = await t.sandbox.control.mintToken('github', {
      aud: 'api://someone-else',
      sub: 'repo:contoso/web:ref:refs/heads/main',
    });
    mintedSecrets.add(token);
    const file = await w.write('token.jwt', token, 0o600);
    return [
      'credentials',
      '--provider',
      'token-file',
      '--token-file',
      file,
      '--role-arn',
      t.ids.githubRoleArn,
      '--endpoint-url',
      t.url,
      '--region',
      region,
    ];
  }),
  'cred-token-file-missing': keyless('credentials', () => [
    'credentials',
    '--provider',
    'token-file',
    '--token-file',
    'missing.jwt',
    '--role-arn',
    t.ids.githubRoleArn,
    '--endpoint-url',
    t.url,
    '--region',
    region,
  ]),
  'cred-role-untrusted': keyless('credentials', () => [
    'credentials',
    ...managedIdentityArgs(t).map((arg) =>
      arg === t.ids.roleArn ? t.ids.roleArn.replace(/deploy$/, 'no-such-role') : arg,
    ),
  ]),
  'cred-format-unknown': keyless('credentials', () => ['credentials', '--format', 'yaml'], {
    credentials: true,
  }),
  'cred-endpoint-not-url': keyless('credentials', () => [
    'credentials',
    ...managedIdentityArgs(t).map((arg) => (arg === t.url ? 'localhost-4566' : arg)),
  ]),

  // keyless exec
  'exec-no-command': keyless('exec', () => ['exec', ...managedIdentityArgs(t)]),
  'exec-command-not-found': keyless('exec', () => [
    'exec',
    ...managedIdentityArgs(t),
    '--',
    'no-such-command-xyz',
  ]),

  // keyless cloudformation deploy / delete
  'cfn-template-yaml-syntax': cfnDeploy(
    withTemplate('Resources:\n  Setting: {Type: AWS::SSM::Parameter\n    Properties: x\n'),
  ),
  'cfn-template-json-syntax': cfnDeploy(async (w) => [
    '--stack-name',
    STACK,
    '--template-file',
    relative(
      w.dir,
      await w.write(
        'template.json',
        '{\n  "Resources": {\n    "Setting": {"Type": "AWS::SSM::Parameter",}\n  }\n}\n',
      ),
    ),
  ]),
  'cfn-template-not-a-template': cfnDeploy(withTemplate('Label: green\nOwner: web-team\n')),
  'cfn-template-unknown-type': cfnDeploy(
    withTemplate(GOOD_TEMPLATE.replace('Outputs:', '  Queue:\n    Type: AWS::Nope::Queue\nOutputs:')),
  ),
  'cfn-template-missing-property': cfnDeploy(
    withTemplate(
      GOOD_TEMPLATE.replace(
        'Outputs:',
        '  Extra:\n    Type: AWS::SSM::Parameter\n    Properties: {Type: String}\nOutputs:',
      ),
      [],
      ROLLBACK_STACK,
    ),
    true,
  ),
  'cfn-template-bad-ref': cfnDeploy(withTemplate(GOOD_TEMPLATE.replace('!Ref Label', '!Ref Lable'))),
  'cfn-template-circular': cfnDeploy(
    withTemplate(
      `Resources:
  First:
    Type: AWS::SSM::Parameter
    Properties: {Type: String, Value: !GetAtt Second.Value}
  Second:
    Type: AWS::SSM::Parameter
    Properties: {Type: String, Value: !GetAtt First.Value}
`,
    ),
  ),
  'cfn-template-too-large': cfnDeploy(
    withTemplate(
      `${GOOD_TEMPLATE}Metadata:\n  Notes: |\n${Array.from({ length: 900 }, (_, i) => `    note ${i} ${'x'.repeat(60)}`).join('\n')}\n`,
    ),
  ),
  'cfn-template-missing-file': cfnDeploy(() => [
    '--stack-name',
    STACK,
    '--template-file',
    'infrastructure.yml',
  ]),
  'cfn-template-bucket-unknown': cfnDeploy(() => [
    '--stack-name',
    STACK,
    '--template-bucket',
    'no-such-templates',
    '--template-key',
    'web/template.yml',
  ]),
  'cfn-template-two-sources': cfnDeploy(() => [
    '--stack-name',
    STACK,
    '--template-file',
    'template.yml',
    '--template-url',
    `${t.url}/${BUCKET}/template.yml`,
  ]),
  'cfn-stack-name-invalid': cfnDeploy(withTemplate(GOOD_TEMPLATE, [], 'web_stack!')),
  'cfn-parameters-malformed': cfnDeploy(async (w) => [
    ...(await withTemplate(GOOD_TEMPLATE)(w)),
    '--parameters',
    relative(
      w.dir,
      await w.write('parameters.json', '[{"ParameterKey": "Label", "ParameterValue": "green"}\n'),
    ),
  ]),
  'cfn-parameters-missing-file': cfnDeploy(async (w) => [
    ...(await withTemplate(GOOD_TEMPLATE)(w)),
    '--parameters',
    'parameters/production.json',
  ]),
  'cfn-parameter-unknown': cfnDeploy(async (w) => [
    ...(await withTemplate(GOOD_TEMPLATE)(w)),
    '--parameters',
    relative(w.dir, await w.write('parameters.json', '{"Label": "green", "Colour": "blue"}\n')),
  ]),
  'cfn-parameter-not-allowed': cfnDeploy(
    withTemplate(GOOD_TEMPLATE, ['--parameter-overrides', 'Label=purple']),
  ),
  'cfn-override-not-key-value': cfnDeploy(withTemplate(GOOD_TEMPLATE, ['--parameter-overrides', 'Label'])),
  'cfn-capabilities-missing': cfnDeploy(
    withTemplate(
      `Resources:
  DeployRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement: [{Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: 'sts:AssumeRole'}]
`,
      [],
      'catalogue-new-roles',
    ),
  ),
  'cfn-capability-unknown': cfnDeploy(withTemplate(GOOD_TEMPLATE, ['--capabilities', 'CAPABILITY_ROOT'])),
  'cfn-on-failure-unknown': cfnDeploy(withTemplate(GOOD_TEMPLATE, ['--on-failure', 'EXPLODE'])),
  'cfn-delete-protected': keyless(
    'cloudformation delete',
    () => ['cloudformation', 'delete', '--stack-name', STACK],
    {
      credentials: true,
    },
  ),
  'cfn-delete-timeout-type': keyless(
    'cloudformation delete',
    () => ['cloudformation', 'delete', '--stack-name', STACK, '--timeout', 'soon'],
    { credentials: true },
  ),

  // keyless codedeploy deploy / validate / local
  'cd-appspec-no-version': appspecCase(GOOD_APPSPEC.replace('version: 0.0\n', '')),
  'cd-appspec-no-os': appspecCase(GOOD_APPSPEC.replace('os: linux\n', '')),
  'cd-appspec-quoted-version': appspecCase(GOOD_APPSPEC.replace('version: 0.0', "version: '0.0'")),
  'cd-appspec-os-unknown': appspecCase(GOOD_APPSPEC.replace('os: linux', 'os: ubuntu')),
  'cd-appspec-bad-hook': appspecCase(GOOD_APPSPEC.replace('ApplicationStart:', 'AfterDeploy:')),
  'cd-appspec-reserved-hook': appspecCase(GOOD_APPSPEC.replace('ApplicationStart:', 'Install:')),
  'cd-appspec-missing-script': appspecCase(GOOD_APPSPEC.replace('scripts/start.sh', 'scripts/run.sh')),
  'cd-appspec-files-source-missing': appspecCase(GOOD_APPSPEC.replace('source: /', 'source: build/')),
  'cd-appspec-relative-destination': appspecCase(GOOD_APPSPEC.replace('/var/www/app', 'var/www/app')),
  'cd-appspec-bad-timeout': appspecCase(GOOD_APPSPEC.replace('timeout: 60', 'timeout: 7200')),
  'cd-appspec-timeout-type': appspecCase(GOOD_APPSPEC.replace('timeout: 60', 'timeout: 5m')),
  'cd-appspec-yaml-syntax': appspecCase(GOOD_APPSPEC.replace('      timeout: 60', '     timeout: 60')),
  'cd-appspec-misplaced': cdDeploy(async (w) => {
    await bundle(w, GOOD_APPSPEC, 'app/deploy');
    await w.write('app/README.md', 'The appspec is one level too deep.\n');
    return ['--application', APP, '--deployment-group', GROUP, '--bundle', 'app', '--bucket', BUCKET];
  }),
  'cd-bundle-symlink-loop': cdDeploy(async (w) => {
    await bundle(w);
    await w.symlink('app/static/again', '..');
    return ['--application', APP, '--deployment-group', GROUP, '--bundle', 'app', '--bucket', BUCKET];
  }),
  'cd-bundle-symlink-outside': cdDeploy(async (w) => {
    await bundle(w);
    await w.write('secrets/production.env', 'DATABASE_URL=postgres://localhost/web\n');
    await w.symlink('app/config.env', '../secrets/production.env');
    return ['--application', APP, '--deployment-group', GROUP, '--bundle', 'app', '--bucket', BUCKET];
  }),
  'cd-bundle-missing': cdDeploy(() => [
    '--application',
    APP,
    '--deployment-group',
    GROUP,
    '--bundle',
    'dist/app',
    '--bucket',
    BUCKET,
  ]),
  'cd-application-unknown': cdDeploy(async (w) => [
    '--application',
    'no-such-app',
    '--deployment-group',
    GROUP,
    '--bundle',
    await bundle(w),
    '--bucket',
    BUCKET,
  ]),
  'cd-group-unknown': cdDeploy(async (w) => [
    '--application',
    APP,
    '--deployment-group',
    'no-such-group',
    '--bundle',
    await bundle(w),
    '--bucket',
    BUCKET,
  ]),
  'cd-bucket-unknown': cdDeploy(async (w) => [
    '--application',
    APP,
    '--deployment-group',
    GROUP,
    '--bundle',
    await bundle(w),
    '--bucket',
    'no-such-artifacts',
  ]),
  'cd-s3-revision-missing': cdDeploy(() => [
    '--application',
    APP,
    '--deployment-group',
    GROUP,
    '--s3-bucket',
    BUCKET,
    '--s3-key',
    'releases/web-1.4.2.zip',
  ]),
  'cd-file-exists-unknown': cdDeploy(async (w) => [
    '--application',
    APP,
    '--deployment-group',
    GROUP,
    '--bundle',
    await bundle(w),
    '--bucket',
    BUCKET,
    '--file-exists-behavior',
    'CLOBBER',
  ]),
  'cd-validate-invalid': keyless('codedeploy validate', async (w) => [
    'codedeploy',
    'validate',
    await bundle(w, GOOD_APPSPEC.replace('os: linux\n', '')),
  ]),
  'cd-local-unknown-event': keyless('codedeploy local', async (w) => [
    'codedeploy',
    'local',
    await bundle(w),
    '--events',
    'Deploy',
  ]),

  // keyless s3 upload
  's3-bucket-unknown': s3Upload(async (w) => ['--bucket', 'no-such-site', '--source', await bundle(w)]),
  's3-source-missing': s3Upload(() => ['--bucket', BUCKET, '--source', 'public']),
  's3-symlink-loop': s3Upload(async (w) => {
    await w.write('public/index.html', '<h1>site</h1>\n');
    await w.symlink('public/assets/loop', '..');
    return ['--bucket', BUCKET, '--source', 'public'];
  }),
  's3-symlink-outside': s3Upload(async (w) => {
    await w.write('public/index.html', '<h1>site</h1>\n');
    await w.symlink('public/passwd', '/etc/passwd');
    return ['--bucket', BUCKET, '--source', 'public'];
  }),
  's3-storage-class-unknown': s3Upload(async (w) => [
    '--bucket',
    BUCKET,
    '--source',
    await bundle(w),
    '--storage-class',
    'COLD',
  ]),
  's3-sse-unknown': s3Upload(async (w) => [
    '--bucket',
    BUCKET,
    '--source',
    await bundle(w),
    '--sse',
    'rot13',
  ]),

  // keyless pipeline run
  'pl-yaml-syntax': pipelineRun(async (w) => [
    await w.write('azure-pipelines.yml', pipeline('  - bash: echo hi\n   displayName: Say hi\n')),
    '--work-dir',
    join(w.dir, '.keyless', 'pipeline'),
  ]),
  'pl-wrong-type': pipelineRun(async (w) => [
    await w.write('azure-pipelines.yml', pipeline('  - bash: echo hi\n    timeoutInMinutes: soon\n')),
    '--work-dir',
    join(w.dir, '.keyless', 'pipeline'),
  ]),
  'pl-unknown-key': pipelineRun(async (w) => [
    await w.write('azure-pipelines.yml', 'trigger: none\nstepz:\n  - bash: echo hi\n'),
    '--work-dir',
    join(w.dir, '.keyless', 'pipeline'),
  ]),
  'pl-file-missing': pipelineRun((w) => [
    'ci/azure-pipelines.yml',
    '--work-dir',
    join(w.dir, '.keyless', 'pipeline'),
  ]),
  'pl-agent-yaml-syntax': pipelineRun(async (w) => [
    await w.write('azure-pipelines.yml', pipeline('  - bash: echo hi\n')),
    '--agent',
    await w.write('agent.yml', 'collectionUri: [http://127.0.0.1:4566/contoso/\nteamProject: web\n'),
    '--work-dir',
    join(w.dir, '.keyless', 'pipeline'),
  ]),
  'pl-agent-json-syntax': pipelineRun(async (w) => [
    await w.write('azure-pipelines.yml', pipeline('  - bash: echo hi\n')),
    '--agent',
    await w.write(
      'agent.json',
      '{"collectionUri": "http://127.0.0.1:4566/contoso/", "teamProject": "web",\n',
    ),
    '--work-dir',
    join(w.dir, '.keyless', 'pipeline'),
  ]),
  'pl-agent-guid': pipelineRun(async (w) => [
    await w.write('azure-pipelines.yml', pipeline('  - bash: echo hi\n')),
    '--agent',
    await w.write(
      'agent.yml',
      'collectionUri: http://127.0.0.1:4566/contoso/\nteamProject: web\nteamProjectId: web-project\n',
    ),
    '--work-dir',
    join(w.dir, '.keyless', 'pipeline'),
  ]),
  'pl-agent-wrong-type': pipelineRun(async (w) => [
    await w.write('azure-pipelines.yml', pipeline('  - bash: echo hi\n')),
    '--agent',
    await w.write(
      'agent.yml',
      'collectionUri: http://127.0.0.1:4566/contoso/\nteamProject: web\nteamProjectId: 6f1c4a52-3d0e-4b8e-9a51-0c2f7d4e8b13\nserviceConnections: aws-prod\n',
    ),
    '--work-dir',
    join(w.dir, '.keyless', 'pipeline'),
  ]),
  'pl-var-malformed': pipelineRun(async (w) => [
    await w.write('azure-pipelines.yml', pipeline('  - bash: echo hi\n')),
    '--var',
    'environment',
    '--work-dir',
    join(w.dir, '.keyless', 'pipeline'),
  ]),
  'pl-task-unknown': pipelineRun(async (w) => [
    await w.write(
      'azure-pipelines.yml',
      pipeline('  - task: CloudFormationCreateStack@1\n    inputs: {stackName: web}\n'),
    ),
    '--work-dir',
    w.scratch,
  ]),
  'pl-connection-unknown': pipelineRun(async (w) => [
    await w.write(
      'azure-pipelines.yml',
      pipeline(
        `  - task: S3Upload@1\n    inputs: {awsCredentials: aws-prod, regionName: ${region}, bucketName: ${BUCKET}}\n`,
      ),
    ),
    '--work-dir',
    w.scratch,
  ]),
  'pl-variable-cycle': pipelineRun(async (w) => [
    await w.write(
      'azure-pipelines.yml',
      'trigger: none\nvariables:\n  bucket: $(prefix)-site\n  prefix: $(bucket)\nsteps:\n  - bash: echo $(bucket)\n',
    ),
    '--work-dir',
    w.scratch,
  ]),

  // keyless sandbox
  'sb-config-yaml-syntax': sandboxCommand(async (w) => [
    '--port',
    '0',
    '--config',
    relative(w.dir, await w.write('sandbox.yml', 'account: {id: "210987654321"\n  region: us-east-1\n')),
  ]),
  'sb-config-unknown-key': sandboxCommand(async (w) => [
    '--port',
    '0',
    '--config',
    relative(w.dir, await w.write('sandbox.yml', 'acount: {id: "210987654321"}\n')),
  ]),
  'sb-config-wrong-type': sandboxCommand(async (w) => [
    '--port',
    '0',
    '--config',
    relative(w.dir, await w.write('sandbox.yml', 'account: {id: 210987654321}\n')),
  ]),
  'sb-config-missing': sandboxCommand(() => ['--port', '0', '--config', 'sandbox.yml']),
  'sb-port-in-use': sandboxCommand(() => ['--port', String(t.sandbox.port)]),
  'sb-port-range': sandboxCommand(() => ['--port', '70000']),

  // keyless demo
  'demo-not-a-sample': keyless('demo', async (w) => {
    await w.write('site/index.html', '<h1>not the sample</h1>\n');
    await w.write('demo-work/notes.txt', 'kept\n');
    return ['demo', '--sample', 'site', '--work-dir', 'demo-work'];
  }),

  // CloudFormationCreateOrUpdateStack@1
  'task-cfn-template-syntax': task('CloudFormationCreateOrUpdateStack', async (w) => ({
    stackName: STACK,
    templateFile: relative(w.dir, await w.write('infrastructure.yml', 'Resources:\n  Setting: {Type: X\n')),
  })),
  'task-cfn-template-file-missing': task('CloudFormationCreateOrUpdateStack', () => ({
    stackName: STACK,
    templateFile: 'infra/infrastructure.yml',
  })),
  'task-cfn-template-source-unknown': task('CloudFormationCreateOrUpdateStack', () => ({
    stackName: STACK,
    templateSource: 'git',
  })),
  'task-cfn-boolean': task('CloudFormationCreateOrUpdateStack', async (w) => ({
    stackName: STACK,
    templateFile: relative(w.dir, await w.write('infrastructure.yml', GOOD_TEMPLATE)),
    useChangeSet: 'yes',
  })),
  'task-cfn-parameters-malformed': task('CloudFormationCreateOrUpdateStack', async (w) => ({
    stackName: STACK,
    templateFile: relative(w.dir, await w.write('infrastructure.yml', GOOD_TEMPLATE)),
    templateParametersFile: relative(w.dir, await w.write('parameters.json', '{"Label": "green",, }\n')),
  })),
  'task-cfn-s3-template-missing': task('CloudFormationCreateOrUpdateStack', () => ({
    stackName: STACK,
    templateSource: 's3',
    s3BucketName: BUCKET,
    s3ObjectKey: 'templates/infrastructure.yml',
  })),
  'task-cfn-use-previous-unknown-stack': task('CloudFormationCreateOrUpdateStack', () => ({
    stackName: 'catalogue-never-created',
    templateSource: 'usePrevious',
  })),
  'task-cfn-stack-name-invalid': task('CloudFormationCreateOrUpdateStack', async (w) => ({
    stackName: 'web stack',
    templateFile: relative(w.dir, await w.write('infrastructure.yml', GOOD_TEMPLATE)),
  })),
  'task-cfn-tags-malformed': task('CloudFormationCreateOrUpdateStack', async (w) => ({
    stackName: STACK,
    templateFile: relative(w.dir, await w.write('infrastructure.yml', GOOD_TEMPLATE)),
    tags: 'team=web\ncost-centre 42',
  })),

  // CloudFormationDeleteStack@1 and CloudFormationExecuteChangeSet@1
  'task-cfn-delete-protected': task('CloudFormationDeleteStack', () => ({ stackName: STACK })),
  'task-cfn-delete-timeout': task('CloudFormationDeleteStack', () => ({
    stackName: STACK,
    timeoutInMins: '0',
  })),
  'task-changeset-unknown': task('CloudFormationExecuteChangeSet', () => ({
    changeSetName: 'keyless-42',
    stackName: 'catalogue-never-created',
  })),
  'task-changeset-arn-malformed': task('CloudFormationExecuteChangeSet', () => ({
    changeSetName: 'arn:aws:cloudformation:us-east-1:changeSet/keyless-42',
  })),

  // CodeDeployDeployApplication@1
  'task-cd-appspec-no-os': task('CodeDeployDeployApplication', async (w) => ({
    applicationName: APP,
    deploymentGroupName: GROUP,
    revisionBundle: await bundle(w, GOOD_APPSPEC.replace('os: linux\n', '')),
    bucketName: BUCKET,
  })),
  'task-cd-rollback-events-unknown': task('CodeDeployDeployApplication', async (w) => ({
    applicationName: APP,
    deploymentGroupName: GROUP,
    revisionBundle: await bundle(w),
    bucketName: BUCKET,
    autoRollback: 'enabled',
    autoRollbackEvents: 'DEPLOYMENT_FAILURE\nON_FIRE',
  })),
  'task-cd-group-unknown': task('CodeDeployDeployApplication', async (w) => ({
    applicationName: APP,
    deploymentGroupName: 'no-such-group',
    revisionBundle: await bundle(w),
    bucketName: BUCKET,
  })),
  'task-cd-revision-source-unknown': task('CodeDeployDeployApplication', async (w) => ({
    applicationName: APP,
    deploymentGroupName: GROUP,
    deploymentRevisionSource: 'github',
    revisionBundle: await bundle(w),
    bucketName: BUCKET,
  })),

  // S3Upload@1
  'task-s3-bucket-unknown': task('S3Upload', async (w) => ({
    bucketName: 'no-such-site',
    sourceFolder: await bundle(w),
  })),
  'task-s3-source-missing': task('S3Upload', () => ({ bucketName: BUCKET, sourceFolder: 'public' })),
  'task-s3-region-unknown': task('S3Upload', async (w) => ({
    bucketName: BUCKET,
    sourceFolder: await bundle(w),
    regionName: 'Frankfurt',
  })),
  'task-s3-storage-class': task('S3Upload', async (w) => ({
    bucketName: BUCKET,
    sourceFolder: await bundle(w),
    storageClass: 'COLD',
  })),

  // AWSShellScript@1 and AWSCLI@1
  'task-shell-script-missing': task('AWSShellScript', () => ({
    scriptType: 'filePath',
    filePath: 'scripts/deploy.sh',
  })),
  'task-shell-interpreter-unknown': task('AWSShellScript', () => ({
    scriptType: 'inline',
    inlineScript: 'aws sts get-caller-identity',
    scriptInterpreter: 'fish',
  })),
  'task-shell-arguments-quote': task('AWSShellScript', () => ({
    scriptType: 'inline',
    inlineScript: 'echo "$1"',
    arguments: '"unclosed argument',
  })),
  'task-awscli-session-duration': task('AWSCLI', () => ({
    awsCommand: 's3',
    awsSubCommand: 'ls',
    sessionDuration: '60',
  })),
  'task-awscli-no-command': task('AWSCLI', () => ({ awsCommand: '' })),

  // AWSCredentials@1 (its own credential inputs, no connection)
  'task-creds-role-arn-malformed': task(
    'AWSCredentials',
    () => ({ authMode: 'github', roleArn: 'arn:aws:iam:210987654321:role/deploy' }),
    { connection: 'none' },
  ),
  'task-creds-auth-mode-unknown': task(
    'AWSCredentials',
    () => ({ authMode: 'kerberos', roleArn: t.ids.roleArn }),
    {
      connection: 'none',
    },
  ),
  'task-creds-wrong-audience': task(
    'AWSCredentials',
    async (w) => {
      const token = await t.sandbox.control.mintToken('github', {
        aud: 'api://someone-else',
        sub: 'repo:contoso/web:ref:refs/heads/main',
      });
      mintedSecrets.add(token);
      return {
        authMode: 'tokenFile',
        roleArn: t.ids.githubRoleArn,
        tokenFile: relative(w.dir, await w.write('token.jwt', token, 0o600)),
      };
    },
    { connection: 'none' },
  ),

  // Service connections (any task)
  'task-connection-unavailable': task(
    'S3Upload',
    async (w) => ({ bucketName: BUCKET, sourceFolder: await bundle(w) }),
    {
      connection: () => undefined,
    },
  ),
  'task-connection-auth-mode': task('CloudFormationDeleteStack', () => ({ stackName: STACK }), {
    connection: (id) => ({
      ...managedIdentityConnection(id),
      parameters: { authMode: 'password', roleArn: t.ids.roleArn },
    }),
  }),
  'task-connection-session-duration': task(
    'CodeDeployDeployApplication',
    async (w) => ({
      applicationName: APP,
      deploymentGroupName: GROUP,
      revisionBundle: await bundle(w),
      bucketName: BUCKET,
    }),
    {
      connection: (id) => ({
        ...managedIdentityConnection(id),
        parameters: { ...managedIdentityConnection(id).parameters, sessionDuration: 'forever' },
      }),
    },
  ),
  'task-no-credentials': task(
    'S3Upload',
    async (w) => ({ bucketName: BUCKET, sourceFolder: await bundle(w) }),
    {
      connection: 'none',
    },
  ),
};

// ---------------------------------------------------------------------------------------------------------
// The catalogue: docs/errors.md's table rows.

interface Row {
  id: string;
  number: string;
  command: string;
  input: string;
  /** The first line as printed; `…` matches any text. */
  message: string;
  /** CLI rows: the exit code; task rows: 'Failed'. */
  expected: { exitCode: number } | { taskResult: 'Failed' };
  unchanged: string;
}

/** Cells of a Markdown table line; `\|` is a literal pipe (also inside code spans, as GFM requires). */
function cells(line: string): string[] {
  const out: string[] = [];
  let current = '';
  for (let index = 1; index < line.length; index++) {
    const char = line[index]!;
    if (char === '\\' && line[index + 1] === '|') {
      current += '|';
      index++;
    } else if (char === '|') {
      out.push(current.trim());
      current = '';
    } else current += char;
  }
  return out;
}

/** The text of a cell that is one code span (`x` or `` x `` when x holds a backtick). */
function codeSpan(cell: string): string | undefined {
  const match = /^(`+)([\s\S]*)\1$/.exec(cell);
  if (!match) return undefined;
  const text = match[2]!;
  return match[1]!.length > 1 && text.startsWith(' ') && text.endsWith(' ') ? text.slice(1, -1) : text;
}

function parseCatalogue(markdown: string): { rows: Row[]; problems: string[] } {
  const rows: Row[] = [];
  const problems: string[] = [];
  for (const [index, line] of markdown.split('\n').entries()) {
    if (!line.startsWith('|')) continue;
    const id = /<!--\s*case:\s*([a-z0-9-]+)\s*-->/.exec(line)?.[1];
    if (!id) continue;
    const where = `docs/errors.md line ${index + 1} (${id})`;
    const row = cells(line);
    if (row.length !== 6) {
      problems.push(`${where}: ${row.length} cells, expected 6`);
      continue;
    }
    const [first, command, input, messageCell, exitCell, unchanged] = row as [string, ...string[]];
    const message = codeSpan(messageCell!);
    if (message === undefined) problems.push(`${where}: the message cell is not one code span`);
    const exit = /^exit ([0-9])$/.exec(exitCell!);
    const failed = /^`?Failed`?\b/.test(exitCell!);
    if (!exit && !failed) problems.push(`${where}: the result cell is neither "exit N" nor "Failed"`);
    if (!input || !unchanged)
      problems.push(`${where}: the input and "nothing changed" cells must not be empty`);
    rows.push({
      id,
      number: first.replace(/<!--[\s\S]*?-->/, '').trim(),
      command: command!.replace(/`/g, ''),
      input: input!,
      message: message ?? '',
      expected: exit ? { exitCode: Number(exit[1]) } : { taskResult: 'Failed' },
      unchanged: unchanged!,
    });
  }
  return { rows, problems };
}

function wildcard(pattern: string): RegExp {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${pattern.split('…').map(escape).join('[\\s\\S]*?')}$`);
}

// ---------------------------------------------------------------------------------------------------------
// What must not change: the sandbox's account, and the case's files.

async function awsState(): Promise<Record<string, unknown>> {
  const describeStack = async (stack: Stack) => {
    const name = stack.StackName!;
    const [events, changeSets, resources, template] = await Promise.all([
      cfn.send(new DescribeStackEventsCommand({ StackName: name })),
      cfn.send(new ListChangeSetsCommand({ StackName: name })),
      cfn.send(new ListStackResourcesCommand({ StackName: name })),
      cfn.send(new GetTemplateCommand({ StackName: name })),
    ]);
    return [
      name,
      {
        status: stack.StackStatus,
        lastUpdated: stack.LastUpdatedTime?.toISOString(),
        terminationProtection: stack.EnableTerminationProtection,
        parameters: stack.Parameters?.map((p) => `${p.ParameterKey}=${p.ParameterValue}`),
        outputs: stack.Outputs?.map((o) => `${o.OutputKey}=${o.OutputValue}`),
        events: events.StackEvents?.length,
        changeSets: changeSets.Summaries?.map((c) => `${c.ChangeSetName}:${c.Status}`),
        resources: resources.StackResourceSummaries?.map(
          (r) => `${r.LogicalResourceId}=${r.PhysicalResourceId} (${r.ResourceType})`,
        ),
        template: template.TemplateBody,
      },
    ] as const;
  };
  const listObjects = async (bucket: string) => {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      for (const object of page.Contents ?? []) keys.push(`${object.Key} ${object.ETag} ${object.Size}`);
      token = page.NextContinuationToken;
    } while (token);
    return [bucket, keys] as const;
  };
  const describeApplication = async (application: string) => {
    const [groups, revisions] = await Promise.all([
      codedeploy.send(new ListDeploymentGroupsCommand({ applicationName: application })),
      codedeploy.send(new ListApplicationRevisionsCommand({ applicationName: application })),
    ]);
    return [
      application,
      { groups: groups.deploymentGroups, revisions: revisions.revisions?.length },
    ] as const;
  };
  const [stacks, buckets, applications, deployments] = await Promise.all([
    cfn
      .send(new DescribeStacksCommand({}))
      .then(async (out) => Object.fromEntries(await Promise.all((out.Stacks ?? []).map(describeStack)))),
    s3
      .send(new ListBucketsCommand({}))
      .then(async (out) =>
        Object.fromEntries(await Promise.all((out.Buckets ?? []).map((bucket) => listObjects(bucket.Name!)))),
      ),
    codedeploy
      .send(new ListApplicationsCommand({}))
      .then(async (out) =>
        Object.fromEntries(await Promise.all((out.applications ?? []).map(describeApplication))),
      ),
    codedeploy.send(new ListDeploymentsCommand({})).then((out) => out.deployments ?? []),
  ]);
  return { stacks, buckets, applications, deployments };
}

/** Every entry under `dir` (symlinks not followed): type, mode, size, mtime, content hash or link target. */
async function folderState(dir: string): Promise<Record<string, string>> {
  const state: Record<string, string> = {};
  const walk = async (path: string): Promise<void> => {
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      const info = await lstat(full);
      const key = relative(dir, full);
      if (entry.isSymbolicLink()) state[key] = `link → ${await readlink(full)}`;
      else if (entry.isDirectory()) {
        state[key] = `dir ${(info.mode & 0o777).toString(8)}`;
        await walk(full);
      } else {
        const hash = createHash('sha256')
          .update(await readFile(full))
          .digest('hex');
        state[key] = `file ${(info.mode & 0o777).toString(8)} ${info.size} ${info.mtimeMs} ${hash}`;
      }
    }
  };
  await walk(dir);
  return state;
}

/** Every file a case wrote to its scratch folder (run.log, run.json, task summaries), dotfiles aside. */
async function writtenTexts(dir: string): Promise<string> {
  const texts: string[] = [];
  const walk = async (path: string): Promise<void> => {
    for (const entry of await readdir(path, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const full = join(path, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && (await lstat(full)).size < 1_000_000) {
        texts.push(`--- ${relative(dir, full)} ---\n${await readFile(full, 'utf8')}`);
      }
    }
  };
  await walk(dir);
  return texts.join('\n');
}

/**
 * The rollback case: CloudFormation did change the stack's status and history (events, the executed change set),
 * never what it holds: parameters, outputs, resources and template.
 */
function withoutRollbackHistory(state: Record<string, unknown>): Record<string, unknown> {
  const stacks = { ...(state.stacks as Record<string, Record<string, unknown>>) };
  const stack = stacks[ROLLBACK_STACK];
  if (stack) {
    const {
      status: _status,
      lastUpdated: _lastUpdated,
      events: _events,
      changeSets: _changeSets,
      ...held
    } = stack;
    stacks[ROLLBACK_STACK] = held;
  }
  return { ...state, stacks };
}

// ---------------------------------------------------------------------------------------------------------

async function createStack(name: string, terminationProtection: boolean): Promise<void> {
  await cfn.send(
    new CreateStackCommand({
      StackName: name,
      TemplateBody: GOOD_TEMPLATE,
      EnableTerminationProtection: terminationProtection,
    }),
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = (await cfn.send(new DescribeStacksCommand({ StackName: name }))).Stacks?.[0]?.StackStatus;
    if (status === 'CREATE_COMPLETE') return;
    assert.ok(!/FAILED|ROLLBACK/.test(status ?? '') && Date.now() < deadline, `${name} ended ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const { rows, problems } = parseCatalogue(await readFile(catalogueFile, 'utf8'));
/** What every case printed, for the secret scan (here and, with KEYLESS_HOSTILE_ARTIFACTS, the suite's). */
const captured = new Map<string, string>();

/**
 * What a person sees: the agent consumes `setsecret` and secret `setvariable` commands (masking their values
 * from then on), so a task's raw output minus those lines.
 */
function printedText(outcome: Outcome): string {
  const { stdout, stderr } = outcome.result;
  const text = `${stdout}\n${stderr}`;
  if (outcome.kind === 'cli') return text;
  return text
    .split(/\r?\n/)
    .filter((line) => !line.includes('##vso[task.setsecret]'))
    .filter((line) => !(line.includes('##vso[task.setvariable') && line.includes('issecret=true')))
    .join('\n');
}

/** The line the row's message describes: the CLI's first error line; a task's task.complete message. */
function printedMessage(outcome: Outcome): string | undefined {
  if (outcome.kind === 'task') return outcome.result.completions[0]?.data.split('\n')[0];
  for (const text of [outcome.result.stderr, outcome.result.stdout]) {
    const line = text.split('\n').find((l) => l.startsWith('error: ') || l.startsWith('##[error]'));
    if (line !== undefined) return line;
  }
  return undefined;
}

/** The account before the first of the side-by-side cases ran. */
let baseline: Promise<Record<string, unknown>> | undefined;

async function runCase(row: Row): Promise<void> {
  const definition = cases[row.id];
  assert.ok(definition, `docs/errors.md row ${row.number} names the case "${row.id}", which this file lacks`);
  assert.equal(row.command, definition.command, `row ${row.number}'s command cell`);
  const dir = await mkdtemp(join(root, `${row.id}-`));
  const scratch = await mkdtemp(join(root, `${row.id}-scratch-`));
  let filesBefore: Record<string, string> | undefined;
  let awsBefore: Record<string, unknown> | undefined;
  const outcome = await definition.run({
    dir,
    scratch,
    async write(path, text, mode) {
      const full = join(dir, path);
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, text);
      if (mode !== undefined) await chmod(full, mode);
      return full;
    },
    async symlink(path, target) {
      const full = join(dir, path);
      await mkdir(dirname(full), { recursive: true });
      await symlink(target, full);
    },
    async ready() {
      filesBefore = await folderState(dir);
      // Cases run side by side only when none may change anything: one description before any of them ran
      // is the state each must leave behind.
      awsBefore = await (definition.exclusive ? awsState() : (baseline ??= awsState()));
    },
  });
  assert.ok(filesBefore && awsBefore, 'the case called ready() before running');
  const text = printedText(outcome);
  // Logs, run records and summaries the case left for people to read, for the secret checks.
  captured.set(row.id, `${text}\n${await writtenTexts(scratch)}`);
  const context = `\n--- output of ${row.id} ---\n${text.slice(-3000)}`;

  const message = printedMessage(outcome);
  assert.ok(message !== undefined, `no error message printed${context}`);
  assert.match(message, wildcard(row.message), `row ${row.number}'s message${context}`);
  if ('exitCode' in row.expected) {
    assert.equal(outcome.kind, 'cli', `row ${row.number} gives an exit code, but the case runs a task`);
    assert.equal(outcome.result.code, row.expected.exitCode, `exit code${context}`);
  } else {
    assert.equal(outcome.kind, 'task', `row ${row.number} gives a task result, but the case runs the CLI`);
    const run = outcome.result as TaskRun;
    assert.equal(run.completions.length, 1, `exactly one task.complete${context}`);
    assert.equal(run.result, 'Failed', `task result${context}`);
    assert.equal(run.exitCode, 0, `a task exits 0 (the agent reads task.complete)${context}`);
  }
  assert.doesNotMatch(text, /^\s+at .+:\d+:\d+\)?$/m, `no stack trace${context}`);
  assert.doesNotMatch(
    text,
    /unexpected failure|failed unexpectedly/i,
    `a known mistake, not a bug${context}`,
  );
  assert.match(text, /Fix: \S/, `the output says what to do${context}`);
  assert.deepEqual(
    leakedSecrets([captured.get(row.id)!], [...t.secrets, ...mintedSecrets]),
    [],
    `no secret printed${context}`,
  );

  assert.deepEqual(await folderState(dir), filesBefore, `no file of the case was changed or lost${context}`);
  const awsAfter = await awsState();
  if (definition.exclusive) {
    assert.deepEqual(
      withoutRollbackHistory(awsAfter),
      withoutRollbackHistory(awsBefore),
      `held the same${context}`,
    );
  } else assert.deepEqual(awsAfter, awsBefore, `nothing changed in the account${context}`);
}

describe('the bad-input catalogue (docs/errors.md)', () => {
  before(async () => {
    assert.ok(
      existsSync(join(tasksDirectory, 'S3Upload', 'index.js')),
      `The tasks are not built (${tasksDirectory}): run \`npm run build\` first.`,
    );
    root = await mkdtemp(join(tmpdir(), 'keyless-errors-catalogue-'));
    t = await startTestSandbox({ providerDelaySeconds: 0 });
    const config = { region, endpoint: t.url, credentials: t.root, forcePathStyle: true };
    cfn = new CloudFormationClient(config);
    s3 = new S3Client(config);
    codedeploy = new CodeDeployClient(config);
    await Promise.all([createStack(STACK, true), createStack(ROLLBACK_STACK, false)]);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'existing/readme.txt', Body: 'kept\n' }));
    await codedeploy.send(new CreateApplicationCommand({ applicationName: APP, computePlatform: 'Server' }));
    await codedeploy.send(
      new CreateDeploymentGroupCommand({
        applicationName: APP,
        deploymentGroupName: GROUP,
        serviceRoleArn: `arn:aws:iam::${t.sandbox.accountId}:role/CodeDeployServiceRole`,
        ec2TagFilters: [{ Key: 'app', Value: 'catalogue', Type: 'KEY_AND_VALUE' }],
      }),
    );
  });

  after(async () => {
    await persistForTheSuite();
    cfn?.destroy();
    s3?.destroy();
    codedeploy?.destroy();
    await t?.sandbox.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  test('every row names a case, every case has a row, and the table is well-formed', () => {
    assert.deepEqual(problems, []);
    const ids = rows.map((row) => row.id);
    const duplicates = ids.filter((id, index) => ids.indexOf(id) !== index);
    assert.deepEqual(duplicates, [], 'each case has one row');
    assert.deepEqual(
      Object.keys(cases).filter((id) => !ids.includes(id)),
      [],
      'cases without a row in docs/errors.md',
    );
    assert.deepEqual(
      ids.filter((id) => !(id in cases)),
      [],
      'rows of docs/errors.md without a case here',
    );
    assert.ok(rows.length >= 40, `at least 40 cases (found ${rows.length})`);
  });

  describe('each case, a few at a time', { concurrency: 6 }, () => {
    for (const row of rows.filter((r) => !cases[r.id]?.exclusive)) {
      test(`${row.number} ${row.id}: ${row.command}`, () => runCase(row));
    }
  });

  describe('cases CloudFormation finds mid-operation, alone', () => {
    for (const row of rows.filter((r) => cases[r.id]?.exclusive)) {
      test(`${row.number} ${row.id}: ${row.command}`, () => runCase(row));
    }
  });

  test('no case printed a secret the sandbox minted or the suite created', () => {
    assert.ok(captured.size > 0);
    assert.deepEqual(leakedSecrets([...captured.values()], [...t.secrets, ...mintedSecrets]), []);
  });
});

/**
 * With KEYLESS_HOSTILE_ARTIFACTS set (npm run test:hostile), the count of bad inputs tried, every text the
 * cases printed and every secret they could have printed, for the suite's final scan and counts.
 */
async function persistForTheSuite(): Promise<void> {
  const directory = process.env.KEYLESS_HOSTILE_ARTIFACTS;
  if (!directory) return;
  const name = 'errors-catalogue';
  const secrets = [...(t?.secrets ?? []), ...mintedSecrets];
  await mkdir(join(directory, 'texts'), { recursive: true });
  await mkdir(join(directory, 'secrets'), { recursive: true });
  await writeFile(join(directory, 'bad-inputs.json'), `${JSON.stringify({ tried: captured.size })}\n`);
  for (const [id, text] of captured) await writeFile(join(directory, 'texts', `${name}-${id}.txt`), text);
  await writeFile(join(directory, 'secrets', `${name}.json`), JSON.stringify(secrets));
  // The same texts and secrets in the hostile collector's layout (<name>.texts.json / .secrets.json).
  const texts = [...captured].map(([id, text]) => ({ label: id, text }));
  await writeFile(join(directory, `${name}.texts.json`), JSON.stringify(texts));
  await writeFile(join(directory, `${name}.secrets.json`), JSON.stringify(secrets));
}
