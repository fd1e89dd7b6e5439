// `keyless credentials` as a user runs it: the built CLI in its own process, against a sandbox.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cleanEnv,
  cliBundle,
  hasAwsCli,
  leakedSecrets,
  managedIdentityArgs,
  runCli,
  runProcess,
  startTestSandbox,
  type CliResult,
  type TestSandbox,
} from './support';

let t: TestSandbox;
let workDir: string;
const outputs: string[] = [];

function record(result: CliResult, { stdoutHoldsKeys = false } = {}): CliResult {
  outputs.push(result.stderr);
  if (!stdoutHoldsKeys) outputs.push(result.stdout);
  return result;
}

function azureArgs(extra: string[] = []): string[] {
  return ['credentials', ...managedIdentityArgs(t), ...extra];
}

before(async () => {
  t = await startTestSandbox({ extraResources: ['api://registered-in-entra-but-not-in-iam'] });
  workDir = await mkdtemp(join(tmpdir(), 'keyless-cli-'));
});

after(async () => {
  await t.sandbox.close();
  await rm(workDir, { recursive: true, force: true });
});

describe('each credential provider prints the assumed identity, never the keys', () => {
  const expectIdentity = (result: CliResult, roleName: string, session?: string) => {
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      new RegExp(`Assumed identity arn:aws:sts::210987654321:assumed-role/${roleName}/`),
    );
    if (session) assert.match(result.stdout, new RegExp(`assumed-role/${roleName}/${session}\\n`));
    assert.match(result.stdout, /account {2}210987654321/);
    assert.match(result.stdout, /expires {2}\d{4}-\d\d-\d\dT/);
  };

  test('azure-managed-identity (the blog: IMDS token, then AssumeRoleWithWebIdentity)', async () => {
    const result = record(await runCli(azureArgs(['--session-name', 'AWSAssumeRole'])));
    expectIdentity(result, 'deploy', 'AWSAssumeRole');
    assert.match(result.stdout, /via +web identity from Azure managed identity/);
  });

  test('azure-devops (System.OidcRequestUri + System.AccessToken)', async () => {
    const env = cleanEnv({
      SYSTEM_OIDCREQUESTURI: `${t.url}/contoso/${t.ids.projectId}/_apis/distributedtask/hubs/build/plans/${crypto.randomUUID()}/jobs/${crypto.randomUUID()}/oidctoken`,
      SYSTEM_ACCESSTOKEN: t.ids.systemAccessToken,
      BUILD_BUILDID: '4711',
    });
    const result = record(
      await runCli(
        [
          'credentials',
          '--provider',
          'azure-devops',
          '--service-connection-id',
          t.ids.serviceConnectionId,
          '--role-arn',
          t.ids.adoRoleArn,
          '--region',
          'us-east-1',
          '--endpoint-url',
          t.url,
        ],
        { env },
      ),
    );
    expectIdentity(result, 'deploy-ado', 'keyless-ado-4711');
  });

  test('github (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN)', async () => {
    const env = cleanEnv({
      ACTIONS_ID_TOKEN_REQUEST_URL: `${t.url}/_github/idtoken?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: t.ids.githubRequestToken,
      AWS_REGION: 'us-east-1',
    });
    const result = record(
      await runCli(
        ['credentials', '--provider', 'github', '--role-arn', t.ids.githubRoleArn, '--endpoint-url', t.url],
        {
          env,
        },
      ),
    );
    expectIdentity(result, 'deploy-github');
  });

  test('gitlab (id_token in an environment variable) and token-file', async () => {
    const token = await t.sandbox.control.mintToken('gitlab', {
      aud: 'sts.amazonaws.com',
      sub: 'project_path:contoso/web:ref_type:branch:ref:main',
      project_path: 'contoso/web',
    });
    const gitlab = record(
      await runCli(
        ['credentials', '--provider', 'gitlab', '--role-arn', t.ids.gitlabRoleArn, '--endpoint-url', t.url],
        { env: cleanEnv({ GITLAB_OIDC_TOKEN: token, AWS_DEFAULT_REGION: 'eu-central-1' }) },
      ),
    );
    expectIdentity(gitlab, 'deploy-gitlab');

    const tokenFile = join(workDir, 'token.jwt');
    await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
    const fromFile = record(
      await runCli([
        'credentials',
        '--provider',
        'token-file',
        '--token-file',
        tokenFile,
        '--role-arn',
        t.ids.gitlabRoleArn,
        '--region',
        'us-east-1',
        '--endpoint-url',
        t.url,
      ]),
    );
    expectIdentity(fromFile, 'deploy-gitlab');
  });

  test('ec2-instance-metadata (explicit mode; region from the instance identity document)', async () => {
    const result = record(
      await runCli([
        'credentials',
        '--provider',
        'ec2-instance-metadata',
        '--ec2-metadata-endpoint',
        t.url,
        '--endpoint-url',
        t.url,
        '--format',
        'json',
      ]),
      { stdoutHoldsKeys: true },
    );
    assert.equal(result.code, 0, result.stderr);
    const json = JSON.parse(result.stdout) as Record<string, string>;
    assert.equal(json.Region, 'eu-west-1');
    assert.equal(json.Arn, 'arn:aws:sts::210987654321:assumed-role/agent-instance-role/i-0123456789abcdef0');
  });
});

describe('--format prints keys only when asked, in forms other tools read', () => {
  test('json and env carry the same session; stderr stays clean', async () => {
    const json = record(await runCli(azureArgs(['--format', 'json'])), { stdoutHoldsKeys: true });
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as Record<string, string>;
    assert.match(parsed.AccessKeyId!, /^ASIA[A-Z0-9]{16}$/);
    assert.ok(parsed.SecretAccessKey && parsed.SessionToken && parsed.Expiration);
    assert.equal(parsed.Account, '210987654321');
    assert.equal(json.stderr, '');

    const env = record(await runCli(azureArgs(['--format', 'env'])), { stdoutHoldsKeys: true });
    assert.equal(env.code, 0, env.stderr);
    assert.match(env.stdout, /^export AWS_ACCESS_KEY_ID='ASIA[A-Z0-9]{16}'$/m);
    assert.match(env.stdout, /^export AWS_SESSION_TOKEN='/m);
    assert.match(env.stdout, /^export AWS_REGION='us-east-1'$/m);
  });

  test('process: the AWS CLI uses keyless as its credential_process', async (context) => {
    if (!hasAwsCli()) return context.skip('the AWS CLI is not installed: cannot check credential_process');
    const configFile = join(workDir, 'aws-config');
    const command = [process.execPath, cliBundle, ...azureArgs(['--format', 'process'])]
      .map((part) => (/\s/.test(part) ? `"${part}"` : part))
      .join(' ');
    await writeFile(configFile, `[default]\nregion = us-east-1\ncredential_process = ${command}\n`);
    const result = record(
      await runProcess('aws', ['sts', 'get-caller-identity', '--endpoint-url', t.url, '--output', 'json'], {
        env: cleanEnv({ AWS_CONFIG_FILE: configFile }),
      }),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(JSON.parse(result.stdout).Arn, /^arn:aws:sts::210987654321:assumed-role\/deploy\//);
  });
});

describe('wrong inputs a new user tries get one or two lines: the cause and the fix', () => {
  const cases: Array<{
    name: string;
    args: () => string[];
    env?: () => NodeJS.ProcessEnv;
    code: number;
    says: RegExp;
  }> = [
    {
      name: 'no role ARN',
      args: () => azureArgs().filter((arg, i, all) => arg !== '--role-arn' && all[i - 1] !== '--role-arn'),
      code: 2,
      says: /needs the role to assume[\s\S]*Fix: Pass --role-arn/,
    },
    {
      name: 'malformed role ARN',
      args: () => azureArgs().map((arg) => (arg === t.ids.roleArn ? 'arn:aws:iam:deploy' : arg)),
      code: 2,
      says: /"arn:aws:iam:deploy" is not an IAM role ARN[\s\S]*Fix: .*arn:aws:iam::<12-digit account id>:role\/<name>/,
    },
    {
      name: 'unknown provider name',
      args: () => [
        'credentials',
        '--provider',
        'azure-vm',
        '--role-arn',
        t.ids.roleArn,
        '--region',
        'us-east-1',
      ],
      code: 2,
      says: /Unknown credential mode "azure-vm"[\s\S]*Fix: Choose one of: azure-managed-identity/,
    },
    {
      name: 'no region anywhere',
      args: () => azureArgs().filter((arg, i, all) => arg !== '--region' && all[i - 1] !== '--region'),
      code: 2,
      says: /No AWS region was given[\s\S]*AWS_DEFAULT_REGION[\s\S]*Fix: Pass --region/,
    },
    {
      name: 'IMDS unreachable (not an Azure VM)',
      args: () => azureArgs().map((arg) => (arg === t.url ? 'http://127.0.0.1:9' : arg)),
      code: 1,
      says: /Azure IMDS is not reachable at http:\/\/127\.0\.0\.1:9[\s\S]*Fix: Run on an Azure VM/,
    },
    {
      name: 'audience mismatch (token audience not registered with the IAM OIDC provider)',
      args: () =>
        azureArgs().map((arg) => (arg === t.ids.audience ? 'api://registered-in-entra-but-not-in-iam' : arg)),
      code: 1,
      says: /audience[\s\S]*api:\/\/registered-in-entra-but-not-in-iam[\s\S]*Fix: /,
    },
    {
      name: 'no provider at all',
      args: () => ['credentials', '--role-arn', t.ids.roleArn],
      code: 2,
      says: /never guesses[\s\S]*Fix: pass --provider/,
    },
    {
      name: 'unknown option',
      args: () => ['credentials', '--role', t.ids.roleArn],
      code: 2,
      says: /Unknown option --role for `keyless credentials`[\s\S]*Fix: run `keyless credentials --help`/,
    },
  ];
  for (const testCase of cases) {
    test(testCase.name, async () => {
      const result = record(await runCli(testCase.args(), { env: testCase.env?.() ?? cleanEnv() }));
      assert.equal(result.code, testCase.code, `exit code for ${testCase.name}: ${result.stderr}`);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, testCase.says);
      const lines = result.stderr.trimEnd().split('\n');
      assert.ok(lines.length <= 2, `at most two lines, got:\n${result.stderr}`);
      assert.doesNotMatch(
        result.stderr,
        /\n\s+at |Exception\b|ServiceException/,
        'no stack trace or bare SDK name',
      );
    });
  }
});

describe('help and exit codes', () => {
  test('--help everywhere exits 0 with examples; no command exits 2', async () => {
    for (const command of [[], ['credentials'], ['exec'], ['sandbox'], ['demo']]) {
      const result = await runCli([...command, '--help']);
      assert.equal(result.code, 0, `keyless ${command.join(' ')} --help`);
      assert.match(result.stdout, /Usage: keyless/);
      assert.match(result.stdout, /Examples?:|Example/);
    }
    const bare = await runCli([]);
    assert.equal(bare.code, 2);
    const unknown = await runCli(['deploy']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown command "deploy"/);
  });
});

test('no secret the sandbox minted or the test seeded appears in any captured output', () => {
  assert.ok(t.secrets.size > 10, `the scan must cover real secrets (have ${t.secrets.size})`);
  assert.deepEqual(leakedSecrets([...outputs, ...t.logs], t.secrets), []);
});
