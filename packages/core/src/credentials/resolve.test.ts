import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { MemoryReporter } from '../report/reporter';
import { encodedForms } from '../report/secrets';
import { FakeSts } from '../../test/support/fake-sts';
import { FakeHttpServer } from '../../test/support/http-fake';
import { makeJwt } from '../../test/support/jwt';
import { InvalidInputError } from '../errors';
import { AccountNotAllowedError, StsRejectedError, TokenSourceError } from './errors';
import { getCallerIdentity, resolveCredentials } from './resolve';
import { stsError } from '../../test/support/fake-sts';

const roleArn = 'arn:aws:iam::123456789012:role/deploy';
const gitlabJwt = () =>
  makeJwt({
    iss: 'https://gitlab.example.com',
    aud: 'sts.amazonaws.com',
    sub: 'project_path:g/p:ref_type:branch:ref:main',
    exp: Math.floor(Date.now() / 1000) + 600,
  });

function assertNoSecretsIn(text: string, secrets: Array<string | undefined>): void {
  for (const secret of secrets) {
    if (!secret) continue;
    for (const form of encodedForms(secret))
      assert.ok(!text.includes(form), `secret leaked in form ${form.slice(0, 8)}…`);
  }
}

describe('resolveCredentials', () => {
  const sts = new FakeSts();
  let reporter: MemoryReporter;
  before(() => sts.start());
  after(() => sts.close());
  beforeEach(() => {
    sts.calls.length = 0;
    sts.issued.length = 0;
    sts.queued.length = 0;
    reporter = new MemoryReporter();
  });

  it('web identity (gitlab): assumes the role, then GetCallerIdentity signs with the session', async () => {
    const jwt = gitlabJwt();
    const env = { GITLAB_OIDC_TOKEN: jwt, AWS_REGION: 'eu-west-1', CI_JOB_ID: '77' };
    const resolved = await resolveCredentials(
      { provider: 'gitlab', roleArn, endpoints: { sts: sts.url } },
      { env, reporter },
    );
    assert.equal(resolved.mode, 'gitlab');
    assert.equal(resolved.region, 'eu-west-1');
    assert.equal(resolved.tokenSource?.name, 'gitlab');
    assert.equal(resolved.roleArn, roleArn);
    assert.equal(resolved.sessionName, 'keyless-gl-77');
    assert.match(
      resolved.describe(),
      /web identity from GitLab CI id_token .* → arn:aws:iam::123456789012:role\/deploy/,
    );
    assert.equal(sts.callsOf('AssumeRoleWithWebIdentity').length, 1, 'first exchange happens during resolve');
    const identity = await getCallerIdentity(resolved, { env, reporter });
    assert.equal(identity.account, '123456789012');
    assert.match(identity.arn, /assumed-role/);
    const issued = sts.issued[0];
    assert.match(
      String(sts.callsOf('GetCallerIdentity')[0]?.request.headers.authorization),
      new RegExp(`Credential=${issued?.accessKeyId}/`),
    );
    // Print everything we know through the reporter: all of it must come out masked.
    reporter.debug(`${jwt} ${issued?.accessKeyId} ${issued?.secretAccessKey} ${issued?.sessionToken}`);
    assertNoSecretsIn(reporter.text(), [
      jwt,
      issued?.accessKeyId,
      issued?.secretAccessKey,
      issued?.sessionToken,
    ]);
    assert.match(reporter.text(), /sub=project_path:g\/p:ref_type:branch:ref:main/);
  });

  it('never falls back: a broken OIDC source fails even when keys are in the environment', async () => {
    const env = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIAFALLBACKKEY',
      AWS_SECRET_ACCESS_KEY: 'fallback-secret',
    };
    await assert.rejects(
      resolveCredentials({ provider: 'github', roleArn, endpoints: { sts: sts.url } }, { env, reporter }),
      TokenSourceError,
    );
    assert.equal(sts.calls.length, 0);
  });

  it('fails before any network call on invalid input or a missing region', async () => {
    await assert.rejects(
      resolveCredentials({ provider: 'gitlab', roleArn: 'deploy' }, { env: {}, reporter }),
      InvalidInputError,
    );
    await assert.rejects(
      resolveCredentials(
        { provider: 'gitlab', roleArn },
        { env: { GITLAB_OIDC_TOKEN: gitlabJwt() }, reporter },
      ),
      /No AWS region/,
    );
    assert.equal(sts.calls.length, 0);
  });

  it('surfaces an STS rejection from the first exchange, explained', async () => {
    sts.queued.push(stsError(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity'));
    await assert.rejects(
      resolveCredentials(
        { provider: 'gitlab', roleArn, region: 'us-east-1', endpoints: { sts: sts.url } },
        { env: { GITLAB_OIDC_TOKEN: gitlabJwt() }, reporter },
      ),
      (error: unknown) => error instanceof StsRejectedError && error.check === 'trust-policy',
    );
  });

  it('access keys with a role: AssumeRole signed with the keys, external id sent', async () => {
    const keys = { accessKeyId: 'AKIAEXAMPLEKEY12', secretAccessKey: 'static-secret-key-value' };
    const resolved = await resolveCredentials(
      {
        provider: 'access-keys',
        ...keys,
        roleArn,
        externalId: 'ext-123456',
        region: 'us-east-1',
        sessionName: 'sess',
        endpoints: { sts: sts.url },
      },
      { env: {}, reporter },
    );
    const call = sts.callsOf('AssumeRole')[0];
    assert.equal(call?.params.get('ExternalId'), 'ext-123456');
    assert.equal(call?.params.get('RoleSessionName'), 'sess');
    assert.match(String(call?.request.headers.authorization), /Credential=AKIAEXAMPLEKEY12\//);
    assert.equal((await resolved.provider()).accessKeyId, sts.issued[0]?.accessKeyId);
    assert.ok(reporter.secrets.has(keys.secretAccessKey));
  });

  it('access keys without a role are used as they are', async () => {
    const resolved = await resolveCredentials(
      {
        provider: 'access-keys',
        accessKeyId: 'AKIAEXAMPLEKEY12',
        secretAccessKey: 'static-secret-key-value',
        region: 'us-east-1',
      },
      { env: {}, reporter },
    );
    assert.equal((await resolved.provider()).accessKeyId, 'AKIAEXAMPLEKEY12');
    assert.equal(sts.calls.length, 0);
  });

  it('role chaining: AssumeRole signed with the first session, capped at 1 h', async () => {
    const env = { GITLAB_OIDC_TOKEN: gitlabJwt() };
    const chainRoleArn = 'arn:aws:iam::210987654321:role/target';
    const resolved = await resolveCredentials(
      {
        provider: 'gitlab',
        roleArn,
        chainRoleArn,
        durationSeconds: 7200,
        region: 'us-east-1',
        endpoints: { sts: sts.url },
      },
      { env, reporter },
    );
    const chained = sts.callsOf('AssumeRole')[0];
    assert.equal(chained?.params.get('RoleArn'), chainRoleArn);
    assert.equal(chained?.params.get('DurationSeconds'), '3600');
    assert.match(
      String(chained?.request.headers.authorization),
      new RegExp(`Credential=${sts.issued[0]?.accessKeyId}/`),
    );
    assert.equal((await resolved.provider()).accessKeyId, sts.issued[1]?.accessKeyId);
    assert.match(resolved.describe(), /→ arn:aws:iam::210987654321:role\/target$/);
  });

  it('pipeline variables: reads AWS.AccessKeyID etc., else their env forms', async () => {
    const fromVariables = await resolveCredentials(
      {
        provider: 'pipeline-variables',
        pipelineVariables: {
          'AWS.AccessKeyID': 'ASIAPIPELINEKEY1',
          'AWS.SecretAccessKey': 'pipeline-secret',
          'AWS.SessionToken': 'pipeline-session',
          'AWS.Region': 'eu-central-1',
        },
      },
      { env: {}, reporter },
    );
    assert.equal(fromVariables.region, 'eu-central-1');
    assert.deepEqual(await fromVariables.provider(), {
      accessKeyId: 'ASIAPIPELINEKEY1',
      secretAccessKey: 'pipeline-secret',
      sessionToken: 'pipeline-session',
    });
    const fromEnv = await resolveCredentials(
      { provider: 'pipeline-variables', region: 'us-east-1' },
      { env: { AWS_ACCESSKEYID: 'ASIAENVKEY123456', AWS_SECRETACCESSKEY: 'env-secret' }, reporter },
    );
    assert.equal((await fromEnv.provider()).accessKeyId, 'ASIAENVKEY123456');
    await assert.rejects(
      resolveCredentials(
        { provider: 'pipeline-variables', region: 'us-east-1' },
        { env: { AWS_ACCESSKEYID: 'ASIAENVKEY123456' }, reporter },
      ),
      (error: unknown) =>
        error instanceof InvalidInputError &&
        /AWS\.SecretAccessKey is not set \(nor env AWS_SECRETACCESSKEY\)/.test(error.message),
    );
  });

  it('GetCallerIdentity enforces the allowed accounts', async () => {
    const resolved = await resolveCredentials(
      {
        provider: 'access-keys',
        accessKeyId: 'AKIAEXAMPLEKEY12',
        secretAccessKey: 'static-secret-key-value',
        region: 'us-east-1',
        endpoints: { sts: sts.url },
      },
      { env: {}, reporter },
    );
    await assert.rejects(
      getCallerIdentity(resolved, { env: {}, reporter, allowedAccountIds: ['999999999999'] }),
      AccountNotAllowedError,
    );
  });

  it('GetCallerIdentity retries briefly while fresh keys propagate', async () => {
    const resolved = await resolveCredentials(
      {
        provider: 'access-keys',
        accessKeyId: 'AKIAEXAMPLEKEY12',
        secretAccessKey: 'static-secret-key-value',
        region: 'us-east-1',
        endpoints: { sts: sts.url },
      },
      { env: {}, reporter },
    );
    sts.queued.push(
      stsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.'),
    );
    const identity = await getCallerIdentity(resolved, { env: {}, reporter, sleep: async () => undefined });
    assert.equal(identity.account, '123456789012');
  });
});

describe('ec2-instance-metadata mode', () => {
  const roleCredentials = {
    Code: 'Success',
    AccessKeyId: 'ASIAEC2INSTANCEKEY',
    SecretAccessKey: 'ec2-secret-access-key',
    Token: 'ec2-session-token-value',
    Expiration: new Date(Date.now() + 3600_000).toISOString(),
  };
  const imds = new FakeHttpServer((request) => {
    if (request.method === 'PUT' && request.url === '/latest/api/token') {
      return request.headers['x-aws-ec2-metadata-token-ttl-seconds']
        ? { status: 200, body: 'imds-session-token' }
        : { status: 400 };
    }
    if (request.headers['x-aws-ec2-metadata-token'] !== 'imds-session-token') return { status: 401 };
    if (request.url === '/latest/meta-data/iam/security-credentials/')
      return { status: 200, body: 'web-role' };
    if (request.url === '/latest/meta-data/iam/security-credentials/web-role')
      return { status: 200, body: JSON.stringify(roleCredentials) };
    if (request.url === '/latest/dynamic/instance-identity/document')
      return { status: 200, body: JSON.stringify({ region: 'ap-southeast-2' }) };
    return { status: 404 };
  });
  before(() => imds.start());
  after(() => imds.close());

  it('uses IMDSv2 for the role credentials and the instance region', async () => {
    const reporter = new MemoryReporter();
    const resolved = await resolveCredentials(
      { provider: 'ec2-instance-metadata', ec2MetadataEndpoint: imds.url },
      { env: {}, reporter },
    );
    assert.equal(resolved.region, 'ap-southeast-2');
    const identity = await resolved.provider();
    assert.equal(identity.accessKeyId, roleCredentials.AccessKeyId);
    assert.equal(identity.expiration?.toISOString(), roleCredentials.Expiration);
    assert.ok(reporter.secrets.has(roleCredentials.Token));
    assert.match(resolved.describe(), /EC2 instance profile role web-role/);
  });

  it('reads the endpoint from AWS_EC2_METADATA_SERVICE_ENDPOINT and explains an unreachable one', async () => {
    const reporter = new MemoryReporter();
    const resolved = await resolveCredentials(
      { provider: 'ec2-instance-metadata', region: 'us-east-1' },
      { env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url }, reporter },
    );
    assert.equal(resolved.region, 'us-east-1');
    await assert.rejects(
      resolveCredentials(
        { provider: 'ec2-instance-metadata', region: 'us-east-1', ec2MetadataEndpoint: 'http://127.0.0.1:1' },
        { env: {}, reporter },
      ),
      /EC2 instance metadata is not reachable at http:\/\/127\.0\.0\.1:1/,
    );
  });
});
