import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { MemoryReporter } from '../report/reporter';
import { encodedForms } from '../report/secrets';
import { FakeSts, stsError } from '../../test/support/fake-sts';
import { azureClaims, makeJwt } from '../../test/support/jwt';
import { StsRejectedError, StsUnavailableError } from './errors';
import { toOidcToken } from './jwt';
import type { OidcToken, TokenSource } from './types';
import { WebIdentityCredentials, type WebIdentityOptions } from './web-identity';

/** A token source minting a new JWT per call and remembering each. */
class CountingTokenSource implements TokenSource {
  readonly name = 'token-file' as const;
  readonly minted: string[] = [];
  constructor(
    private readonly reporter: MemoryReporter,
    private readonly lifetimeSeconds = 3600,
  ) {}
  describe(): string {
    return 'test tokens';
  }
  async getToken(): Promise<OidcToken> {
    const jwt = makeJwt(azureClaims(this.lifetimeSeconds));
    this.minted.push(jwt);
    return toOidcToken(jwt, 'token-file', this.reporter, 'test');
  }
}

describe('WebIdentityCredentials', () => {
  const sts = new FakeSts();
  let reporter: MemoryReporter;
  let tokens: CountingTokenSource;

  before(() => sts.start());
  after(() => sts.close());
  beforeEach(() => {
    sts.calls.length = 0;
    sts.queued.length = 0;
    sts.issued.length = 0;
    sts.sessionSeconds = 3600;
    reporter = new MemoryReporter();
    tokens = new CountingTokenSource(reporter);
  });

  const create = (overrides: Partial<WebIdentityOptions> = {}) =>
    new WebIdentityCredentials({
      tokenSource: tokens,
      roleArn: 'arn:aws:iam::123456789012:role/deploy',
      sessionName: 'keyless-test',
      region: 'us-east-1',
      endpoints: { sts: sts.url },
      env: {},
      reporter,
      sleep: async () => undefined,
      ...overrides,
    });

  it('sends the fresh JWT, role, session and duration, never ProviderId', async () => {
    const web = create({ durationSeconds: 1800 });
    const identity = await web.provider();
    const call = sts.callsOf('AssumeRoleWithWebIdentity')[0];
    assert.ok(call);
    assert.equal(call.params.get('WebIdentityToken'), tokens.minted[0]);
    assert.equal(call.params.get('RoleArn'), 'arn:aws:iam::123456789012:role/deploy');
    assert.equal(call.params.get('RoleSessionName'), 'keyless-test');
    assert.equal(call.params.get('DurationSeconds'), '1800');
    assert.equal(call.params.get('ProviderId'), null);
    assert.equal(call.request.headers.authorization, undefined, 'the call is unsigned');
    assert.equal(identity.accessKeyId, sts.issued[0]?.accessKeyId);
    assert.ok(identity.expiration instanceof Date);
    assert.equal(identity.accountId, '123456789012');
    assert.equal(web.assumedRoleArn, 'arn:aws:sts::123456789012:assumed-role/deploy/keyless-test');
  });

  it('registers the JWT and all three credential parts before returning', async () => {
    const identity = await create().provider();
    for (const secret of [
      tokens.minted[0],
      identity.accessKeyId,
      identity.secretAccessKey,
      identity.sessionToken,
    ]) {
      assert.ok(secret && reporter.secrets.has(secret));
      reporter.info(
        `leak attempt ${secret} ${Buffer.from(secret).toString('base64')} ${encodeURIComponent(secret)}`,
      );
    }
    const text = reporter.text();
    for (const secret of [
      tokens.minted[0],
      identity.accessKeyId,
      identity.secretAccessKey,
      identity.sessionToken,
    ]) {
      for (const form of encodedForms(secret ?? ''))
        assert.ok(!text.includes(form), 'a secret reached the output');
    }
    assert.match(text, /iss=https:\/\/sts\.windows\.net\//, 'decoded claims are logged');
  });

  it('caches until the refresh margin, then fetches a fresh JWT and re-assumes', async () => {
    let now = Date.now();
    sts.sessionSeconds = 3600;
    const web = create({ now: () => now });
    const first = await web.provider();
    assert.equal((await web.provider()).accessKeyId, first.accessKeyId);
    // Margin is min(5 min, 25% of 1 h) = 5 min: 54 min later still cached, 56 min later refreshed.
    now += 54 * 60_000;
    assert.equal((await web.provider()).accessKeyId, first.accessKeyId);
    now += 2 * 60_000;
    const second = await web.provider();
    assert.notEqual(second.accessKeyId, first.accessKeyId);
    assert.equal(web.assumeCount, 2);
    assert.equal(tokens.minted.length, 2);
    const sent = sts.callsOf('AssumeRoleWithWebIdentity').map((call) => call.params.get('WebIdentityToken'));
    assert.deepEqual(sent, tokens.minted, 'each exchange used its own fresh JWT');
  });

  it('uses a 25% margin for short sessions', async () => {
    let now = Date.now();
    sts.sessionSeconds = 20;
    const web = create({ now: () => now });
    const first = await web.provider();
    now += 14_000;
    assert.equal((await web.provider()).accessKeyId, first.accessKeyId, 'still inside 20 s − 5 s');
    now += 2_000;
    assert.notEqual((await web.provider()).accessKeyId, first.accessKeyId);
  });

  it('shares one pending refresh between concurrent callers', async () => {
    const web = create();
    const results = await Promise.all(Array.from({ length: 10 }, () => web.provider()));
    assert.equal(new Set(results.map((r) => r.accessKeyId)).size, 1);
    assert.equal(sts.callsOf('AssumeRoleWithWebIdentity').length, 1);
    assert.equal(tokens.minted.length, 1);
  });

  it('retries throttling, IDPCommunicationError and 5xx with backoff, keeping the JWT', async () => {
    sts.queued.push(
      stsError(400, 'Throttling', 'Rate exceeded'),
      stsError(400, 'IDPCommunicationError', "Couldn't reach the IdP"),
      stsError(503, 'ServiceUnavailable', 'Service unavailable', 'Receiver'),
    );
    const waits: number[] = [];
    const web = create({ sleep: async (ms) => void waits.push(ms), random: () => 1 });
    await web.provider();
    assert.equal(sts.callsOf('AssumeRoleWithWebIdentity').length, 4);
    assert.deepEqual(waits, [500, 1000, 2000], 'full-jitter ceilings grow exponentially');
    assert.equal(tokens.minted.length, 1);
  });

  it('stops retrying before the JWT would expire', async () => {
    // `exp` is in whole seconds, so a 9 s token leaves 3-4 s after the 5 s margin: the first 2 s wait fits
    // with a second to spare however slow the machine is, the next 4 s one never does.
    tokens = new CountingTokenSource(reporter, 9);
    for (let i = 0; i < 5; i++) sts.queued.push(stsError(400, 'Throttling', 'Rate exceeded'));
    const web = create({ random: () => 1, retryBaseMs: 2_000, sleep: async () => undefined });
    await assert.rejects(web.provider(), StsUnavailableError);
    assert.equal(sts.callsOf('AssumeRoleWithWebIdentity').length, 2);
  });

  it('on ExpiredTokenException fetches a new JWT once and retries', async () => {
    sts.queued.push(
      stsError(
        400,
        'ExpiredTokenException',
        'Token expired: current date/time 1 must be before the expiration date/time 0',
      ),
    );
    const identity = await create().provider();
    assert.ok(identity.accessKeyId);
    assert.equal(tokens.minted.length, 2);
    const sent = sts.callsOf('AssumeRoleWithWebIdentity').map((call) => call.params.get('WebIdentityToken'));
    assert.deepEqual(sent, tokens.minted);
  });

  it('gives up after a second ExpiredTokenException with an expiry explanation', async () => {
    sts.queued.push(
      stsError(400, 'ExpiredTokenException', 'Token expired'),
      stsError(400, 'ExpiredTokenException', 'Token expired'),
    );
    await assert.rejects(create().provider(), (error: unknown) => {
      assert.ok(error instanceof StsRejectedError);
      assert.equal(error.check, 'expiry');
      return true;
    });
  });

  for (const [code, status, message, check] of [
    [
      'InvalidIdentityToken',
      400,
      'No OpenIDConnect provider found in your account for https://sts.windows.net/x/',
      'issuer',
    ],
    ['AccessDenied', 403, 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 'trust-policy'],
    [
      'ValidationError',
      400,
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      'duration',
    ],
  ] as const) {
    it(`fails at once on ${code} (${check})`, async () => {
      sts.queued.push(stsError(status, code, message));
      await assert.rejects(create().provider(), (error: unknown) => {
        assert.ok(error instanceof StsRejectedError);
        assert.equal(error.check, check);
        assert.equal(error.stsCode, code);
        return true;
      });
      assert.equal(sts.callsOf('AssumeRoleWithWebIdentity').length, 1);
    });
  }

  it('a failed refresh is not cached: the next call tries again', async () => {
    sts.queued.push(stsError(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity'));
    const web = create();
    await assert.rejects(web.provider(), StsRejectedError);
    assert.ok((await web.provider()).accessKeyId);
  });

  it('works as an SDK client credential provider', async () => {
    const web = create();
    const client = new STSClient({ region: 'us-east-1', endpoint: sts.url, credentials: web.provider });
    const output = await client.send(new GetCallerIdentityCommand({}));
    assert.equal(output.Account, '123456789012');
    const signed = sts.callsOf('GetCallerIdentity')[0];
    assert.match(
      String(signed?.request.headers.authorization),
      new RegExp(`Credential=${sts.issued[0]?.accessKeyId}/`),
    );
  });
});
