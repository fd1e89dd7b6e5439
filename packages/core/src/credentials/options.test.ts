import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidInputError } from '../errors';
import { defaultSessionName, sanitizeSessionName, validateCredentialOptions } from './options';
import type { CredentialOptions } from './types';

const role = 'arn:aws:iam::123456789012:role/deploy';
const valid: CredentialOptions = { provider: 'github', roleArn: role };

function rejects(options: CredentialOptions, message: RegExp, fix?: RegExp, env: NodeJS.ProcessEnv = {}) {
  assert.throws(
    () => validateCredentialOptions(options, env),
    (error: unknown) => {
      assert.ok(error instanceof InvalidInputError);
      assert.equal(error.exitCode, 2);
      assert.match(error.message, message);
      if (fix) assert.match(error.fix ?? '', fix);
      return true;
    },
  );
}

describe('validateCredentialOptions', () => {
  it('fills in defaults', () => {
    const validated = validateCredentialOptions(valid, { BUILD_BUILDID: '42' });
    assert.equal(validated.durationSeconds, 3600);
    assert.equal(validated.sessionName, 'keyless-ado-42');
  });
  it('lists valid modes for an unknown one', () =>
    rejects(
      { provider: 'azure' as CredentialOptions['provider'] },
      /Unknown credential mode "azure"/,
      /azure-managed-identity, azure-devops, github/,
    ));
  it('requires a role for OIDC modes', () => rejects({ provider: 'gitlab' }, /needs the role/, /--role-arn/));
  it('asks for the full ARN when given a bare role name', () =>
    rejects({ ...valid, roleArn: 'deploy' }, /bare role name/, /arn:aws:iam::<account-id>:role\/deploy/));
  it('rejects a malformed ARN', () =>
    rejects({ ...valid, roleArn: 'arn:aws:iam::123:role/x' }, /not an IAM role ARN/));
  it('accepts other partitions and paths', () => {
    validateCredentialOptions({ ...valid, roleArn: 'arn:aws-cn:iam::123456789012:role/ci/deploy' }, {});
    validateCredentialOptions({ ...valid, roleArn: 'arn:aws-us-gov:iam::123456789012:role/deploy' }, {});
  });
  it('checks the duration range', () => {
    rejects({ ...valid, durationSeconds: 899 }, /outside 900–43200/);
    rejects({ ...valid, durationSeconds: 43_201 }, /outside 900–43200/);
    rejects({ ...valid, durationSeconds: 1000.5 }, /outside 900–43200/);
    validateCredentialOptions({ ...valid, durationSeconds: 43_200 }, {});
  });
  it('checks the session name', () => {
    rejects({ ...valid, sessionName: 'a' }, /session name "a" is invalid/);
    rejects({ ...valid, sessionName: 'has space' }, /is invalid/);
    rejects({ ...valid, sessionName: 'x'.repeat(65) }, /is invalid/);
  });
  it('allows at most one Azure identity selector', () =>
    rejects(
      {
        provider: 'azure-managed-identity',
        roleArn: role,
        audience: 'api://a',
        clientId: 'c',
        objectId: 'o',
      },
      /client id and object id/,
    ));
  it('requires an audience for azure-managed-identity', () =>
    rejects(
      { provider: 'azure-managed-identity', roleArn: role },
      /needs the token audience/,
      /Application ID URI/,
    ));
  it('requires a service connection for azure-devops', () =>
    rejects({ provider: 'azure-devops', roleArn: role }, /service connection id/));
  it('requires a token file (or AWS_WEB_IDENTITY_TOKEN_FILE)', () => {
    rejects({ provider: 'token-file', roleArn: role }, /needs a token file/);
    validateCredentialOptions(
      { provider: 'token-file', roleArn: role },
      { AWS_WEB_IDENTITY_TOKEN_FILE: '/t' },
    );
  });
  it('requires both keys in access-keys mode', () =>
    rejects({ provider: 'access-keys', accessKeyId: 'AKIA' }, /the secret access key is missing/));
  it('validates a chained role ARN', () =>
    rejects({ ...valid, chainRoleArn: 'other' }, /chained role ARN "other" is a bare role name/));
});

describe('defaultSessionName', () => {
  it('derives from the CI run', () => {
    assert.equal(defaultSessionName({ BUILD_BUILDID: '1234' }), 'keyless-ado-1234');
    assert.equal(defaultSessionName({ GITHUB_RUN_ID: '99', GITHUB_RUN_ATTEMPT: '2' }), 'keyless-gh-99-2');
    assert.equal(defaultSessionName({ CI_JOB_ID: '7' }), 'keyless-gl-7');
    assert.equal(
      defaultSessionName({}, () => 1_700_000_000_123),
      'keyless-1700000000',
    );
  });
  it('sanitises odd characters and length', () => {
    assert.equal(defaultSessionName({ BUILD_BUILDID: '12 34/5' }), 'keyless-ado-12-34-5');
    assert.equal(sanitizeSessionName('x'.repeat(100)).length, 64);
  });
});
