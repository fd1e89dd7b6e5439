/**
 * End-to-end: the credential layer against the real sandbox (its IMDS, OIDC issuer, STS and SigV4 checks).
 * Nothing here is faked on our side of the wire.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { startSandbox, type RunningSandbox, type SandboxConfig } from '@keyless/sandbox';
import {
  buildClientConfig,
  getCallerIdentity,
  MemoryReporter,
  resolveCredentials,
  StsRejectedError,
  TokenSourceError,
  type AwsCredentialIdentity,
  type CredentialOptions,
} from '../src/index';
import { encodedForms } from '../src/report/secrets';

const tenant = '3f0c8a52-6a1e-4b8e-9d7c-2a4f5e6b7c81';
const issuer = `https://sts.windows.net/${tenant}/`;
const providerPath = `sts.windows.net/${tenant}/`;
const audience = 'api://keyless-deployer';
const objectId = '9a7b6c5d-4e3f-4a2b-8c1d-0e9f8a7b6c5d';
const clientId = '1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9';
const account = '123456789012';
const roleArn = `arn:aws:iam::${account}:role/azure-pipelines-deployer`;
const otherRoleArn = `arn:aws:iam::${account}:role/pinned-to-someone-else`;

function trustPolicy(sub: string) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/${providerPath}` },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { [`${providerPath}:aud`]: audience, [`${providerPath}:sub`]: sub } },
      },
    ],
  };
}

const config: SandboxConfig = {
  account: { id: account, region: 'us-east-1' },
  issuers: [{ id: 'entra', kind: 'azure-ad', issuer }],
  azure: {
    tenantId: tenant,
    issuer: 'entra',
    resources: [audience],
    managedIdentities: [
      {
        name: 'agent-identity',
        clientId,
        objectId,
        resourceId:
          '/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/agent-identity',
      },
    ],
  },
  iam: {
    oidcProviders: [{ url: issuer, clientIds: [audience] }],
    roles: [
      {
        name: 'azure-pipelines-deployer',
        assumeRolePolicyDocument: trustPolicy(objectId),
        maxSessionDuration: 3600,
      },
      {
        name: 'pinned-to-someone-else',
        assumeRolePolicyDocument: trustPolicy('another-object-id'),
        maxSessionDuration: 3600,
      },
    ],
  },
};

interface Harness {
  sandbox: RunningSandbox;
  sandboxLog: string[];
  reporter: MemoryReporter;
  options(overrides?: Partial<CredentialOptions>): CredentialOptions;
}

async function startHarness(maxSessionSeconds?: number): Promise<Harness> {
  const sandboxLog: string[] = [];
  const sandbox = await startSandbox({
    port: 0,
    config,
    maxSessionSeconds,
    log: (line) => sandboxLog.push(line),
  });
  return {
    sandbox,
    sandboxLog,
    reporter: new MemoryReporter(),
    options: (overrides = {}) => ({
      provider: 'azure-managed-identity',
      audience,
      clientId,
      roleArn,
      region: 'us-east-1',
      sessionName: 'keyless-e2e',
      azureImdsEndpoint: sandbox.url,
      endpoints: { sts: sandbox.url },
      ...overrides,
    }),
  };
}

function assertNoSecrets(output: string, secrets: Iterable<string | undefined>): void {
  for (const secret of secrets) {
    if (!secret) continue;
    for (const form of encodedForms(secret))
      assert.ok(!output.includes(form), `a secret reached the output (${form.length} chars)`);
  }
}

describe('credentials against the sandbox', () => {
  let harness: Harness;
  before(async () => {
    harness = await startHarness();
  });
  after(() => harness.sandbox.close());

  it('managed identity → AssumeRoleWithWebIdentity → signed GetCallerIdentity returns the assumed-role ARN', async () => {
    const { reporter } = harness;
    const resolved = await resolveCredentials(harness.options(), { env: {}, reporter });
    const identity = await getCallerIdentity(resolved, { env: {}, reporter });
    assert.equal(identity.account, account);
    assert.equal(identity.arn, `arn:aws:sts::${account}:assumed-role/azure-pipelines-deployer/keyless-e2e`);
    const credentials = await resolved.provider();
    const token = await resolved.tokenSource?.getToken();
    assert.equal(token?.claims.iss, issuer);
    assert.equal(token?.claims.sub, objectId);
    assertNoSecrets(`${reporter.text()}\n${harness.sandboxLog.join('\n')}`, [
      token?.jwt,
      credentials.accessKeyId,
      credentials.secretAccessKey,
      credentials.sessionToken,
    ]);
  });

  it('a trust policy pinned to another subject fails with the statement that would admit this token', async () => {
    const reporter = new MemoryReporter();
    await assert.rejects(
      resolveCredentials(harness.options({ roleArn: otherRoleArn }), { env: {}, reporter }),
      (error: unknown) => {
        assert.ok(error instanceof StsRejectedError, String(error));
        assert.equal(error.check, 'trust-policy');
        assert.match(error.trustPolicyStatement ?? '', new RegExp(`"${providerPath}:sub":"${objectId}"`));
        return true;
      },
    );
  });

  it('an audience that is not an App ID URI is explained by the IMDS source', async () => {
    const reporter = new MemoryReporter();
    await assert.rejects(
      resolveCredentials(harness.options({ audience: 'api://not-registered' }), { env: {}, reporter }),
      (error: unknown) => error instanceof TokenSourceError && /not an App ID URI/.test(error.message),
    );
  });
});

describe('refresh against the sandbox (20 s sessions, 70 s of calls)', () => {
  let harness: Harness;
  before(async () => {
    harness = await startHarness(20);
  });
  after(() => harness.sandbox.close());

  it('keeps every call working and re-assumes before expiry', { timeout: 120_000 }, async () => {
    const { reporter } = harness;
    const resolved = await resolveCredentials(harness.options(), { env: {}, reporter });
    const seen = new Map<string, AwsCredentialIdentity>();
    const recording = async () => {
      const identity = await resolved.provider();
      seen.set(identity.accessKeyId, identity);
      return identity;
    };
    const client = new STSClient(
      buildClientConfig('sts', {
        region: resolved.region,
        credentials: recording,
        endpoints: resolved.endpoints,
        env: {},
      }),
    );
    const started = Date.now();
    let calls = 0;
    while (Date.now() - started < 70_000) {
      const output = await client.send(new GetCallerIdentityCommand({}));
      assert.equal(output.Account, account);
      calls++;
      await delay(2_000);
    }
    const refreshes = reporter.lines.filter((line) =>
      line.message.startsWith('Refreshed web identity session'),
    ).length;
    assert.ok(calls >= 30, `made ${calls} calls`);
    assert.ok(refreshes >= 2, `re-assumed ${refreshes} times`);
    assert.ok(seen.size >= 3, `saw ${seen.size} sessions`);
    const token = await resolved.tokenSource?.getToken();
    const secrets = [token?.jwt];
    for (const identity of seen.values())
      secrets.push(identity.accessKeyId, identity.secretAccessKey, identity.sessionToken);
    assertNoSecrets(`${reporter.text()}\n${harness.sandboxLog.join('\n')}`, secrets);
  });
});
