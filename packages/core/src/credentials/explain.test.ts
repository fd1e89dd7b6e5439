import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { FakeSts, stsError } from '../../test/support/fake-sts';
import { makeJwt } from '../../test/support/jwt';
import { StsRejectedError, StsUnavailableError, type StsCheck } from './errors';
import { classifyStsError, explainStsError, stsErrorCode, trustPolicyStatementFor } from './explain';
import { decodeJwt } from 'jose';
import type { TokenClaims } from './types';

const roleArn = 'arn:aws:iam::123456789012:role/deploy';
const claims: TokenClaims = {
  iss: 'https://sts.windows.net/tenant-guid/',
  aud: 'api://keyless-aws',
  sub: 'object-id-of-identity',
  exp: 1_900_000_000,
};

/** Real STS error messages, as recorded from AWS and issue reports. */
const recorded: Array<{ status: number; code: string; message: string; check: StsCheck; expect: RegExp }> = [
  {
    status: 400,
    code: 'InvalidIdentityToken',
    message: 'No OpenIDConnect provider found in your account for https://sts.windows.net/tenant-guid/',
    check: 'issuer',
    expect:
      /issuer https:\/\/sts\.windows\.net\/tenant-guid\/ is not registered as an IAM OIDC provider in account 123456789012/,
  },
  {
    status: 400,
    code: 'InvalidIdentityToken',
    message: 'Incorrect token audience',
    check: 'audience',
    expect: /audience api:\/\/keyless-aws is not in the client ID list/,
  },
  {
    status: 400,
    code: 'InvalidIdentityToken',
    message:
      "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
    check: 'signature',
    expect: /could not verify the token's signature/,
  },
  {
    status: 400,
    code: 'InvalidIdentityToken',
    message: 'The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)',
    check: 'token',
    expect: /malformed/,
  },
  {
    status: 400,
    code: 'ExpiredTokenException',
    message: 'Token expired: current date/time 1700000400 must be before the expiration date/time1700000000',
    check: 'expiry',
    expect: /has expired or is too old/,
  },
  {
    status: 403,
    code: 'AccessDenied',
    message: 'Not authorized to perform sts:AssumeRoleWithWebIdentity',
    check: 'trust-policy',
    expect: /does not trust this token/,
  },
  {
    status: 400,
    code: 'ValidationError',
    message: 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    check: 'duration',
    expect: /session duration of 43200 s is not allowed/,
  },
  {
    status: 400,
    code: 'ValidationError',
    message:
      "1 validation error detected: Value 'bad name' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    check: 'session-name',
    expect: /session name "bad name" is not valid/,
  },
  {
    status: 403,
    code: 'IDPRejectedClaim',
    message: 'Claim rejected',
    check: 'claims',
    expect: /rejected the token's claims/,
  },
  {
    status: 400,
    code: 'MalformedPolicyDocument',
    message: 'Syntax errors in policy.',
    check: 'session-policy',
    expect: /session policy/,
  },
  {
    status: 400,
    code: 'PackedPolicyTooLarge',
    message: 'Packed policy consumes 110% of allotted space',
    check: 'session-policy',
    expect: /session policy/,
  },
  {
    status: 403,
    code: 'RegionDisabledException',
    message: 'STS is not activated in this region for account:123456789012.',
    check: 'region',
    expect: /not activated in this region/,
  },
];

describe('explainStsError with recorded STS error bodies', () => {
  const sts = new FakeSts();
  before(() => sts.start());
  after(() => sts.close());

  async function sdkErrorFor(status: number, code: string, message: string): Promise<unknown> {
    sts.queued.push(stsError(status, code, message));
    const client = new STSClient({ region: 'us-east-1', endpoint: sts.url, maxAttempts: 1 });
    try {
      await client.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: roleArn,
          RoleSessionName: 's1',
          WebIdentityToken: makeJwt(claims),
        }),
      );
    } catch (error) {
      return error;
    }
    assert.fail('expected an error');
  }

  for (const sample of recorded) {
    it(`${sample.code}: ${sample.message.slice(0, 40)}… → ${sample.check}`, async () => {
      const error = await sdkErrorFor(sample.status, sample.code, sample.message);
      assert.equal(stsErrorCode(error), sample.code, 'SDK exception name normalised to the wire code');
      const explained = explainStsError(error, {
        operation: 'AssumeRoleWithWebIdentity',
        roleArn,
        claims,
        sessionName: 'bad name',
        durationSeconds: 43_200,
      });
      assert.ok(explained instanceof StsRejectedError);
      assert.equal(explained.check, sample.check);
      assert.equal(explained.stsCode, sample.code);
      assert.match(explained.message, sample.expect);
      assert.ok(
        explained.message.includes('iss=https://sts.windows.net/tenant-guid/'),
        'claims shown beside the cause',
      );
      assert.ok(explained.message.includes('sub=object-id-of-identity'));
      assert.ok(explained.fix, 'every explanation has a fix');
      const text = explained.toUserText();
      assert.ok(!/\n\s+at /.test(text), 'no stack');
      assert.ok(text.split('\n').length <= 2);
    });
  }

  it('AccessDenied carries a compact trust-policy statement that would admit the token', async () => {
    const error = await sdkErrorFor(
      403,
      'AccessDenied',
      'Not authorized to perform sts:AssumeRoleWithWebIdentity',
    );
    const explained = explainStsError(error, { operation: 'AssumeRoleWithWebIdentity', roleArn, claims });
    assert.ok(explained instanceof StsRejectedError);
    const statement =
      '{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/sts.windows.net/tenant-guid/"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"sts.windows.net/tenant-guid/:aud":"api://keyless-aws","sts.windows.net/tenant-guid/:sub":"object-id-of-identity"}}}';
    assert.equal(explained.trustPolicyStatement, statement);
    assert.ok(explained.fix?.includes(statement));
  });

  it('throttling and IDPCommunicationError are transient; fatal codes are not', async () => {
    assert.equal(
      classifyStsError(await sdkErrorFor(400, 'Throttling', 'Rate exceeded'), 'AssumeRoleWithWebIdentity'),
      'transient',
    );
    assert.equal(
      classifyStsError(await sdkErrorFor(400, 'IDPCommunicationError', 'x'), 'AssumeRoleWithWebIdentity'),
      'transient',
    );
    assert.equal(
      classifyStsError(await sdkErrorFor(500, 'InternalFailure', 'x'), 'AssumeRoleWithWebIdentity'),
      'transient',
    );
    assert.equal(
      classifyStsError(await sdkErrorFor(400, 'ExpiredTokenException', 'x'), 'AssumeRoleWithWebIdentity'),
      'expired-token',
    );
    assert.equal(
      classifyStsError(await sdkErrorFor(400, 'ExpiredTokenException', 'x'), 'AssumeRole'),
      'fatal',
    );
    assert.equal(
      classifyStsError(await sdkErrorFor(403, 'AccessDenied', 'x'), 'AssumeRoleWithWebIdentity'),
      'fatal',
    );
    const idp = explainStsError(await sdkErrorFor(400, 'IDPCommunicationError', 'unreachable'), {
      operation: 'AssumeRoleWithWebIdentity',
      claims,
    });
    assert.ok(idp instanceof StsUnavailableError);
    assert.match(idp.fix ?? '', /sts\.windows\.net\/tenant-guid\/\.well-known\/openid-configuration/);
  });
});

describe('explain helpers', () => {
  it('matches both wire codes and SDK exception names', () => {
    assert.equal(stsErrorCode({ name: 'InvalidIdentityTokenException' }), 'InvalidIdentityToken');
    assert.equal(stsErrorCode({ name: 'InvalidIdentityToken' }), 'InvalidIdentityToken');
    assert.equal(stsErrorCode({ name: 'PackedPolicyTooLargeException' }), 'PackedPolicyTooLarge');
    assert.equal(stsErrorCode({ name: 'IDPCommunicationErrorException' }), 'IDPCommunicationError');
    assert.equal(stsErrorCode({ name: 'Error' }), undefined);
  });
  it('classifies network errors as transient and explains them as unavailable', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
      $metadata: {},
    });
    assert.equal(classifyStsError(refused, 'AssumeRole'), 'transient');
    const explained = explainStsError(refused, { operation: 'AssumeRole', endpoint: 'http://127.0.0.1:1' });
    assert.ok(explained instanceof StsUnavailableError);
    assert.match(explained.message, /http:\/\/127\.0\.0\.1:1/);
  });
  it('builds no trust statement without an issuer or a role ARN', () => {
    assert.equal(trustPolicyStatementFor(undefined, claims), undefined);
    assert.equal(trustPolicyStatementFor(roleArn, { sub: 'x' }), undefined);
    const github = trustPolicyStatementFor('arn:aws-cn:iam::123456789012:role/r', {
      ...decodeJwt(
        makeJwt({
          iss: 'https://token.actions.githubusercontent.com',
          aud: 'sts.amazonaws.com.cn',
          sub: 'repo:o/r:ref:refs/heads/main',
        }),
      ),
    });
    assert.match(
      github ?? '',
      /"Federated":"arn:aws-cn:iam::123456789012:oidc-provider\/token\.actions\.githubusercontent\.com"/,
    );
    assert.match(
      github ?? '',
      /"token\.actions\.githubusercontent\.com:sub":"repo:o\/r:ref:refs\/heads\/main"/,
    );
  });
  it('explains rejected source credentials for AssumeRole', () => {
    const explained = explainStsError(
      {
        name: 'InvalidClientTokenId',
        message: 'The security token included in the request is invalid.',
        $metadata: { httpStatusCode: 403 },
      },
      {
        operation: 'AssumeRole',
        roleArn,
      },
    );
    assert.ok(explained instanceof StsRejectedError);
    assert.equal(explained.check, 'source-credentials');
  });
});
