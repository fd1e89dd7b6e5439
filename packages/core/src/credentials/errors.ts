import { KeylessError } from '../errors';
import type { ProviderName, TokenClaims } from './types';

/** A token source could not produce a JWT (endpoint unreachable, refused, misconfigured pipeline). */
export class TokenSourceError extends KeylessError {
  readonly code = 'TokenSource';

  constructor(
    /** Which origin failed, e.g. `azure-managed-identity`. */
    readonly source: ProviderName,
    message: string,
    fix?: string,
    options?: { cause?: unknown },
  ) {
    super(message, fix, options);
  }
}

/** Which of STS's checks rejected the request; lets front ends and tests branch without parsing text. */
export type StsCheck =
  | 'issuer'
  | 'audience'
  | 'signature'
  | 'token'
  | 'expiry'
  | 'trust-policy'
  | 'duration'
  | 'session-name'
  | 'claims'
  | 'session-policy'
  | 'region'
  | 'source-credentials'
  | 'input';

/** STS answered and said no. Carries the failed check next to the token's claims. */
export class StsRejectedError extends KeylessError {
  readonly code = 'StsRejected';

  constructor(
    readonly check: StsCheck,
    /** The wire error code, normalised (e.g. `InvalidIdentityToken` for `InvalidIdentityTokenException`). */
    readonly stsCode: string,
    readonly stsMessage: string,
    message: string,
    fix?: string,
    readonly claims?: TokenClaims,
    /** For AccessDenied on a web identity: one-line trust-policy statement that would admit this token. */
    readonly trustPolicyStatement?: string,
    options?: { cause?: unknown },
  ) {
    super(message, fix, options);
  }
}

/** STS (or EC2 metadata) could not be reached or kept failing transiently until retries ran out. */
export class StsUnavailableError extends KeylessError {
  readonly code = 'StsUnavailable';
}

/** No region anywhere we look. A usage error: exit 2. */
export class RegionMissingError extends KeylessError {
  readonly code = 'RegionMissing';
  override readonly exitCode = 2;
}

/** The EC2 instance metadata service refused or is unreachable. */
export class InstanceMetadataError extends KeylessError {
  readonly code = 'InstanceMetadata';
}

/** The credentials work but belong to an account the user did not allow. */
export class AccountNotAllowedError extends KeylessError {
  readonly code = 'AccountNotAllowed';
}
