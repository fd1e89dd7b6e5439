import { decodeJwt } from 'jose';
import type { Reporter } from '../report/reporter';
import { TokenSourceError } from './errors';
import type { OidcToken, ProviderName, TokenClaims } from './types';

/**
 * Below this length a value is no token (a real JWT has hundreds of characters): registering it as a secret
 * would only mask ordinary words — "deploy" in a path — in every later line.
 */
const shortestMaskedToken = 16;

/**
 * Turns a raw JWT from `source` into an OidcToken. The JWT is registered as a secret first, before anything
 * (including a decode error) can print it.
 */
export function toOidcToken(
  jwt: string,
  source: ProviderName,
  reporter: Reporter,
  origin: string,
): OidcToken {
  const raw = jwt.trim();
  if (raw.length >= shortestMaskedToken) reporter.registerSecret(raw);
  let claims: TokenClaims;
  try {
    claims = decodeJwt(raw) as TokenClaims;
  } catch {
    throw new TokenSourceError(
      source,
      `${origin} returned something that is not a JWT (${raw.length} characters).`,
      'Check the token source is configured to issue an OIDC ID token (three base64url parts separated by dots).',
    );
  }
  const token: OidcToken = { jwt: raw, claims };
  if (typeof claims.exp === 'number') token.expiresAt = new Date(claims.exp * 1000);
  reporter.debug(`Got an OIDC token from ${origin}: ${describeClaims(claims)}`);
  return token;
}

/** The claims people need to write a trust policy, on one line. Never includes the token itself. */
export function describeClaims(claims: TokenClaims | undefined): string {
  if (!claims) return 'no token claims available';
  const aud = Array.isArray(claims.aud) ? claims.aud.join(',') : claims.aud;
  const exp = typeof claims.exp === 'number' ? new Date(claims.exp * 1000).toISOString() : undefined;
  return `iss=${claims.iss ?? '(none)'} aud=${aud ?? '(none)'} sub=${claims.sub ?? '(none)'} exp=${exp ?? '(none)'}`;
}
