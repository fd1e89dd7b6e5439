// AWSCredentials@1 end to end: the task entry run as the agent runs it, against the sandbox's identity
// providers (Azure IMDS, Azure DevOps OIDC) and STS. Nothing is faked on our side of the wire.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  cleanEnv,
  leakedSecrets,
  runTaskProcess,
  runTaskSource,
  startTestSandbox,
  type Endpoint,
  type TaskRun,
  type TaskRunOptions,
  type TestSandbox,
} from './support';

const TASK = 'AWSCredentials';
const ACCOUNT = '210987654321';
const root = mkdtempSync(join(tmpdir(), 'keyless-awscredentials-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** What the agent shows: it consumes setsecret and secret setvariable commands (masking their values). */
function visible(output: string): string {
  return output
    .split(/\r?\n/)
    .filter((line) => !line.includes('##vso[task.setsecret]'))
    .filter((line) => !(line.includes('##vso[task.setvariable') && line.includes('issecret=true')))
    .join('\n');
}

/** Runs the task; checks what every run must satisfy: one task.complete, exit 0, no secret in the output. */
async function runTask(
  t: TestSandbox,
  inputs: Record<string, string>,
  options: TaskRunOptions & { extraSecrets?: string[] } = {},
): Promise<TaskRun> {
  const run = await runTaskSource(TASK, {
    timeoutMs: 60_000,
    ...options,
    inputs,
    env: { AWS_ENDPOINT_URL: t.url, AZURE_POD_IDENTITY_AUTHORITY_HOST: t.url, ...options.env },
  });
  checkRun(run, t, options.extraSecrets);
  return run;
}

function checkRun(run: TaskRun, t: TestSandbox, extraSecrets: string[] = []): void {
  assert.equal(run.completions.length, 1, `exactly one task.complete:\n${run.stdout}\n${run.stderr}`);
  assert.equal(run.exitCode, 0, run.stderr);
  assert.deepEqual(
    leakedSecrets([visible(run.stdout), visible(run.stderr)], [...t.secrets, ...extraSecrets]),
    [],
    'no secret in the output',
  );
}

function message(run: TaskRun): string {
  return run.completions[0]?.data ?? '';
}

/** The published AWS.* variables: secret job variables, each value announced with setsecret first. */
function assertPublishedCredentials(run: TaskRun): void {
  assert.equal(run.result, 'Succeeded', message(run));
  const lines = `${run.stdout}\n${run.stderr}`.split(/\r?\n/);
  for (const name of ['AWS.AccessKeyID', 'AWS.SecretAccessKey', 'AWS.SessionToken']) {
    const variable = run.variables.get(name);
    assert.ok(variable, `${name} is set`);
    assert.equal(variable.secret, true, `${name} is secret`);
    assert.equal(variable.output, false, `${name} is a job variable for later steps, not a step output`);
    const first = lines.findIndex((line) => line.includes(variable.value));
    assert.ok(first >= 0);
    assert.match(
      lines[first]!,
      /##vso\[task\.setsecret\]/,
      `${name}: the first line holding it is its setsecret`,
    );
  }
  assert.match(run.variables.get('AWS.AccessKeyID')!.value, /^ASIA/);
  assert.deepEqual(run.variables.get('AWS.Region'), { value: 'us-east-1', secret: false, output: false });
  assert.deepEqual(run.variables.get('accountId'), { value: ACCOUNT, secret: false, output: true });
  const expiration = run.variables.get('expiration');
  assert.equal(expiration?.output, true);
  const remaining = Date.parse(expiration?.value ?? '') - Date.now();
  assert.ok(
    remaining > 50 * 60_000 && remaining <= 60 * 60_000,
    `an hour's session, got ${expiration?.value}`,
  );
}

function adoOidcVariables(t: TestSandbox): Record<string, string> {
  return {
    'System.OidcRequestUri': `${t.url}/contoso/${t.ids.projectId}/_apis/distributedtask/hubs/build/plans/${randomUUID()}/jobs/${randomUUID()}/oidctoken`,
  };
}

/** The agent passes SystemVssConnection to every task; its AccessToken is System.AccessToken. */
function systemConnection(t: TestSandbox): Endpoint {
  return {
    id: 'SYSTEMVSSCONNECTION',
    scheme: 'OAuth',
    parameters: { AccessToken: t.ids.systemAccessToken },
    url: `${t.url}/contoso/`,
  };
}

function adoConnection(t: TestSandbox): Endpoint {
  return {
    id: t.ids.serviceConnectionId,
    scheme: 'None',
    parameters: { authMode: 'oidcServiceConnection', roleArn: t.ids.adoRoleArn },
  };
}

describe('AWSCredentials against the sandbox', () => {
  let t: TestSandbox;
  let keysRoleArn: string;
  /** Session keys from the blog's own flow (IMDS token, then AssumeRoleWithWebIdentity), as stored keys. */
  let sessionKeys: { accessKeyId: string; secretAccessKey: string; sessionToken: string };

  before(async () => {
    t = await startTestSandbox();
    const iam = new IAMClient({ region: 'us-east-1', endpoint: t.url, credentials: t.root });
    const role = await iam.send(
      new CreateRoleCommand({
        RoleName: 'pipeline-keys',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' },
          ],
        }),
      }),
    );
    keysRoleArn = role.Role?.Arn ?? '';
    const imds = new URL('/metadata/identity/oauth2/token', t.url);
    imds.search = new URLSearchParams({
      'api-version': '2018-02-01',
      resource: t.ids.audience,
      client_id: t.ids.clientId,
    }).toString();
    const token = (
      (await (await fetch(imds, { headers: { Metadata: 'true' } })).json()) as { access_token: string }
    ).access_token;
    const sts = new STSClient({ region: 'us-east-1', endpoint: t.url });
    const assumed = await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: t.ids.roleArn,
        RoleSessionName: 'AWSAssumeRole',
        WebIdentityToken: token,
      }),
    );
    sessionKeys = {
      accessKeyId: assumed.Credentials?.AccessKeyId ?? '',
      secretAccessKey: assumed.Credentials?.SecretAccessKey ?? '',
      sessionToken: assumed.Credentials?.SessionToken ?? '',
    };
  });
  after(() => t.sandbox.close());

  test("the blog's agent: its managed identity, no connection; secret AWS.* variables and outputs", async () => {
    const run = await runTask(t, {
      authMode: 'azureManagedIdentity',
      roleArn: t.ids.roleArn,
      audience: t.ids.audience,
      clientId: t.ids.clientId,
      regionName: 'us-east-1',
      sessionDuration: '3600',
      jobTimeoutInMinutes: '30',
    });
    assertPublishedCredentials(run);
    assert.match(
      run.variables.get('roleArn')?.value ?? '',
      /^arn:aws:sts::210987654321:assumed-role\/deploy\//,
    );
    assert.match(
      run.stdout,
      /Assumed identity arn:aws:sts::210987654321:assumed-role\/deploy\/\S+ in account 210987654321, until \S+ \(60 min\)/,
    );
    assert.deepEqual(run.issues, [], 'an hour is enough for a 30-minute job: no warning');
    assert.ok(!run.variables.has('AWS_WEB_IDENTITY_TOKEN_FILE'));
  });

  test('an Azure DevOps OIDC service connection; a job longer than the session gets a warning saying how to lengthen it', async () => {
    const run = await runTask(
      t,
      { awsCredentials: t.ids.serviceConnectionId, regionName: 'us-east-1', jobTimeoutInMinutes: '180' },
      {
        endpoints: [adoConnection(t), systemConnection(t)],
        variables: adoOidcVariables(t),
        secrets: { 'System.AccessToken': t.ids.systemAccessToken },
      },
    );
    assertPublishedCredentials(run);
    assert.match(run.variables.get('roleArn')?.value ?? '', /assumed-role\/deploy-ado\//);
    const warnings = run.issues.filter((issue) => issue.type === 'warning').map((issue) => issue.message);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /before the job's 180-minute timeout \(jobTimeoutInMinutes\)/);
    assert.match(warnings[0]!, /raise sessionDuration .* MaxSessionDuration .*writeTokenFile: true/);
  });

  test("a connection with the defaults: no warning for the agent-filled tokenFile or a 60-minute job; the step's sessionDuration beats the connection's", async () => {
    const withConnection = (parameters: Record<string, string>) => ({
      endpoints: [
        { ...adoConnection(t), parameters: { ...adoConnection(t).parameters, ...parameters } },
        systemConnection(t),
      ],
      variables: adoOidcVariables(t),
      secrets: { 'System.AccessToken': t.ids.systemAccessToken },
    });
    // The agent fills an empty filePath input with the sources folder; that is not a token file.
    const sources = mkdtempSync(join(root, 'sources-'));
    const defaults = await runTask(
      t,
      { awsCredentials: t.ids.serviceConnectionId, regionName: 'us-east-1', tokenFile: sources },
      { ...withConnection({}), cwd: sources },
    );
    assertPublishedCredentials(defaults);
    assert.deepEqual(defaults.issues, [], 'a one-hour session for the default 60-minute job');

    const stepWins = await runTask(
      t,
      {
        awsCredentials: t.ids.serviceConnectionId,
        regionName: 'us-east-1',
        sessionDuration: '900',
        jobTimeoutInMinutes: '0',
      },
      withConnection({ sessionDuration: '7200' }),
    );
    assert.match(stepWins.stdout, /until \S+ \(15 min\)/);
  });

  test('the AWS Toolkit\'s own AWS connection with "Use OIDC": no keys, the connection\'s OIDC token for its role', async () => {
    const run = await runTask(
      t,
      { awsCredentials: t.ids.serviceConnectionId, regionName: 'us-east-1', jobTimeoutInMinutes: '0' },
      {
        endpoints: [
          {
            id: t.ids.serviceConnectionId,
            scheme: 'UsernamePassword',
            parameters: { username: '', password: '', assumeRoleArn: t.ids.adoRoleArn, useOIDC: 'true' },
          },
          systemConnection(t),
        ],
        variables: adoOidcVariables(t),
        secrets: { 'System.AccessToken': t.ids.systemAccessToken },
      },
    );
    assertPublishedCredentials(run);
    assert.match(run.variables.get('roleArn')?.value ?? '', /assumed-role\/deploy-ado\//);
  });

  // The sandbox, like IAM, refuses AssumeRole by root keys, so the stored keys here are a role session's.
  test('an access-keys connection with a role to assume', async () => {
    const run = await runTask(
      t,
      { awsCredentials: 'keys', regionName: 'us-east-1', jobTimeoutInMinutes: '0' },
      {
        endpoints: [
          {
            id: 'keys',
            scheme: 'UsernamePassword',
            parameters: {
              username: sessionKeys.accessKeyId,
              password: sessionKeys.secretAccessKey,
              sessionToken: sessionKeys.sessionToken,
              assumeRoleArn: keysRoleArn,
            },
          },
        ],
      },
    );
    assertPublishedCredentials(run);
    assert.match(run.variables.get('roleArn')?.value ?? '', /assumed-role\/pipeline-keys\//);
    assert.notEqual(
      run.variables.get('AWS.AccessKeyID')?.value,
      sessionKeys.accessKeyId,
      'a new session, not the stored keys',
    );
  });

  test('stored long-term keys with writeTokenFile: published with warnings, and no token file', async () => {
    const run = await runTask(
      t,
      { awsCredentials: 'keys', regionName: 'us-east-1', writeTokenFile: 'true' },
      {
        endpoints: [
          {
            id: 'keys',
            scheme: 'UsernamePassword',
            parameters: { username: t.root.accessKeyId, password: t.root.secretAccessKey },
          },
        ],
        extraSecrets: [t.root.accessKeyId],
      },
    );
    assert.equal(run.result, 'Succeeded', message(run));
    assert.deepEqual(run.variables.get('AWS.AccessKeyID'), {
      value: t.root.accessKeyId,
      secret: true,
      output: false,
    });
    assert.deepEqual(
      run.variables.get('AWS.SessionToken'),
      { value: '', secret: true, output: false },
      'cleared: long-term keys have no session token',
    );
    assert.deepEqual(run.variables.get('expiration'), { value: '', secret: false, output: true });
    const warnings = run.issues.filter((issue) => issue.type === 'warning').map((issue) => issue.message);
    assert.equal(warnings.length, 2, warnings.join('\n'));
    assert.match(
      warnings[0]!,
      /long-term access keys, now copied into pipeline variables; prefer an OIDC connection/,
    );
    assert.match(warnings[1]!, /writeTokenFile applies only to OIDC credentials/);
    assert.ok(!run.variables.has('AWS_WEB_IDENTITY_TOKEN_FILE'));
  });

  describe('wrong inputs fail before any token is fetched, naming the input and the fix', () => {
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      [
        'no role',
        { audience: 'api://x' },
        /the input "roleArn" is required for authMode azureManagedIdentity/,
      ],
      ['no audience', { roleArn: `arn:aws:iam::${ACCOUNT}:role/deploy` }, /the input "audience" is required/],
      [
        'an unknown authMode',
        { authMode: 'oidc', roleArn: `arn:aws:iam::${ACCOUNT}:role/deploy` },
        /the input "authMode" is "oidc", which is not one of: azureManagedIdentity, azureDevOps, github, gitlab, tokenFile/,
      ],
      [
        'azureDevOps without a connection id',
        { authMode: 'azureDevOps', roleArn: `arn:aws:iam::${ACCOUNT}:role/deploy` },
        /authMode azureDevOps needs the id of the service connection/,
      ],
      [
        'a session too long',
        { roleArn: `arn:aws:iam::${ACCOUNT}:role/deploy`, audience: 'api://x', sessionDuration: '86400' },
        /the input "sessionDuration" must be a whole number from 900 to 43200, not "86400"/,
      ],
      [
        'a role name instead of an ARN',
        { roleArn: 'deploy', audience: 'api://x' },
        /The role ARN "deploy" is a bare role name, not an ARN/,
      ],
    ];
    for (const [name, inputs, expected] of cases) {
      test(name, async () => {
        const run = await runTask(t, { regionName: 'us-east-1', ...inputs });
        assert.equal(run.result, 'Failed');
        assert.match(message(run), expected);
        assert.ok(message(run).split('\n').length <= 2, 'a one- or two-line message');
        assert.ok(run.issues.some((issue) => issue.type === 'error' && /^Fix: /.test(issue.message)));
        assert.equal(run.variables.size, 0, 'nothing published');
      });
    }

    test('a connection the job cannot see', async () => {
      const run = await runTask(t, { awsCredentials: randomUUID(), regionName: 'us-east-1' });
      assert.equal(run.result, 'Failed');
      assert.match(
        message(run),
        /the service connection "[0-9a-f-]+" in "awsCredentials" is not available to this job/,
      );
    });
  });

  test('a role whose trust policy does not admit the token fails closed, explaining which check failed', async () => {
    const run = await runTask(t, {
      roleArn: t.ids.adoRoleArn,
      audience: t.ids.audience,
      clientId: t.ids.clientId,
      regionName: 'us-east-1',
    });
    assert.equal(run.result, 'Failed');
    assert.match(message(run), /deploy-ado/);
    assert.equal(run.variables.size, 0);
  });
});

describe('writeTokenFile: a refreshed web identity token file for later scripts', () => {
  let t: TestSandbox;
  // One simulated hour lasts 12 s: Azure DevOps tokens (10 simulated minutes) live 2 s, so they rotate quickly.
  before(async () => {
    t = await startTestSandbox({ timeScale: 300 });
  });
  after(() => t.sandbox.close());

  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const entry = fileURLToPath(new URL(`../tasks/${TASK}/index.ts`, import.meta.url));

  function options(agentTemp: string): TaskRunOptions {
    return {
      endpoints: [adoConnection(t), systemConnection(t)],
      variables: adoOidcVariables(t),
      secrets: { 'System.AccessToken': t.ids.systemAccessToken },
      env: { AWS_ENDPOINT_URL: t.url, AGENT_TEMPDIRECTORY: agentTemp },
    };
  }
  const inputs = { regionName: 'us-east-1', writeTokenFile: 'true' };

  /** A later script step: the AWS SDK's own web identity support, reading only the published variables. */
  async function scriptStep(run: TaskRun): Promise<string> {
    const env = cleanEnv({
      AWS_WEB_IDENTITY_TOKEN_FILE: run.variables.get('AWS_WEB_IDENTITY_TOKEN_FILE')?.value ?? '',
      AWS_ROLE_ARN: run.variables.get('AWS_ROLE_ARN')?.value ?? '',
      AWS_ROLE_SESSION_NAME: run.variables.get('AWS_ROLE_SESSION_NAME')?.value ?? '',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: t.url,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    const script =
      "import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';" +
      'const id = await new STSClient({}).send(new GetCallerIdentityCommand({}));' +
      'process.stdout.write(id.Arn);';
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        env,
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve(out) : reject(new Error(`script step failed: ${err}`)),
      );
    });
  }

  function refresherPid(run: TaskRun): number {
    const pid = /refresher process (\d+)/.exec(run.stdout)?.[1];
    assert.ok(pid, 'the task names its refresher process');
    return Number(pid);
  }

  function isRunning(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  async function until(what: string, probe: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!probe()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await delay(100);
    }
  }

  function expiryOf(jwt: string): number {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      exp: number;
    };
    return payload.exp;
  }

  test('later steps re-assume the role from the file, which is rotated before each token expires', async () => {
    const agentTemp = mkdtempSync(join(root, 'agent-temp-'));
    const run = await runTaskSource(TASK, {
      inputs: { ...inputs, awsCredentials: t.ids.serviceConnectionId },
      ...options(agentTemp),
    });
    checkRun(run, t);
    assert.equal(run.result, 'Succeeded', message(run));
    const pid = refresherPid(run);
    try {
      const path = run.variables.get('AWS_WEB_IDENTITY_TOKEN_FILE')?.value ?? '';
      assert.match(path, new RegExp(`^${agentTemp}/keyless-web-identity-[0-9a-f-]{36}\\.jwt$`));
      assert.equal(run.variables.get('AWS_WEB_IDENTITY_TOKEN_FILE')?.secret, false);
      assert.equal(run.variables.get('AWS_ROLE_ARN')?.value, t.ids.adoRoleArn);
      assert.match(run.variables.get('AWS_ROLE_SESSION_NAME')?.value ?? '', /^keyless-/);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.deepEqual(
        readdirSync(agentTemp).filter((name) => name.startsWith('keyless-refresher-')),
        [],
        'the refresher deleted its settings file (it held System.AccessToken)',
      );

      assert.match(await scriptStep(run), /^arn:aws:sts::210987654321:assumed-role\/deploy-ado\/keyless-/);
      const first = readFileSync(path, 'utf8');
      await until('the token file to be rotated', () => readFileSync(path, 'utf8') !== first);
      const second = readFileSync(path, 'utf8');
      assert.ok(expiryOf(second) > expiryOf(first), 'the new token outlives the old one');
      // The first token has expired by now (2 s); the script still gets in with the file's current one.
      await until('the first token to expire', () => Date.now() / 1000 > expiryOf(first) + 1);
      assert.match(await scriptStep(run), /assumed-role\/deploy-ado\//);
      assert.ok(isRunning(pid));
      assert.ok(!leakedSecrets([run.stdout], [first, second]).length);
    } finally {
      if (isRunning(pid)) process.kill(pid, 'SIGTERM');
    }
    await until('the refresher to exit', () => !isRunning(pid));
    const path = run.variables.get('AWS_WEB_IDENTITY_TOKEN_FILE')?.value ?? '';
    assert.ok(!existsSync(path), 'the refresher removes the token file when it stops');
  });

  test('the refresher stops, removing the file, when the agent that ran the task is gone', async () => {
    const agentTemp = mkdtempSync(join(root, 'agent-temp-'));
    // A stand-in agent worker: it runs the task and then exits, as the worker does when the job ends.
    const worker =
      "const r = require('node:child_process').spawnSync(process.argv[1], process.argv.slice(2), { stdio: 'inherit' });" +
      'process.exit(r.status ?? 1);';
    const run = await runTaskProcess(
      [process.execPath, '-e', worker, process.execPath, '--import', tsxLoader, entry],
      { inputs: { ...inputs, awsCredentials: t.ids.serviceConnectionId }, ...options(agentTemp) },
    );
    checkRun(run, t);
    assert.equal(run.result, 'Succeeded', message(run));
    const pid = refresherPid(run);
    const path = run.variables.get('AWS_WEB_IDENTITY_TOKEN_FILE')?.value ?? '';
    try {
      await until('the refresher to notice the job ended', () => !isRunning(pid));
    } finally {
      if (isRunning(pid)) process.kill(pid, 'SIGTERM');
    }
    assert.ok(!existsSync(path), 'the token file is removed');
  });
});
