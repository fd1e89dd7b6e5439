import type { KeylessError } from '../errors';
import { StsRejectedError, StsUnavailableError, type StsCheck } from './errors';
import { describeClaims } from './jwt';
import type { TokenClaims } from './types';

/** What we were doing when STS failed; used to phrase the explanation. */
export interface StsCallContext {
  operation: 'AssumeRoleWithWebIdentity' | 'AssumeRole' | 'GetCallerIdentity';
  roleArn?: string;
  claims?: TokenClaims;
  sessionName?: string;
  durationSeconds?: number;
  /** The STS endpoint in use, for "could not reach" messages; undefined = the SDK's regional default. */
  endpoint?: string;
  now?: () => number;
}

/** The SDK names modeled errors after their shapes; the wire (and AWS docs) use the bare codes. */
const sdkNameToWireCode: Record<string, string> = {
  InvalidIdentityTokenException: 'InvalidIdentityToken',
  IDPCommunicationErrorException: 'IDPCommunicationError',
  IDPRejectedClaimException: 'IDPRejectedClaim',
  MalformedPolicyDocumentException: 'MalformedPolicyDocument',
  PackedPolicyTooLargeException: 'PackedPolicyTooLarge',
  ThrottlingException: 'Throttling',
};

const throttlingCodes = new Set([
  'Throttling',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
]);
const networkErrorCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

interface SdkErrorShape {
  name?: string;
  message?: string;
  code?: string;
  Code?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
}

function shape(error: unknown): SdkErrorShape {
  return typeof error === 'object' && error !== null ? (error as SdkErrorShape) : { message: String(error) };
}

/** The STS wire code of an SDK error (`InvalidIdentityTokenException` → `InvalidIdentityToken`), if any. */
export function stsErrorCode(error: unknown): string | undefined {
  const { name, Code } = shape(error);
  const raw = Code ?? name;
  if (!raw || raw === 'Error') return undefined;
  return sdkNameToWireCode[raw] ?? raw;
}

export type StsErrorClass = 'transient' | 'expired-token' | 'fatal';

/** How to react to an STS error: back off and retry, fetch a fresh JWT and retry once, or stop. */
export function classifyStsError(error: unknown, operation: StsCallContext['operation']): StsErrorClass {
  const { name, code, $fault, $metadata } = shape(error);
  const wire = stsErrorCode(error);
  const status = $metadata?.httpStatusCode;
  if (wire && throttlingCodes.has(wire)) return 'transient';
  if (wire === 'IDPCommunicationError') return 'transient';
  if (wire === 'ExpiredTokenException' && operation === 'AssumeRoleWithWebIdentity') return 'expired-token';
  if ((status !== undefined && status >= 500) || $fault === 'server') return 'transient';
  if (
    status === undefined &&
    (name === 'TimeoutError' || (code !== undefined && networkErrorCodes.has(code)))
  ) {
    return 'transient';
  }
  return 'fatal';
}

/** The one-line trust-policy statement that admits a token with these claims into `roleArn`. */
export function trustPolicyStatementFor(
  roleArn: string | undefined,
  claims: TokenClaims | undefined,
): string | undefined {
  const match = roleArn ? /^arn:(aws[-a-z]*):iam::(\d{12}):role\//.exec(roleArn) : null;
  if (!match || !claims?.iss) return undefined;
  const [, partition, account] = match;
  const providerPath = claims.iss.replace(/^https:\/\//, '');
  const aud = Array.isArray(claims.aud) ? claims.aud[0] : claims.aud;
  const conditions: Record<string, string> = {};
  if (aud) conditions[`${providerPath}:aud`] = aud;
  if (claims.sub) conditions[`${providerPath}:sub`] = claims.sub;
  return JSON.stringify({
    Effect: 'Allow',
    Principal: { Federated: `arn:${partition}:iam::${account}:oidc-provider/${providerPath}` },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: { StringEquals: conditions },
  });
}

/**
 * Turns an STS failure into an error a person can act on: which check failed, on which role and token,
 * and what to change. Never returns the SDK's bare error name or a stack.
 */
export function explainStsError(error: unknown, context: StsCallContext): KeylessError {
  const { message: rawMessage = '', code: systemCode } = shape(error);
  const wire = stsErrorCode(error);
  const stsMessage = rawMessage.trim();
  const role = context.roleArn ?? 'the role';
  const tokenText = context.claims ? ` Token: ${describeClaims(context.claims)}.` : '';
  const account = context.roleArn ? /:iam::(\d{12}):/.exec(context.roleArn)?.[1] : undefined;
  const aud = Array.isArray(context.claims?.aud) ? context.claims?.aud[0] : context.claims?.aud;
  const iss = context.claims?.iss ?? '(unknown issuer)';
  const where = context.endpoint ?? 'the regional STS endpoint';

  const classification = classifyStsError(error, context.operation);
  if (classification === 'transient' || (!wire && systemCode)) {
    if (wire === 'IDPCommunicationError') {
      return new StsUnavailableError(
        `STS could not reach the identity provider ${iss} to verify the token (IDPCommunicationError: ${stsMessage}).`,
        `STS fetches ${iss.replace(/\/$/, '')}/.well-known/openid-configuration and its JWKS over public HTTPS; make sure they are reachable, then re-run.`,
        { cause: error },
      );
    }
    return new StsUnavailableError(
      `${context.operation} failed at ${where} after retrying: ${wire ?? systemCode ?? 'network error'}${stsMessage ? ` — ${stsMessage}` : ''}.`,
      'Check network access to STS (proxy, firewall, endpoint setting) and re-run.',
      { cause: error },
    );
  }

  const reject = (check: StsCheck, message: string, fix: string, trustPolicyStatement?: string) =>
    new StsRejectedError(
      check,
      wire ?? 'Unknown',
      stsMessage,
      `${message}${stsMessage ? ` (STS ${wire}: "${stsMessage}")` : ''}.${tokenText}`,
      fix,
      context.claims,
      trustPolicyStatement,
      { cause: error },
    );

  const webIdentity = context.operation === 'AssumeRoleWithWebIdentity';
  switch (wire) {
    case 'InvalidIdentityToken':
      if (/no openidconnect provider/i.test(stsMessage)) {
        return reject(
          'issuer',
          `STS rejected the token for ${role}: its issuer ${iss} is not registered as an IAM OIDC provider in account ${account ?? 'of the role'}`,
          `Create an IAM OIDC identity provider with URL ${iss} and audience ${aud ?? '<aud>'} in that account (the URL must match iss exactly, trailing slash included).`,
        );
      }
      if (/audience/i.test(stsMessage)) {
        return reject(
          'audience',
          `STS rejected the token for ${role}: its audience ${aud ?? '(none)'} is not in the client ID list of the IAM OIDC provider for ${iss}`,
          `Add "${aud ?? '<aud>'}" to that provider's audiences (aws iam add-client-id-to-open-id-connect-provider), or request the token for an audience it lists (--audience).`,
        );
      }
      if (/verification key|signature|jwks|\bkid\b|thumbprint|keys?\b/i.test(stsMessage)) {
        return reject(
          'signature',
          `STS could not verify the token's signature for ${role} (issuer ${iss})`,
          `The token must be signed by a key published in the JWKS of ${iss}; check the issuer's discovery document and keys are served over public HTTPS and current.`,
        );
      }
      return reject(
        'token',
        `STS refused the token for ${role} as malformed or unusable`,
        'Use an OIDC ID token (RS256-signed JWT with https iss, aud, sub, exp) from the configured source.',
      );
    case 'ExpiredTokenException':
      if (!webIdentity) {
        return reject(
          'source-credentials',
          `The credentials used to assume ${role} have expired`,
          'Provide current credentials (refresh the session token or re-run the step that produced them).',
        );
      }
      return reject(
        'expiry',
        `STS says the token for ${role} has expired or is too old (now ${new Date((context.now ?? Date.now)()).toISOString()})`,
        'Tokens from Azure, Azure DevOps and GitHub are fetched fresh for each exchange, so check the agent clock; a --token-file or GitLab token is used as given: refresh it.',
      );
    case 'AccessDenied': {
      if (!webIdentity) {
        return reject(
          'trust-policy',
          `Not authorized to assume ${role} with the current credentials`,
          `Allow the source principal in ${role}'s trust policy (sts:AssumeRole${context.operation === 'AssumeRole' ? ', and the external id if one is required' : ''}) and sts:AssumeRole on it in the source's permissions.`,
        );
      }
      const statement = trustPolicyStatementFor(context.roleArn, context.claims);
      return reject(
        'trust-policy',
        `${role} does not trust this token: its trust policy does not allow sts:AssumeRoleWithWebIdentity for this issuer, audience and subject (or the role does not exist)`,
        statement
          ? `Check the role ARN (STS answers the same for a missing role), or add this statement to the role's trust policy (pin both aud and sub): ${statement}`
          : "Allow the token's issuer as Federated principal and pin its aud and sub in the role's trust policy.",
        statement,
      );
    }
    case 'ValidationError':
      if (/durationseconds|maxsessionduration/i.test(stsMessage)) {
        return reject(
          'duration',
          `The requested session duration${context.durationSeconds ? ` of ${context.durationSeconds} s` : ''} is not allowed for ${role}`,
          "Lower the session duration (--duration) to at most the role's MaxSessionDuration, or raise it (aws iam update-role --max-session-duration).",
        );
      }
      if (/rolesessionname/i.test(stsMessage)) {
        return reject(
          'session-name',
          `The session name "${context.sessionName ?? ''}" is not valid for STS`,
          'Use 2–64 characters from letters, digits and +=,.@_-.',
        );
      }
      return reject(
        'input',
        `STS refused the request parameters for ${role}`,
        'Check the role ARN, session name, duration and policy inputs.',
      );
    case 'IDPRejectedClaim':
      return reject(
        'claims',
        `The identity provider rejected the token's claims for ${role} (invalid, expired or revoked)`,
        'Fetch a new token from the source; check the identity is still valid.',
      );
    case 'MalformedPolicyDocument':
    case 'PackedPolicyTooLarge':
      return reject(
        'session-policy',
        `The session policy or token tags sent with ${role} were refused`,
        'Fix the session policy JSON, or shorten policies and token tags.',
      );
    case 'RegionDisabledException':
      return reject(
        'region',
        `STS is not activated in this region for the account of ${role}`,
        'Activate the region in IAM → Account settings → STS endpoints, or use another region.',
      );
    case 'InvalidClientTokenId':
    case 'SignatureDoesNotMatch':
    case 'UnrecognizedClientException':
    case 'IncompleteSignature':
    case 'MissingAuthenticationToken':
      return reject(
        'source-credentials',
        `The AWS credentials used for ${context.operation} were not accepted`,
        'Check the access key id, secret key and session token belong together and are current.',
      );
    default:
      return reject(
        'input',
        `STS refused ${context.operation} for ${role}${wire ? ` with ${wire}` : ''}`,
        'Check the role ARN and its trust policy; re-run with --verbose for details.',
      );
  }
}
