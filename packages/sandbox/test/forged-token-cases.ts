// The forged-token battery: every way a web identity token can be wrong, each with the exact answer AWS STS
// gives. Shared by forged-tokens.test.ts (the sandbox's own check) and the hostile suite's security test.
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, generateKeyPairSync, randomUUID, type JsonWebKey } from 'node:crypto';
import { SignJWT, type JWK } from 'jose';
import type { RunningSandbox, SandboxConfig } from '../src/index';
import { ACCOUNT_ID, AUDIENCE, blogConfig, IDENTITY_OBJECT_ID, ISSUER, ROLE_ARN } from './support';

export const GENERIC =
  'The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.';
export const NO_KEY =
  "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements";
export const OTHER_PROVIDER_ROLE = 'github-only';

/** The blog's identity setup plus a GitHub provider and a role only GitHub may assume. */
export function forgedTokenConfig(): SandboxConfig {
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
  return config;
}

export interface ForgeKit {
  /** A token genuinely signed by a hosted issuer (default the Entra one). */
  mint(claims: Record<string, unknown>, issuerId?: string): Promise<string>;
  /** Signed by a key the attacker generated. */
  attackerSigned(claims: Record<string, unknown>, kid: string): Promise<string>;
  /** The Entra issuer's published kid and public key (PEM). */
  issuerKid: string;
  issuerPublicPem: string;
  now(): number;
  /** Claims the blog's role accepts, with overrides. */
  validClaims(extra?: Record<string, unknown>): Record<string, unknown>;
}

export async function createForgeKit(sandbox: RunningSandbox): Promise<ForgeKit> {
  const attackerKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwks = (await (await fetch(`${sandbox.url}/oidc/entra/jwks`)).json()) as { keys: JWK[] };
  const jwk = jwks.keys[0]!;
  const now = () => Math.floor(Date.now() / 1000);
  return {
    issuerKid: jwk.kid!,
    issuerPublicPem: createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    }) as string,
    now,
    mint: (claims, issuerId = 'entra') => sandbox.control.mintToken(issuerId, claims),
    attackerSigned: (claims, kid) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(attackerKeys.privateKey),
    validClaims: (extra = {}) => ({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: IDENTITY_OBJECT_ID,
      iat: now(),
      nbf: now(),
      exp: now() + 3600,
      jti: randomUUID(),
      ...extra,
    }),
  };
}

export function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

export interface ForgedAttempt {
  token: string;
  /** Extra or overriding AssumeRoleWithWebIdentity parameters. */
  params?: Record<string, string>;
  status: number;
  code: string;
  message: string | RegExp;
}

export interface ForgedTokenCase {
  name: string;
  attempts(kit: ForgeKit): Promise<ForgedAttempt[]>;
  /** A line the sandbox's log must then hold (the reason AWS keeps to itself). */
  logPattern?: RegExp;
}

const invalid = (token: string, message: string | RegExp = GENERIC): ForgedAttempt => ({
  token,
  status: 400,
  code: 'InvalidIdentityToken',
  message,
});
const denied = (token: string, params?: Record<string, string>): ForgedAttempt => ({
  token,
  ...(params ? { params } : {}),
  status: 403,
  code: 'AccessDenied',
  message: 'Not authorized to perform sts:AssumeRoleWithWebIdentity',
});
const validation = (token: string, params: Record<string, string>, message: string): ForgedAttempt => ({
  token,
  params,
  status: 400,
  code: 'ValidationError',
  message,
});
const noProvider = (iss: string) => `No OpenIDConnect provider found in your account for ${iss}`;

export const forgedTokenCases: ForgedTokenCase[] = [
  {
    name: 'bad signature (right kid, signed by another key)',
    attempts: async (k) => [invalid(await k.attackerSigned(k.validClaims(), k.issuerKid))],
  },
  {
    name: 'tampered payload keeps the original signature',
    attempts: async (k) => {
      const [header, , signature] = (await k.mint(k.validClaims())).split('.');
      return [invalid(`${header}.${b64url(k.validClaims({ sub: 'attacker' }))}.${signature}`)];
    },
  },
  {
    name: 'alg none',
    attempts: async (k) => [
      invalid(`${b64url({ alg: 'none', kid: k.issuerKid, typ: 'JWT' })}.${b64url(k.validClaims())}.`),
    ],
  },
  {
    name: 'HS256 signed with the issuer public key as the HMAC secret (algorithm confusion)',
    attempts: async (k) => {
      const signingInput = `${b64url({ alg: 'HS256', kid: k.issuerKid, typ: 'JWT' })}.${b64url(k.validClaims())}`;
      const signature = createHmac('sha256', k.issuerPublicPem).update(signingInput).digest('base64url');
      return [invalid(`${signingInput}.${signature}`)];
    },
  },
  {
    name: 'unknown kid',
    attempts: async (k) => [invalid(await k.attackerSigned(k.validClaims(), 'not-a-published-kid'), NO_KEY)],
  },
  {
    name: 'wrong issuer (no IAM provider, not hosted)',
    attempts: async (k) => {
      const iss = 'https://login.evil.example/tenant/';
      return [invalid(await k.attackerSigned(k.validClaims({ iss }), 'k1'), noProvider(iss))];
    },
  },
  {
    name: 'issuer differing only in case or trailing slash is a different issuer',
    attempts: async (k) => {
      const noSlash = ISSUER.slice(0, -1);
      const upper = ISSUER.replace('sts.windows.net', 'STS.windows.net');
      return [
        invalid(await k.mint(k.validClaims({ iss: noSlash })), noProvider(noSlash)),
        invalid(await k.mint(k.validClaims({ iss: upper })), noProvider(upper)),
      ];
    },
  },
  {
    name: 'http:// issuer',
    attempts: async (k) => {
      const iss = ISSUER.replace('https://', 'http://');
      return [invalid(await k.mint(k.validClaims({ iss })), noProvider(iss))];
    },
  },
  {
    name: 'hosted issuer that has no IAM OIDC provider',
    attempts: async (k) => [
      invalid(
        await k.mint({ aud: AUDIENCE, sub: IDENTITY_OBJECT_ID }, 'stray'),
        noProvider('https://issuer.example.test/unregistered'),
      ),
    ],
  },
  {
    name: 'wrong audience, and no audience at all',
    attempts: async (k) => {
      const noAud = k.validClaims();
      delete noAud.aud;
      return [
        invalid(await k.mint(k.validClaims({ aud: 'api://some-other-app' })), 'Incorrect token audience'),
        invalid(await k.mint(noAud), 'Incorrect token audience'),
      ];
    },
  },
  {
    name: 'wrong subject (trust policy pins sub) — AccessDenied, with the failing condition in the log only',
    attempts: async (k) => [denied(await k.mint(k.validClaims({ sub: 'another-identity-in-the-tenant' })))],
    logPattern: /AccessDenied .*StringEquals .*:sub failed: request has \["another-identity-in-the-tenant"\]/,
  },
  {
    name: 'expired beyond the 5-minute skew',
    attempts: async (k) => {
      const exp = k.now() - 400;
      return [
        {
          token: await k.mint(k.validClaims({ iat: k.now() - 4000, nbf: k.now() - 4000, exp })),
          status: 400,
          code: 'ExpiredTokenException',
          message: new RegExp(
            `^Token expired: current date/time \\d{10} must be before the expiration date/time ${exp}$`,
          ),
        },
      ];
    },
  },
  {
    name: 'nbf in the future (beyond skew)',
    attempts: async (k) => [invalid(await k.mint(k.validClaims({ nbf: k.now() + 900 })))],
  },
  {
    name: 'token too old (iat far in the past, exp still ahead)',
    attempts: async (k) => [
      {
        token: await k.mint(
          k.validClaims({ iat: k.now() - 200_000, nbf: k.now() - 200_000, exp: k.now() + 3600 }),
        ),
        status: 400,
        code: 'ExpiredTokenException',
        message: /^Token too old: \d+$/,
      },
    ],
  },
  {
    name: 'missing sub',
    attempts: async (k) => {
      const claims = k.validClaims();
      delete claims.sub;
      return [invalid(await k.mint(claims))];
    },
  },
  {
    name: 'role without a trust statement for this provider',
    attempts: async (k) => [
      denied(await k.mint(k.validClaims()), {
        RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/${OTHER_PROVIDER_ROLE}`,
      }),
    ],
  },
  {
    name: 'role that does not exist, and a role in another account',
    attempts: async (k) => [
      denied(await k.mint(k.validClaims()), { RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/nope` }),
      {
        ...invalid(await k.mint(k.validClaims()), noProvider(ISSUER)),
        params: { RoleArn: 'arn:aws:iam::999999999999:role/azure-pipelines-deployer' },
      },
    ],
  },
  {
    name: 'DurationSeconds above the role maximum',
    attempts: async (k) => [
      validation(
        await k.mint(k.validClaims()),
        { DurationSeconds: '7200' },
        'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      ),
    ],
  },
  {
    name: 'malformed JWTs',
    attempts: async (k) =>
      [
        'not-a-jwt',
        'a.b.c',
        `${b64url({ alg: 'RS256' })}.not-json.sig`,
        `${b64url('[1]')}.${b64url(k.validClaims())}.x`,
      ].map((token) => invalid(token)),
  },
  {
    name: 'parameter constraints, in AWS validation wording (token value never echoed)',
    attempts: async (k) => {
      const token = await k.mint(k.validClaims());
      return [
        validation(
          token,
          { RoleSessionName: 'a' },
          "1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
        ),
        validation(
          token,
          { RoleSessionName: 'has space', DurationSeconds: '100' },
          "2 validation errors detected: Value 'has space' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*; Value '100' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
        ),
        validation(
          'abc',
          {},
          "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4",
        ),
        validation(token, { RoleArn: 'arn:aws:iam::123456789012:user/someone' }, 'Request ARN is invalid'),
      ];
    },
  },
];

export interface WireAnswer {
  status: number;
  body: string;
}

/** AssumeRoleWithWebIdentity on the wire: an unsigned form POST, as the SDK and the CLI send it. */
export async function assumeOnWire(
  url: string,
  token: string,
  params: Record<string, string> = {},
): Promise<WireAnswer> {
  const form = new URLSearchParams({
    Action: 'AssumeRoleWithWebIdentity',
    Version: '2011-06-15',
    RoleArn: ROLE_ARN,
    RoleSessionName: 'AWSAssumeRole',
    WebIdentityToken: token,
    ...params,
  });
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: form.toString(),
  });
  return { status: response.status, body: await response.text() };
}

/** AWS's exact refusal: status, STS's error XML, code and message, a request id — and no credentials. */
export function assertRefused(answer: WireAnswer, expected: Omit<ForgedAttempt, 'token' | 'params'>): void {
  assert.doesNotMatch(
    answer.body,
    /<Credentials>|SecretAccessKey/,
    'a refused token must not yield credentials',
  );
  assert.equal(answer.status, expected.status, answer.body);
  assert.match(
    answer.body,
    /^<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type>/,
  );
  const wireCode = /<Code>([^<]*)<\/Code>/.exec(answer.body)?.[1];
  const wireMessage = (/<Message>([^<]*)<\/Message>/.exec(answer.body)?.[1] ?? '')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
  assert.equal(wireCode, expected.code);
  if (typeof expected.message === 'string') assert.equal(wireMessage, expected.message);
  else assert.match(wireMessage, expected.message);
  assert.match(answer.body, /<RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>/);
}
