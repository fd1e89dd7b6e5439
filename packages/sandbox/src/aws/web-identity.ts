import { verify as verifySignature, type KeyObject } from 'node:crypto';
import type { IssuerRegistry } from '../context';
import { AwsError } from './errors';
import type { IamState, OidcProvider } from './iam-state';

/**
 * STS's validation of an OIDC token in AssumeRoleWithWebIdentity, in AWS's order: shape, issuer → IAM provider,
 * audience, signature (RS256 only, key by `kid` from the issuer's JWKS), exp (5 min skew), nbf, age, sub.
 *
 * Messages on the wire are AWS's; where found, the source is noted:
 * - "No OpenIDConnect provider found in your account for <iss>" and "Incorrect token audience": configure-aws-
 *   credentials issue threads (#721, #280, #775, #1309), reference/oidc-and-sts.md §2.
 * - "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity
 *   documentation for requirements" (two spaces, verbatim): aws/aws-sdk-php#1725, awslabs/aws-sdk-rust#827.
 * - "Token expired: current date/time <now> must be before the expiration date/time <exp>" (epoch seconds):
 *   aws/aws-sdk-java-v2#5709, awslabs/aws-orbit-workbench#771.
 * - "Token too old: <n>": mozilla-iam/mozilla-aws-cli#146 (the age limit itself is not published; see MAX_TOKEN_AGE).
 * - Failures AWS answers without a specific public wording (malformed, bad signature, alg, nbf, missing sub) use the
 *   InvalidIdentityToken description from the STS API reference.
 */
export const GENERIC_INVALID_TOKEN =
  'The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.';
export const NO_VERIFICATION_KEY =
  "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements";

/** IAM user guide: STS allows up to five minutes of clock skew on `exp`. */
const SKEW_SECONDS = 300;
/** AWS does not publish the limit behind "Token too old"; one day covers Azure managed-identity tokens (~24 h). */
export const MAX_TOKEN_AGE_SECONDS = 86400 + SKEW_SECONDS;

export interface ValidatedWebIdentity {
  provider: OidcProvider;
  issuer: string;
  subject: string;
  /** The token audience that matched the provider's client id list. */
  audience: string;
  claims: Record<string, unknown>;
}

function invalid(detail: string, message = GENERIC_INVALID_TOKEN): AwsError {
  return new AwsError('InvalidIdentityToken', message).withDetail(detail);
}

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(segment)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function stringClaims(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

export function validateWebIdentityToken(
  token: string,
  roleAccountId: string | undefined,
  deps: { iam: IamState; issuers: IssuerRegistry; nowSeconds: number },
): ValidatedWebIdentity {
  const parts = token.split('.');
  if (parts.length !== 3)
    throw invalid('token is not a JWS compact serialization (expected three dot-separated parts)');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeSegment(headerPart);
  const claims = decodeSegment(payloadPart);
  if (!header || !claims) throw invalid('token header or payload is not base64url-encoded JSON');

  const iss = claims['iss'];
  if (typeof iss !== 'string' || iss === '') throw invalid('token has no iss claim');
  const provider = roleAccountId === deps.iam.accountId ? deps.iam.providerForIssuer(iss) : undefined;
  if (!provider) {
    throw invalid(
      iss.startsWith('https://') ? `no IAM OIDC provider with URL ${iss}` : `iss ${iss} is not an https URL`,
      `No OpenIDConnect provider found in your account for ${iss}`,
    );
  }

  const audiences = stringClaims(claims['aud']);
  const audience = audiences.find((a) => provider.clientIds.includes(a));
  if (audience === undefined) {
    throw invalid(
      `aud ${JSON.stringify(audiences)} not in the provider's client ids ${JSON.stringify(provider.clientIds)}`,
      'Incorrect token audience',
    );
  }

  verifyTokenSignature(header, `${headerPart}.${payloadPart}`, signaturePart, iss, deps.issuers);

  const now = deps.nowSeconds;
  const exp = claims['exp'];
  if (typeof exp !== 'number') throw invalid('token has no numeric exp claim');
  if (now > exp + SKEW_SECONDS) {
    throw new AwsError(
      'ExpiredTokenException',
      `Token expired: current date/time ${now} must be before the expiration date/time ${exp}`,
    ).withDetail(`exp ${exp} is more than ${SKEW_SECONDS}s in the past`);
  }
  const nbf = claims['nbf'];
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + SKEW_SECONDS)) {
    throw invalid(`nbf ${String(nbf)} is in the future (now ${now}, skew ${SKEW_SECONDS}s)`);
  }
  const iat = claims['iat'];
  if (iat !== undefined && typeof iat !== 'number') throw invalid('iat is not numeric');
  if (typeof iat === 'number') {
    if (iat > now + SKEW_SECONDS) throw invalid(`iat ${iat} is in the future`);
    if (now - iat > MAX_TOKEN_AGE_SECONDS) {
      throw new AwsError('ExpiredTokenException', `Token too old: ${now - iat}`).withDetail(
        `issued ${now - iat}s ago`,
      );
    }
  }
  const sub = claims['sub'];
  if (typeof sub !== 'string' || sub === '') throw invalid('token has no sub claim');
  return { provider, issuer: iss, subject: sub, audience, claims };
}

function verifyTokenSignature(
  header: Record<string, unknown>,
  signingInput: string,
  signaturePart: string,
  iss: string,
  issuers: IssuerRegistry,
): void {
  const hosted = issuers.byIssuer(iss);
  if (!hosted) throw invalid(`no hosted issuer serves keys for ${iss}`, NO_VERIFICATION_KEY);
  // Only RS256: refuses alg "none", HS256 (including HMAC keyed with the RSA public key) and everything else.
  if (header['alg'] !== 'RS256') throw invalid(`alg ${JSON.stringify(header['alg'])} is not RS256`);
  const keys = hosted.keys();
  const kid = header['kid'];
  let publicKey: KeyObject | undefined;
  if (typeof kid === 'string') publicKey = keys.find((k) => k.kid === kid)?.publicKey;
  else if (kid === undefined && keys.length === 1) publicKey = keys[0]?.publicKey;
  if (!publicKey)
    throw invalid(`kid ${JSON.stringify(kid)} is not in the issuer's JWKS`, NO_VERIFICATION_KEY);
  if (publicKey.asymmetricKeyType !== 'rsa') throw invalid(`key ${String(kid)} is not an RSA key`);
  if (!/^[A-Za-z0-9_-]*$/.test(signaturePart)) throw invalid('signature is not base64url');
  const signature = Buffer.from(signaturePart, 'base64url');
  if (!verifySignature('RSA-SHA256', Buffer.from(signingInput, 'ascii'), publicKey, signature)) {
    throw invalid(`signature does not verify with key ${String(kid)}`);
  }
}

/** Condition keys a web-identity token contributes: `<provider host/path>:<claim>` for the claims STS exposes. */
const PASS_THROUGH_CLAIMS = [
  'amr',
  'oid',
  'azp',
  'oaud',
  'actor',
  'actor_id',
  'job_workflow_ref',
  'repository',
  'repository_id',
  'repository_owner',
  'workflow',
  'ref',
  'environment',
  'enterprise_id',
];

export function webIdentityContext(
  identity: ValidatedWebIdentity,
  sessionName: string,
): Map<string, string[]> {
  const prefix = identity.provider.url.replace(/^https:\/\//, '').toLowerCase();
  const context = new Map<string, string[]>([
    [`${prefix}:aud`, [identity.audience]],
    [`${prefix}:sub`, [identity.subject]],
    ['sts:rolesessionname', [sessionName]],
    ['aws:federatedprovider', [identity.provider.arn]],
  ]);
  for (const claim of PASS_THROUGH_CLAIMS) {
    const value = identity.claims[claim];
    const values = typeof value === 'number' ? [String(value)] : stringClaims(value);
    if (values.length > 0) context.set(`${prefix}:${claim}`, values);
  }
  return context;
}
