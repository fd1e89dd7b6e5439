import { randomBytes } from 'node:crypto';

/** A structurally valid JWT (unsigned signature bytes): enough for decodeJwt and for fakes that don't verify. */
export function makeJwt(claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'RS256', typ: 'JWT', kid: 'test' })}.${encode({ jti: randomBytes(8).toString('hex'), ...claims })}.${randomBytes(32).toString('base64url')}`;
}

export function azureClaims(lifetimeSeconds = 3600, now = Date.now()): Record<string, unknown> {
  const iat = Math.floor(now / 1000);
  return {
    iss: 'https://sts.windows.net/11111111-2222-3333-4444-555555555555/',
    aud: 'api://keyless-aws',
    sub: '99999999-8888-7777-6666-555555555555',
    iat,
    nbf: iat,
    exp: iat + lifetimeSeconds,
  };
}
