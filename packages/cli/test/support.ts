// Test support: a sandbox seeded with random identifiers and secrets, the built CLI as a real process,
// and a scanner that proves no secret the test created reaches any output.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startSandbox, type RunningSandbox, type SandboxConfig } from '@keyless/sandbox';

export const cliBundle = fileURLToPath(new URL('../dist/keyless.mjs', import.meta.url));

export interface TestSandbox {
  sandbox: RunningSandbox;
  url: string;
  /** Every secret the sandbox minted, plus the ones this test seeded (access tokens). */
  secrets: Set<string>;
  logs: string[];
  /** Long-term keys the sandbox accepts as the account's admin, for tests that inspect or prepare AWS state. */
  root: { accessKeyId: string; secretAccessKey: string };
  ids: {
    tenantId: string;
    audience: string;
    clientId: string;
    objectId: string;
    roleArn: string;
    adoRoleArn: string;
    githubRoleArn: string;
    gitlabRoleArn: string;
    ec2RoleName: string;
    serviceConnectionId: string;
    systemAccessToken: string;
    githubRequestToken: string;
    projectId: string;
  };
}

export async function startTestSandbox(
  options: {
    maxSessionSeconds?: number;
    extraResources?: string[];
    /** Simulated seconds each CloudFormation resource takes (the sandbox default when unset). */
    providerDelaySeconds?: number;
    timeScale?: number;
  } = {},
): Promise<TestSandbox> {
  const account = '210987654321';
  const tenantId = randomUUID();
  const orgId = randomUUID();
  const projectId = randomUUID();
  const audience = `api://keyless-test-${randomBytes(3).toString('hex')}`;
  const clientId = randomUUID();
  const objectId = randomUUID();
  const serviceConnectionId = randomUUID();
  const systemAccessToken = randomBytes(24).toString('base64url');
  const githubRequestToken = randomBytes(24).toString('base64url');
  const entraIssuer = `https://sts.windows.net/${tenantId}/`;
  const adoIssuer = `https://vstoken.dev.azure.com/${orgId}`;
  const githubIssuer = 'https://token.actions.githubusercontent.com';
  const gitlabIssuer = 'https://gitlab.example.com';
  const host = (issuer: string) => issuer.replace(/^https:\/\//, '');
  const webIdentityRole = (name: string, issuer: string, aud: string, sub: string) => ({
    name,
    maxSessionDuration: 3600,
    assumeRolePolicyDocument: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/${host(issuer)}` },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringEquals: { [`${host(issuer)}:aud`]: aud, [`${host(issuer)}:sub`]: sub } },
        },
      ],
    },
  });
  const root = {
    accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  const config: SandboxConfig = {
    account: { id: account, region: 'us-east-1' },
    rootCredentials: [root],
    ...(options.providerDelaySeconds !== undefined
      ? { cloudformation: { providerDelaySeconds: options.providerDelaySeconds } }
      : {}),
    issuers: [
      { id: 'entra', kind: 'azure-ad', issuer: entraIssuer },
      { id: 'ado', kind: 'azure-devops', issuer: adoIssuer },
      { id: 'github', kind: 'github', issuer: githubIssuer },
      { id: 'gitlab', kind: 'gitlab', issuer: gitlabIssuer },
    ],
    azure: {
      tenantId,
      issuer: 'entra',
      resources: [audience, ...(options.extraResources ?? [])],
      managedIdentities: [
        {
          name: 'agent',
          clientId,
          objectId,
          resourceId: `/subscriptions/${randomUUID()}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/agent`,
        },
      ],
    },
    azureDevOps: {
      issuer: 'ado',
      organization: 'contoso',
      organizationId: orgId,
      project: 'web',
      projectId,
      accessToken: systemAccessToken,
      serviceConnections: [{ id: serviceConnectionId, name: 'aws-prod' }],
    },
    github: {
      issuer: 'github',
      requestToken: githubRequestToken,
      repository: 'contoso/web',
      ref: 'refs/heads/main',
    },
    gitlab: { issuer: 'gitlab', projectPath: 'contoso/web', ref: 'main', refType: 'branch' },
    ec2: { instanceId: 'i-0123456789abcdef0', region: 'eu-west-1', roleName: 'agent-instance-role' },
    iam: {
      oidcProviders: [
        { url: entraIssuer, clientIds: [audience] },
        { url: adoIssuer, clientIds: ['api://AzureADTokenExchange'] },
        { url: githubIssuer, clientIds: ['sts.amazonaws.com'] },
        { url: gitlabIssuer, clientIds: ['sts.amazonaws.com'] },
      ],
      roles: [
        webIdentityRole('deploy', entraIssuer, audience, objectId),
        webIdentityRole('deploy-ado', adoIssuer, 'api://AzureADTokenExchange', 'sc://contoso/web/aws-prod'),
        webIdentityRole(
          'deploy-github',
          githubIssuer,
          'sts.amazonaws.com',
          'repo:contoso/web:ref:refs/heads/main',
        ),
        webIdentityRole(
          'deploy-gitlab',
          gitlabIssuer,
          'sts.amazonaws.com',
          'project_path:contoso/web:ref_type:branch:ref:main',
        ),
        {
          name: 'agent-instance-role',
          assumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
            ],
          },
        },
      ],
    },
  };
  const secrets = new Set<string>([systemAccessToken, githubRequestToken, root.secretAccessKey]);
  const logs: string[] = [];
  const sandbox = await startSandbox({
    port: 0,
    config,
    maxSessionSeconds: options.maxSessionSeconds,
    timeScale: options.timeScale,
    log: (line) => logs.push(line),
    onSecret: (value) => secrets.add(value),
  });
  const roleArn = (name: string) => `arn:aws:iam::${account}:role/${name}`;
  return {
    sandbox,
    url: sandbox.url,
    secrets,
    logs,
    root,
    ids: {
      tenantId,
      audience,
      clientId,
      objectId,
      roleArn: roleArn('deploy'),
      adoRoleArn: roleArn('deploy-ado'),
      githubRoleArn: roleArn('deploy-github'),
      gitlabRoleArn: roleArn('deploy-gitlab'),
      ec2RoleName: 'agent-instance-role',
      serviceConnectionId,
      systemAccessToken,
      githubRequestToken,
      projectId,
    },
  };
}

/** The credential options of the blog's flow (Azure managed identity) against a test sandbox. */
export function managedIdentityArgs(t: TestSandbox): string[] {
  return [
    '--provider',
    'azure-managed-identity',
    '--audience',
    t.ids.audience,
    '--client-id',
    t.ids.clientId,
    '--azure-imds-endpoint',
    t.url,
    '--endpoint-url',
    t.url,
    '--role-arn',
    t.ids.roleArn,
    '--region',
    'us-east-1',
  ];
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A clean environment: nothing from the developer's machine decides what the CLI does. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    ...extra,
  };
}

export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<CliResult> {
  if (!existsSync(cliBundle)) {
    throw new Error(`The CLI is not built (${cliBundle} is missing): run \`npm run build\` first.`);
  }
  return runProcess(process.execPath, [cliBundle, ...args], options);
}

export function runProcess(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? cleanEnv(),
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Every form a secret leaks in: raw, base64, base64url, URL-encoded. */
export function leakedSecrets(texts: string[], secrets: Iterable<string>): string[] {
  const haystack = texts.join('\n');
  const leaks: string[] = [];
  for (const secret of secrets) {
    const forms = [
      secret,
      Buffer.from(secret).toString('base64'),
      Buffer.from(secret).toString('base64url'),
      encodeURIComponent(secret),
    ];
    if (forms.some((form) => haystack.includes(form))) leaks.push(`${secret.slice(0, 6)}…`);
  }
  return leaks;
}

export function hasAwsCli(): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(`${dir}/aws`));
}
