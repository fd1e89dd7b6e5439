import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DescribeInstancesCommand, RunInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { startSandbox, type RunningSandbox, type SandboxOptions } from '../src/index';
import type { SandboxConfig } from '../src/config';

/** The blog's identity setup: an Entra tenant issuer, an App ID URI audience and a managed identity. */
export const TENANT_ID = '3f0c8a52-6a1e-4b8e-9d7c-2a4f5e6b7c81';
export const ISSUER = `https://sts.windows.net/${TENANT_ID}/`;
export const PROVIDER_PATH = `sts.windows.net/${TENANT_ID}/`;
export const AUDIENCE = 'api://keyless-deployer';
export const IDENTITY_OBJECT_ID = '9a7b6c5d-4e3f-4a2b-8c1d-0e9f8a7b6c5d';
export const IDENTITY_CLIENT_ID = '1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9';
export const ACCOUNT_ID = '123456789012';
export const ROLE_NAME = 'azure-pipelines-deployer';
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/${ROLE_NAME}`;
export const PROVIDER_ARN = `arn:aws:iam::${ACCOUNT_ID}:oidc-provider/${PROVIDER_PATH}`;
export const ROOT_KEYS = {
  accessKeyId: 'AKIAIOSFODNN7SANDBOX',
  secretAccessKey: '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',
};

export function trustPolicy(sub = IDENTITY_OBJECT_ID, aud = AUDIENCE): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: PROVIDER_ARN },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { [`${PROVIDER_PATH}:aud`]: aud, [`${PROVIDER_PATH}:sub`]: sub } },
      },
    ],
  };
}

/** Issuers, IMDS and root keys; IAM seeded with the blog's provider and role unless `seedIam` is false. */
export function blogConfig(seedIam = true): SandboxConfig {
  return {
    account: { id: ACCOUNT_ID, region: 'us-east-1' },
    rootCredentials: [{ accessKeyId: ROOT_KEYS.accessKeyId, secretAccessKey: ROOT_KEYS.secretAccessKey }],
    issuers: [
      { id: 'entra', kind: 'azure-ad', issuer: ISSUER },
      { id: 'stray', kind: 'generic', issuer: 'https://issuer.example.test/unregistered' },
    ],
    azure: {
      tenantId: TENANT_ID,
      issuer: 'entra',
      resources: [AUDIENCE],
      managedIdentities: [
        {
          name: 'agent-identity',
          clientId: IDENTITY_CLIENT_ID,
          objectId: IDENTITY_OBJECT_ID,
          resourceId: `/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/agent-identity`,
        },
      ],
    },
    iam: seedIam
      ? {
          oidcProviders: [{ url: ISSUER, clientIds: [AUDIENCE] }],
          roles: [{ name: ROLE_NAME, assumeRolePolicyDocument: trustPolicy(), maxSessionDuration: 3600 }],
        }
      : {},
  };
}

export interface TestSandbox {
  sandbox: RunningSandbox;
  logs: string[];
  /** Asserts none of `secrets` appears in the captured log, raw, base64 or URL-encoded. */
  assertLogsFreeOf(secrets: Array<string | undefined>): void;
  close(): Promise<void>;
}

export async function startTestSandbox(
  options: Omit<SandboxOptions, 'port' | 'log'> = {},
): Promise<TestSandbox> {
  const logs: string[] = [];
  const sandbox = await startSandbox({
    config: blogConfig(),
    ...options,
    port: 0,
    log: (line) => logs.push(line),
  });
  return {
    sandbox,
    logs,
    assertLogsFreeOf(secrets) {
      const text = logs.join('\n');
      for (const secret of secrets) {
        if (!secret) continue;
        for (const form of [secret, Buffer.from(secret).toString('base64'), encodeURIComponent(secret)]) {
          assert.ok(!text.includes(form), `a secret (${secret.slice(0, 6)}…) appears in the sandbox log`);
        }
      }
    },
    close: () => sandbox.close(),
  };
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'keyless-sandbox-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A managed-identity token from the sandbox's IMDS, exactly as the blog's credential step fetches it. */
export async function imdsToken(baseUrl: string, resource = AUDIENCE): Promise<string> {
  const url = `${baseUrl}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(resource)}`;
  const response = await fetch(url, { headers: { Metadata: 'true' } });
  const body = (await response.json()) as { access_token?: string };
  assert.equal(response.status, 200, `IMDS answered ${response.status}: ${JSON.stringify(body)}`);
  assert.ok(body.access_token);
  return body.access_token;
}

/** Polls `probe` until it yields a value (errors count as "not yet"); fails naming `what` after the timeout. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A file's text once a process has finished writing it: a shell's `echo … > file` truncates first and writes
 * after, so a reader can see an empty file in between. Files written by test scripts end with a newline.
 */
export async function completedText(path: string): Promise<string | undefined> {
  const text = await readFile(path, 'utf8');
  return text.endsWith('\n') ? text : undefined;
}

/** The installed AWS CLI's version line, or undefined when it is not installed (tests then skip and say so). */
export async function awsCliVersion(): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await promisify(execFile)('aws', ['--version'], { timeout: 20_000 });
    return (stdout || stderr).trim();
  } catch {
    return undefined;
  }
}

/**
 * An environment for the real AWS CLI against the sandbox: the sandbox's root keys, config files in `dir`,
 * and none of this machine's AWS_* settings, so nothing outside the test decides what the CLI does.
 */
export function awsCliEnv(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('AWS_')) env[name] = value;
  return {
    ...env,
    AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    AWS_ACCESS_KEY_ID: ROOT_KEYS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ROOT_KEYS.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
  };
}

/** RunInstances answers `pending`; ELB registers only running instances (InvalidTarget otherwise). */
export async function waitUntilRunning(ec2: EC2Client, instanceId: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { Reservations } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    if (Reservations?.[0]?.Instances?.[0]?.State?.Name === 'running') return;
    if (Date.now() > deadline) throw new Error(`${instanceId} never reached running`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** An instance whose user data serves `version` on its loopback port, as a web server on port 80 would. */
export async function launchWebServer(ec2: EC2Client, version: string): Promise<string> {
  const server = `require('http').createServer((q, s) => s.end('${version}')).listen(Number(process.env.KEYLESS_INSTANCE_PORT), '127.0.0.1')`;
  const userData = `#!/bin/bash\nexec "${process.execPath}" -e "${server}"\n`;
  const { Instances } = await ec2.send(
    new RunInstancesCommand({
      ImageId: 'ami-0123456789abcdef0',
      InstanceType: 't3.micro',
      MinCount: 1,
      MaxCount: 1,
      UserData: Buffer.from(userData).toString('base64'),
    }),
  );
  const id = Instances?.[0]?.InstanceId;
  assert.ok(id);
  await waitUntilRunning(ec2, id);
  return id;
}
