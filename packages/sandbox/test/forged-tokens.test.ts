import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, generateKeyPairSync, randomUUID, type JsonWebKey } from 'node:crypto';
import { SignJWT, type JWK } from 'jose';
import { startSandbox, type RunningSandbox } from '../src/index';
import { AUDIENCE, blogConfig, IDENTITY_OBJECT_ID, ISSUER, ROLE_ARN, ACCOUNT_ID } from './support';

/**
 * Every way a token can be wrong, sent to AssumeRoleWithWebIdentity on the wire (unsigned POST, like the SDK and
 * CLI). Each must be refused with AWS's exact code, HTTP status and message, and none may yield credentials.
 */

const GENERIC =
  'The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.';
const NO_KEY =
  "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements";
const OTHER_PROVIDER_ROLE = 'github-only';

let sandbox: RunningSandbox;
const logs: string[] = [];
const secretsSeen: string[] = [];
let issuerKid: string;
let issuerPublicPem: string;
const attackerKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });

before(async () => {
  const config = blogConfig();
  config.iam!.oidcProviders!.push({
    url: 'https://token.actions.githubusercontent.com',
    clientIds: ['sts.amazonaws.com'],
  });
  config.iam!.roles!.push({
    name: OTHER_PROVIDER_ROLE,
    assumeRolePolicyDocument: {
      Version: '2012-10-17',
      Statement: {
        Effect: 'Allow',
        Principal: {
          Federated: `arn:aws:iam::${ACCOUNT_ID}:oidc-provider/token.actions.githubusercontent.com`,
        },
        Action: 'sts:AssumeRoleWithWebIdentity',
      },
    },
  });
  sandbox = await startSandbox({ config, port: 0, log: (line) => logs.push(line) });
  const jwks = (await (await fetch(`${sandbox.url}/oidc/entra/jwks`)).json()) as { keys: JWK[] };
  const jwk = jwks.keys[0]!;
  issuerKid = jwk.kid!;
  issuerPublicPem = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }).export({
    type: 'spki',
    format: 'pem',
  }) as string;
});

after(async () => {
  await sandbox.close();
});

const now = () => Math.floor(Date.now() / 1000);

function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

function validClaims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: IDENTITY_OBJECT_ID,
    iat: now(),
    nbf: now(),
    exp: now() + 3600,
    jti: randomUUID(),
    ...extra,
  };
}

async function attackerSigned(claims: Record<string, unknown>, kid: string): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
    .sign(attackerKeys.privateKey);
}

function mint(claims: Record<string, unknown>, issuerId = 'entra'): Promise<string> {
  return sandbox.control.mintToken(issuerId, claims);
}

interface WireAnswer {
  status: number;
  body: string;
}

async function assumeOnWire(token: string, params: Record<string, string> = {}): Promise<WireAnswer> {
  secretsSeen.push(token);
  const form = new URLSearchParams({
    Action: 'AssumeRoleWithWebIdentity',
    Version: '2011-06-15',
    RoleArn: ROLE_ARN,
    RoleSessionName: 'AWSAssumeRole',
    WebIdentityToken: token,
    ...params,
  });
  const response = await fetch(sandbox.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: form.toString(),
  });
  return { status: response.status, body: await response.text() };
}

function assertRefused(answer: WireAnswer, status: number, code: string, message: string | RegExp): void {
  assert.doesNotMatch(
    answer.body,
    /<Credentials>|SecretAccessKey/,
    'a refused token must not yield credentials',
  );
  assert.equal(answer.status, status, answer.body);
  assert.match(
    answer.body,
    /^<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type>/,
  );
  const wireCode = /<Code>([^<]*)<\/Code>/.exec(answer.body)?.[1];
  const wireMessage = (/<Message>([^<]*)<\/Message>/.exec(answer.body)?.[1] ?? '')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
  assert.equal(wireCode, code);
  if (typeof message === 'string') assert.equal(wireMessage, message);
  else assert.match(wireMessage, message);
  assert.match(answer.body, /<RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>/);
}

test('control: a genuine token is accepted (the battery below is not refusing everything)', async () => {
  const answer = await assumeOnWire(await mint(validClaims()));
  assert.equal(answer.status, 200, answer.body);
  assert.match(
    answer.body,
    /<AssumeRoleWithWebIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><AssumeRoleWithWebIdentityResult>/,
  );
  for (const secret of ['AccessKeyId', 'SecretAccessKey', 'SessionToken']) {
    secretsSeen.push(new RegExp(`<${secret}>([^<]+)</${secret}>`).exec(answer.body)?.[1] ?? '');
  }
});

test('control: exp within the 5-minute skew is still accepted', async () => {
  const answer = await assumeOnWire(
    await mint(validClaims({ iat: now() - 1200, nbf: now() - 1200, exp: now() - 120 })),
  );
  assert.equal(answer.status, 200, answer.body);
});

test('bad signature (right kid, signed by another key)', async () => {
  assertRefused(
    await assumeOnWire(await attackerSigned(validClaims(), issuerKid)),
    400,
    'InvalidIdentityToken',
    GENERIC,
  );
});

test('tampered payload keeps the original signature', async () => {
  const genuine = await mint(validClaims());
  const [header, , signature] = genuine.split('.');
  const forged = `${header}.${b64url(validClaims({ sub: 'attacker' }))}.${signature}`;
  assertRefused(await assumeOnWire(forged), 400, 'InvalidIdentityToken', GENERIC);
});

test('alg none', async () => {
  const forged = `${b64url({ alg: 'none', kid: issuerKid, typ: 'JWT' })}.${b64url(validClaims())}.`;
  assertRefused(await assumeOnWire(forged), 400, 'InvalidIdentityToken', GENERIC);
});

test('HS256 signed with the issuer public key as the HMAC secret (algorithm confusion)', async () => {
  const signingInput = `${b64url({ alg: 'HS256', kid: issuerKid, typ: 'JWT' })}.${b64url(validClaims())}`;
  const signature = createHmac('sha256', issuerPublicPem).update(signingInput).digest('base64url');
  assertRefused(await assumeOnWire(`${signingInput}.${signature}`), 400, 'InvalidIdentityToken', GENERIC);
});

test('unknown kid', async () => {
  assertRefused(
    await assumeOnWire(await attackerSigned(validClaims(), 'not-a-published-kid')),
    400,
    'InvalidIdentityToken',
    NO_KEY,
  );
});

test('wrong issuer (no IAM provider, not hosted)', async () => {
  const token = await attackerSigned(validClaims({ iss: 'https://login.evil.example/tenant/' }), 'k1');
  assertRefused(
    await assumeOnWire(token),
    400,
    'InvalidIdentityToken',
    'No OpenIDConnect provider found in your account for https://login.evil.example/tenant/',
  );
});

test('issuer differing only in case or trailing slash is a different issuer', async () => {
  const noSlash = ISSUER.slice(0, -1);
  assertRefused(
    await assumeOnWire(await mint(validClaims({ iss: noSlash }))),
    400,
    'InvalidIdentityToken',
    `No OpenIDConnect provider found in your account for ${noSlash}`,
  );
  const upper = ISSUER.replace('sts.windows.net', 'STS.windows.net');
  assertRefused(
    await assumeOnWire(await mint(validClaims({ iss: upper }))),
    400,
    'InvalidIdentityToken',
    `No OpenIDConnect provider found in your account for ${upper}`,
  );
});

test('http:// issuer', async () => {
  const iss = ISSUER.replace('https://', 'http://');
  assertRefused(
    await assumeOnWire(await mint(validClaims({ iss }))),
    400,
    'InvalidIdentityToken',
    `No OpenIDConnect provider found in your account for ${iss}`,
  );
});

test('hosted issuer that has no IAM OIDC provider', async () => {
  const token = await mint({ aud: AUDIENCE, sub: IDENTITY_OBJECT_ID }, 'stray');
  assertRefused(
    await assumeOnWire(token),
    400,
    'InvalidIdentityToken',
    'No OpenIDConnect provider found in your account for https://issuer.example.test/unregistered',
  );
});

test('wrong audience, and no audience at all', async () => {
  assertRefused(
    await assumeOnWire(await mint(validClaims({ aud: 'api://some-other-app' }))),
    400,
    'InvalidIdentityToken',
    'Incorrect token audience',
  );
  const noAud = validClaims();
  delete noAud.aud;
  assertRefused(
    await assumeOnWire(await mint(noAud)),
    400,
    'InvalidIdentityToken',
    'Incorrect token audience',
  );
});

test('wrong subject (trust policy pins sub) — AccessDenied, with the failing condition in the log only', async () => {
  const answer = await assumeOnWire(await mint(validClaims({ sub: 'another-identity-in-the-tenant' })));
  assertRefused(answer, 403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
  assert.doesNotMatch(answer.body, /StringEquals/);
  assert.ok(
    logs.some((line) =>
      /AccessDenied .*StringEquals .*:sub failed: request has \["another-identity-in-the-tenant"\]/.test(
        line,
      ),
    ),
  );
});

test('expired beyond the 5-minute skew', async () => {
  const exp = now() - 400;
  const answer = await assumeOnWire(await mint(validClaims({ iat: now() - 4000, nbf: now() - 4000, exp })));
  assertRefused(
    answer,
    400,
    'ExpiredTokenException',
    new RegExp(`^Token expired: current date/time \\d{10} must be before the expiration date/time ${exp}$`),
  );
});

test('nbf in the future (beyond skew)', async () => {
  assertRefused(
    await assumeOnWire(await mint(validClaims({ nbf: now() + 900 }))),
    400,
    'InvalidIdentityToken',
    GENERIC,
  );
});

test('token too old (iat far in the past, exp still ahead)', async () => {
  const answer = await assumeOnWire(
    await mint(validClaims({ iat: now() - 200_000, nbf: now() - 200_000, exp: now() + 3600 })),
  );
  assertRefused(answer, 400, 'ExpiredTokenException', /^Token too old: \d+$/);
});

test('missing sub', async () => {
  const claims = validClaims();
  delete claims.sub;
  assertRefused(await assumeOnWire(await mint(claims)), 400, 'InvalidIdentityToken', GENERIC);
});

test('role without a trust statement for this provider', async () => {
  const answer = await assumeOnWire(await mint(validClaims()), {
    RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/${OTHER_PROVIDER_ROLE}`,
  });
  assertRefused(answer, 403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
});

test('role that does not exist, and a role in another account', async () => {
  assertRefused(
    await assumeOnWire(await mint(validClaims()), { RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/nope` }),
    403,
    'AccessDenied',
    'Not authorized to perform sts:AssumeRoleWithWebIdentity',
  );
  const foreign = await assumeOnWire(await mint(validClaims()), {
    RoleArn: 'arn:aws:iam::999999999999:role/azure-pipelines-deployer',
  });
  assertRefused(
    foreign,
    400,
    'InvalidIdentityToken',
    `No OpenIDConnect provider found in your account for ${ISSUER}`,
  );
});

test('DurationSeconds above the role maximum', async () => {
  const answer = await assumeOnWire(await mint(validClaims()), { DurationSeconds: '7200' });
  assertRefused(
    answer,
    400,
    'ValidationError',
    'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
  );
});

test('malformed JWTs', async () => {
  for (const token of [
    'not-a-jwt',
    'a.b.c',
    `${b64url({ alg: 'RS256' })}.not-json.sig`,
    `${b64url('[1]')}.${b64url(validClaims())}.x`,
  ]) {
    assertRefused(await assumeOnWire(token), 400, 'InvalidIdentityToken', GENERIC);
  }
});

test('parameter constraints, in AWS validation wording (token value never echoed)', async () => {
  const token = await mint(validClaims());
  assertRefused(
    await assumeOnWire(token, { RoleSessionName: 'a' }),
    400,
    'ValidationError',
    "1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
  );
  assertRefused(
    await assumeOnWire(token, { RoleSessionName: 'has space', DurationSeconds: '100' }),
    400,
    'ValidationError',
    "2 validation errors detected: Value 'has space' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*; Value '100' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
  );
  assertRefused(
    await assumeOnWire('abc'),
    400,
    'ValidationError',
    "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4",
  );
  assertRefused(
    await assumeOnWire(token, { RoleArn: 'arn:aws:iam::123456789012:user/someone' }),
    400,
    'ValidationError',
    'Request ARN is invalid',
  );
});

test('no token, forged or genuine, and no issued credential reaches the sandbox log', () => {
  assert.ok(secretsSeen.length > 20);
  const text = logs.join('\n');
  for (const secret of secretsSeen.filter((s) => s.length >= 8)) {
    for (const form of [secret, Buffer.from(secret).toString('base64'), encodeURIComponent(secret)]) {
      assert.ok(!text.includes(form), `secret ${secret.slice(0, 8)}… leaked into the log`);
    }
  }
});
