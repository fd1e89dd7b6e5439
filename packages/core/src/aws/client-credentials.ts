import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/** How long before its real expiry the SDK treats an identity as expired (its memoizer's constant). */
const sdkExpiryWindowMs = 300_000;
/** Keep the SDK's own cache shorter than that window so it asks us on every request (our cache is cheap). */
const sdkCacheMs = sdkExpiryWindowMs - 60_000;

export interface ClientCredentials {
  /** Give this to SDK clients. */
  readonly provider: AwsCredentialIdentityProvider;
  /**
   * A service answered ExpiredToken: make the next request use fresh credentials. Resolves once they are
   * fetched, so the caller's retry is signed with them.
   */
  forceRefresh(): Promise<void>;
}

/**
 * SDK clients memoize credentials and only ask again within 5 minutes of the expiry they were told, so a
 * session that ends early (clock skew, a revoked or capped session) keeps failing with ExpiredToken. This
 * wrapper tells the SDK an expiry inside its refresh window, so every request asks the underlying provider
 * (which caches and refreshes on its own), and lets a poller force a refresh after ExpiredToken.
 */
export function clientCredentials(
  source: AwsCredentialIdentityProvider,
  now: () => number = Date.now,
): ClientCredentials {
  let forceNext = false;
  const provider: AwsCredentialIdentityProvider = async (properties) => {
    const force = forceNext || properties?.forceRefresh === true;
    forceNext = false;
    const identity: AwsCredentialIdentity = await source(force ? { forceRefresh: true } : properties);
    const soon = new Date(now() + sdkCacheMs);
    const expiration =
      identity.expiration && identity.expiration.getTime() < soon.getTime() ? identity.expiration : soon;
    return { ...identity, expiration };
  };
  return {
    provider,
    async forceRefresh() {
      await source({ forceRefresh: true });
      forceNext = false;
    },
  };
}
