// docs/troubleshooting.md is tested, not hand-copied: every row of its tables names a case
// (`<!-- case: id -->` in the first cell), and this file runs that case's scenario through the built CLI
// against one sandbox, then checks the row's printed lines (`…` is a wildcard), its exit code, that nothing
// printed a stack trace and that no secret leaked. A row without a scenario, or a scenario without a row,
// fails.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import {
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentGroupCommand,
  ListDeploymentsCommand,
} from '@aws-sdk/client-codedeploy';
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  cleanEnv,
  cliBundle,
  leakedSecrets,
  managedIdentityArgs,
  runCli,
  startTestSandbox,
  type CliResult,
  type TestSandbox,
} from './support';

const docPath = fileURLToPath(new URL('../../../docs/troubleshooting.md', import.meta.url));

// ---------------------------------------------------------------------------------------------------------
// The document's tables

interface DocRow {
  id: string;
  section: string;
  /** 1-based line in the document, for failure messages. */
  line: number;
  /** The code spans of the "what Keyless prints" cell: whole output lines, in order, `…` a wildcard. */
  printed: string[];
  exitCode: number;
}

const printedHeader = /^what keyless prints/i;

function cells(line: string): string[] {
  // Cells are split on pipes; a pipe inside a cell must be written \| (Markdown's own rule).
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

/** A Markdown code span: a run of backticks, the text, the same run (`` a `b` c `` holds backticks). */
const codeSpan = /(`+)(.+?)(?<!`)\1(?!`)/g;

function codeSpans(cell: string): string[] {
  return [...cell.matchAll(codeSpan)].map((match) => {
    const text = match[2]!;
    return /^ .* $/.test(text) ? text.slice(1, -1) : text;
  });
}

/** Every case row of every table whose header has a "what Keyless prints" column, and what is wrong with any. */
function parseTroubleshooting(markdown: string): { rows: DocRow[]; problems: string[] } {
  const rows: DocRow[] = [];
  const problems: string[] = [];
  const lines = markdown.split('\n');
  let section = '';
  let printedColumn = -1;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const where = `docs/troubleshooting.md:${index + 1}`;
    if (/^#{1,6} /.test(line)) section = line.replace(/^#+ /, '');
    if (!line.trimStart().startsWith('|')) {
      printedColumn = -1;
      continue;
    }
    const row = cells(line);
    if (printedColumn === -1) {
      // A header row (the separator follows it), or a table this test does not own.
      printedColumn = row.findIndex((cell) => printedHeader.test(cell));
      if (printedColumn !== -1) index++;
      continue;
    }
    const id = /<!--\s*case:\s*([a-z0-9-]+)\s*-->/.exec(row[0] ?? '')?.[1];
    const printedCell = row[printedColumn] ?? '';
    const printed = codeSpans(printedCell);
    const exitCode = Number(/\bexit ([12])\b/.exec(printedCell.replace(codeSpan, ''))?.[1] ?? NaN);
    if (!id) problems.push(`${where}: row has no <!-- case: id --> in its first cell`);
    else if (rows.some((other) => other.id === id)) problems.push(`${where}: case ${id} appears twice`);
    else if (printed.length === 0) problems.push(`${where}: case ${id} shows no printed line in backticks`);
    else if (!printed.some((text) => text.startsWith('error: ')))
      problems.push(`${where}: case ${id} does not show the "error: " line`);
    else if (Number.isNaN(exitCode)) problems.push(`${where}: case ${id} does not say "exit 1" or "exit 2"`);
    else rows.push({ id, section, line: index + 1, printed, exitCode });
  }
  return { rows, problems };
}

/** A documented line as a regular expression for one whole (trimmed) output line; `…` matches anything. */
function linePattern(documented: string): RegExp {
  const parts = documented.trim().split('…');
  return new RegExp(`^${parts.map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*?')}$`);
}

/**
 * Checks a row against what the CLI printed: the first `error: ` line is the row's `error: ` line, and every
 * documented line matches a whole output line, in the documented order. Returns the problems found.
 */
function compareWithOutput(row: DocRow, output: string): string[] {
  const lines = output.split('\n').map((line) => line.trim());
  const problems: string[] = [];
  const documentedError = row.printed.find((text) => text.startsWith('error: '))!;
  const firstError = lines.find((line) => line.startsWith('error: '));
  if (firstError === undefined) problems.push('the CLI printed no "error: " line');
  else if (!linePattern(documentedError).test(firstError)) {
    problems.push(
      `the first error line differs:\n  documented: ${documentedError}\n  printed:    ${firstError}`,
    );
  }
  let from = 0;
  for (const text of row.printed) {
    const pattern = linePattern(text);
    const found = lines.findIndex((line, index) => index >= from && pattern.test(line));
    if (found === -1) problems.push(`no output line (in order) matches: ${text}`);
    else from = found + 1;
  }
  return problems;
}

const doc = parseTroubleshooting(readFileSync(docPath, 'utf8'));

// ---------------------------------------------------------------------------------------------------------
// The sandbox and the CodeDeploy estate the scenarios share

/** One simulated minute lasts a second: CodeDeploy's agents, hook timeouts and session lifetimes. */
const TIME_SCALE = 60;
const APP = 'shop';
const BUCKET = 'shop-bundles';
const NOT_IN_IAM = 'api://keyless-not-in-iam';
/** Deployment groups that get deployments, one instance each (one active deployment per group). */
const FLEET_GROUPS = ['validate-fails', 'validate-hangs', 'slow', 'cancelled', 'busy'] as const;

let t: TestSandbox;
let codedeploy: CodeDeployClient;
let work: string;
/** Preload for the --timeout cases: SIGUSR2 moves the CLI's Date.now() 58 s ahead (see CLOCK_PRELOAD). */
let clockPreload: string;
/** Created when the test ends: the slow bundle's hook waits for it. */
let release: string;
const bundles: Record<string, string> = {};
const outputs: string[] = [];

/**
 * Keyless's shortest --timeout is one minute. Rather than wait a real minute, the timeout cases load this with
 * --import and send SIGUSR2 once the wait has begun: the process's clock (which Keyless's poller and its
 * deadline read) jumps 58 s, so the deadline passes within two seconds and the real code path reports it.
 */
const CLOCK_PRELOAD = `const realNow = Date.now;
let skewMs = 0;
Date.now = () => realNow() + skewMs;
process.on('SIGUSR2', () => {
  skewMs += 58_000;
});
`;

function writeTree(dir: string, files: Record<string, string>): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
    if (path.endsWith('.sh')) chmodSync(join(dir, path), 0o755);
  }
  return dir;
}

/** A one-hook application (ValidateService runs scripts/validate.sh) unless `appspec` says otherwise. */
function bundle(
  name: string,
  options: { appspec?: string; validate?: string; timeout?: number } = {},
): string {
  const appspec =
    options.appspec ??
    [
      'version: 0.0',
      'os: linux',
      'files:',
      '  - source: app',
      '    destination: /opt/shop',
      'hooks:',
      '  ValidateService:',
      '    - location: scripts/validate.sh',
      `      timeout: ${options.timeout ?? 300}`,
      '',
    ].join('\n');
  const files: Record<string, string> = {
    'app/VERSION': `${name}\n`,
    'scripts/validate.sh': `#!/bin/bash\n${options.validate ?? 'echo "shop answers"'}\n`,
  };
  if (options.appspec !== '') files['appspec.yml'] = appspec;
  bundles[name] = writeTree(join(work, name), files);
  return bundles[name];
}

async function launchInstance(tag: string): Promise<void> {
  const ec2 = new EC2Client({ endpoint: t.url, region: 'us-east-1', credentials: t.root });
  const run = await ec2.send(
    new RunInstancesCommand({
      ImageId: 'ami-0abcdef1234567890',
      InstanceType: 't3.micro',
      MinCount: 1,
      MaxCount: 1,
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Group', Value: tag }] }],
    }),
  );
  const ids = (run.Instances ?? []).map((instance) => instance.InstanceId!);
  for (let attempt = 0; attempt < 600; attempt++) {
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
    const states = (described.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.State?.Name);
    if (states.length === ids.length && states.every((state) => state === 'running')) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the instance for ${tag} did not start`);
}

before(async () => {
  t = await startTestSandbox({ timeScale: TIME_SCALE, extraResources: [NOT_IN_IAM] });
  work = mkdtempSync(join(tmpdir(), 'keyless-troubleshooting-'));
  release = join(work, 'release-held-hooks');
  clockPreload = join(work, 'clock-skew.mjs');
  writeFileSync(clockPreload, CLOCK_PRELOAD);

  bundle('good');
  bundle('appspec-in-subfolder', { appspec: '' });
  writeTree(bundles['appspec-in-subfolder']!, {
    'deploy/appspec.yml': readFileSync(join(bundles.good!, 'appspec.yml'), 'utf8'),
  });
  bundle('quoted-version', {
    appspec: readFileSync(join(bundles.good!, 'appspec.yml'), 'utf8').replace(
      'version: 0.0',
      "version: '0.0'",
    ),
  });
  bundle('script-missing', {
    appspec: readFileSync(join(bundles.good!, 'appspec.yml'), 'utf8').replace('validate.sh', 'check.sh'),
  });
  bundle('validate-fails', {
    validate: 'echo "GET http://127.0.0.1/health"\necho "health check failed: shop answered 503" >&2\nexit 7',
  });
  // 60 simulated seconds are one real second at TIME_SCALE.
  bundle('validate-hangs', { validate: 'echo "waiting for the shop to answer"\nsleep 30', timeout: 60 });
  bundle('slow', {
    appspec: [
      'version: 0.0',
      'os: linux',
      'files:',
      '  - source: app',
      '    destination: /opt/shop',
      'hooks:',
      '  BeforeInstall:',
      '    - location: scripts/wait.sh',
      '      timeout: 3600',
      '',
    ].join('\n'),
  });
  // Holds its deployment in BeforeInstall until the test ends (or its 3600 s, a real minute, run out).
  writeTree(bundles.slow!, {
    'scripts/wait.sh': `#!/bin/bash\necho "draining connections"\nwhile [ ! -e '${release}' ]; do sleep 0.1; done\n`,
  });

  const common = { endpoint: t.url, region: 'us-east-1', credentials: t.root };
  codedeploy = new CodeDeployClient(common);
  const s3 = new S3Client({ ...common, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await codedeploy.send(new CreateApplicationCommand({ applicationName: APP, computePlatform: 'Server' }));
  await Promise.all(
    ['web', ...FLEET_GROUPS].map(async (group) => {
      if (group !== 'web') await launchInstance(group);
      await codedeploy.send(
        new CreateDeploymentGroupCommand({
          applicationName: APP,
          deploymentGroupName: group,
          serviceRoleArn: 'arn:aws:iam::210987654321:role/CodeDeployServiceRole',
          ec2TagFilters: [{ Key: 'Group', Value: group, Type: 'KEY_AND_VALUE' }],
        }),
      );
    }),
  );
});

/** Lets the held hooks finish and waits for their deployments to end, so no hook outlives the sandbox. */
async function releaseHeldDeployments(): Promise<void> {
  writeFileSync(release, '');
  const active = ['Created', 'Queued', 'InProgress', 'Ready'] as const;
  for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
    const running = await Promise.all(
      FLEET_GROUPS.map(async (group) => {
        const listed = await codedeploy.send(
          new ListDeploymentsCommand({
            applicationName: APP,
            deploymentGroupName: group,
            includeOnlyStatuses: [...active],
          }),
        );
        return listed.deployments?.length ?? 0;
      }),
    );
    if (running.every((count) => count === 0)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

after(async () => {
  try {
    if (codedeploy) await releaseHeldDeployments();
  } finally {
    await t?.sandbox.close();
    if (work) rmSync(work, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------------------
// Running the CLI

/**
 * Runs the built CLI and, once its stderr matches `when`, sends it `signal` (Ctrl-C, or SIGUSR2 for the clock
 * preload). Output is collected as for runCli.
 */
function runCliAndSignal(
  args: string[],
  options: { when: RegExp; signal: NodeJS.Signals; preload?: string; env?: NodeJS.ProcessEnv },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const node = options.preload ? ['--import', pathToFileURL(options.preload).href] : [];
    const child = spawn(process.execPath, [...node, cliBundle, ...args], {
      env: options.env ?? cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!signalled && options.when.test(stderr)) {
        signalled = true;
        child.kill(options.signal);
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const region = ['--region', 'us-east-1'];
const withoutOption = (args: string[], name: string) =>
  args.filter((arg, index) => arg !== name && args[index - 1] !== name);
const replaceValue = (args: string[], name: string, value: string) =>
  args.map((arg, index) => (args[index - 1] === name ? value : arg));

function credentials(extra: string[] = [], args = managedIdentityArgs(t)): Promise<CliResult> {
  return runCli(['credentials', ...args, ...extra]);
}

/** A GitLab-shaped token signed by the sandbox's GitLab issuer, with these claims on top. */
function gitlabToken(claims: Record<string, unknown> = {}): Promise<string> {
  return t.sandbox.control.mintToken('gitlab', {
    aud: 'sts.amazonaws.com',
    sub: 'project_path:contoso/web:ref_type:branch:ref:main',
    project_path: 'contoso/web',
    ...claims,
  });
}

function withGitlabToken(token: string, roleArn = t.ids.gitlabRoleArn): Promise<CliResult> {
  return runCli(
    ['credentials', '--provider', 'gitlab', '--role-arn', roleArn, '--endpoint-url', t.url, ...region],
    { env: cleanEnv({ GITLAB_OIDC_TOKEN: token }) },
  );
}

function withTokenFile(name: string, token: string): Promise<CliResult> {
  const file = join(work, name);
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return runCli([
    'credentials',
    '--provider',
    'token-file',
    '--token-file',
    file,
    '--role-arn',
    t.ids.gitlabRoleArn,
    '--endpoint-url',
    t.url,
    ...region,
  ]);
}

function azureDevOps(
  env: Record<string, string>,
  serviceConnectionId = t.ids.serviceConnectionId,
): Promise<CliResult> {
  const job = `${t.url}/contoso/${t.ids.projectId}/_apis/distributedtask/hubs/build/plans/${randomUUID()}/jobs/${randomUUID()}/oidctoken`;
  return runCli(
    [
      'credentials',
      '--provider',
      'azure-devops',
      '--service-connection-id',
      serviceConnectionId,
      '--role-arn',
      t.ids.adoRoleArn,
      '--endpoint-url',
      t.url,
      ...region,
    ],
    { env: cleanEnv({ SYSTEM_OIDCREQUESTURI: job, SYSTEM_ACCESSTOKEN: t.ids.systemAccessToken, ...env }) },
  );
}

function deployArgs(group: string, revision: string[]): string[] {
  return [
    'codedeploy',
    'deploy',
    ...managedIdentityArgs(t),
    '--application',
    APP,
    '--deployment-group',
    group,
    ...revision,
  ];
}

const deploy = (group: string, bundleName: string) =>
  runCli(deployArgs(group, ['--bundle', bundles[bundleName]!, '--bucket', BUCKET]), { timeoutMs: 30_000 });

/** The scenario behind every documented case, by the id in its row. */
const scenarios: Record<string, () => Promise<CliResult>> = {
  // Getting credentials
  'sts-no-oidc-provider': async () =>
    withGitlabToken(await gitlabToken({ iss: 'https://gitlab.internal.example' })),
  'sts-audience': () => credentials([], replaceValue(managedIdentityArgs(t), '--audience', NOT_IN_IAM)),
  'sts-signature': async () => {
    // Signed by a key the issuer no longer publishes: the header names a kid its JWKS does not list.
    const [header, payload, signature] = (await gitlabToken()).split('.');
    const decoded = JSON.parse(Buffer.from(header!, 'base64url').toString()) as Record<string, unknown>;
    const retired = Buffer.from(JSON.stringify({ ...decoded, kid: 'retired-2023' })).toString('base64url');
    return withTokenFile('retired-key.jwt', `${retired}.${payload}.${signature}`);
  },
  'sts-trust-subject': async () =>
    withGitlabToken(await gitlabToken({ sub: 'project_path:contoso/web:ref_type:branch:ref:feature/login' })),
  'sts-role-missing': () =>
    credentials(
      [],
      replaceValue(managedIdentityArgs(t), '--role-arn', 'arn:aws:iam::210987654321:role/deploy-prod'),
    ),
  'sts-role-arn-malformed': () =>
    credentials([], replaceValue(managedIdentityArgs(t), '--role-arn', 'arn:aws:iam:deploy')),
  'sts-token-expired': async () => {
    const now = Math.floor(Date.now() / 1000);
    return withTokenFile(
      'expired.jwt',
      await gitlabToken({ iat: now - 1200, nbf: now - 1200, exp: now - 600 }),
    );
  },
  'sts-duration': () => credentials(['--duration', '7200']),
  'region-missing': () => credentials([], withoutOption(managedIdentityArgs(t), '--region')),
  'provider-missing': () => runCli(['credentials', '--role-arn', t.ids.roleArn, ...region]),
  'imds-unreachable': () =>
    credentials([], replaceValue(managedIdentityArgs(t), '--azure-imds-endpoint', 'http://127.0.0.1:9')),
  'imds-identity-not-found': () =>
    credentials([], replaceValue(managedIdentityArgs(t), '--client-id', randomUUID())),
  'imds-audience-unknown': () =>
    credentials([], replaceValue(managedIdentityArgs(t), '--audience', 'api://shop-typo')),
  'ado-no-request-uri': () => azureDevOps({ SYSTEM_OIDCREQUESTURI: '' }),
  'ado-no-access-token': () => azureDevOps({ SYSTEM_ACCESSTOKEN: '' }),
  'ado-access-token-rejected': () => azureDevOps({ SYSTEM_ACCESSTOKEN: 'a-personal-access-token' }),
  'ado-service-connection-unknown': () => azureDevOps({}, randomUUID()),

  // CodeDeploy deployments
  'cd-appspec-missing': () => deploy('web', 'appspec-in-subfolder'),
  'cd-appspec-quoted-version': () => deploy('web', 'quoted-version'),
  'cd-appspec-script-missing': () => deploy('web', 'script-missing'),
  'cd-application-missing': () =>
    runCli(
      replaceValue(
        deployArgs('web', ['--bundle', bundles.good!, '--bucket', BUCKET]),
        '--application',
        'Shop',
      ),
    ),
  'cd-group-missing': () => deploy('prod', 'good'),
  'cd-bucket-missing': () =>
    runCli(deployArgs('web', ['--bundle', bundles.good!, '--bucket', 'shop-bundles-typo'])),
  'cd-revision-missing': () =>
    runCli(deployArgs('web', ['--s3-bucket', BUCKET, '--s3-key', 'releases/shop-1.4.2.zip'])),
  'cd-hook-failed': () => deploy('validate-fails', 'validate-fails'),
  'cd-hook-timeout': () => deploy('validate-hangs', 'validate-hangs'),
  'cd-group-busy': async () => {
    // Someone else's deployment, still running: a run cancelled with Ctrl-C leaves its deployment to AWS.
    const other = await runCliAndSignal(deployArgs('busy', ['--bundle', bundles.slow!, '--bucket', BUCKET]), {
      when: /Created deployment d-/,
      signal: 'SIGINT',
    });
    outputs.push(other.stdout, other.stderr);
    assert.match(other.stderr, /The run was cancelled; deployment d-\w+ continues/, other.stderr);
    return runCliAndSignal(
      [...deployArgs('busy', ['--bundle', bundles.good!, '--bucket', BUCKET]), '--timeout', '1'],
      { when: /is busy with deployment d-/, signal: 'SIGUSR2', preload: clockPreload },
    );
  },
  'cd-timeout': () =>
    runCliAndSignal(
      [...deployArgs('slow', ['--bundle', bundles.slow!, '--bucket', BUCKET]), '--timeout', '1'],
      {
        when: /Created deployment d-/,
        signal: 'SIGUSR2',
        preload: clockPreload,
      },
    ),
  'cd-cancelled': () =>
    runCliAndSignal(deployArgs('cancelled', ['--bundle', bundles.slow!, '--bucket', BUCKET]), {
      when: /Created deployment d-/,
      signal: 'SIGINT',
    }),
};

// ---------------------------------------------------------------------------------------------------------
// The tests

test('docs/troubleshooting.md: every table row is a well-formed case', () => {
  assert.deepEqual(doc.problems, []);
  assert.ok(doc.rows.length >= 20, `expected the full set of cases, found ${doc.rows.length}`);
});

test('every scenario has a row in docs/troubleshooting.md', () => {
  const documented = new Set(doc.rows.map((row) => row.id));
  assert.deepEqual(
    Object.keys(scenarios).filter((id) => !documented.has(id)),
    [],
    'scenarios without a row: document them or delete them',
  );
});

describe('each documented case prints what the page says', { concurrency: 4 }, () => {
  for (const row of doc.rows) {
    test(`${row.id} (${row.section}, line ${row.line})`, async () => {
      const scenario = scenarios[row.id];
      assert.ok(scenario, `docs/troubleshooting.md:${row.line}: case ${row.id} has no scenario in this test`);
      const result = await scenario();
      outputs.push(result.stdout, result.stderr);
      const shown = `exit ${result.code}\n--- stderr\n${result.stderr}--- stdout\n${result.stdout}`;
      assert.deepEqual(compareWithOutput(row, result.stderr), [], shown);
      assert.equal(result.code, row.exitCode, `exit code\n${shown}`);
      assert.doesNotMatch(result.stderr, /^\s+at .+:\d+:\d+\)?$/m, 'a stack trace');
      assert.doesNotMatch(result.stderr, /unexpected failure/, 'an unexplained failure');
      assert.deepEqual(leakedSecrets([result.stdout, result.stderr], t.secrets), [], 'a leaked secret');
    });
  }
});

test('no secret the sandbox minted or the test seeded appears in any output or sandbox log', () => {
  assert.ok(t.secrets.size > 10, `the scan must cover real secrets (have ${t.secrets.size})`);
  assert.deepEqual(leakedSecrets([...outputs, ...t.logs], t.secrets), []);
});
