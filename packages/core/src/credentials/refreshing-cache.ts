import type { AwsCredentialIdentity } from '@smithy/types';

/** Never refresh earlier than this before expiry (the SDK's own rule). */
const maxRefreshMarginMs = 5 * 60_000;

/**
 * How long before expiry to refresh: min(5 min, 25% of the session's lifetime). The SDK's memoizer calls the
 * provider on every request once fewer than 5 minutes remain, so with a flat 5-minute margin a short session
 * (e.g. 20 s in the sandbox, or a chained 15-minute one near its end) would be re-assumed on every call.
 */
export function refreshMarginMs(lifetimeMs: number): number {
  return Math.max(0, Math.min(maxRefreshMarginMs, lifetimeMs * 0.25));
}

/**
 * Caches one credential set and refreshes it before it expires. Concurrent callers share one pending
 * refresh; a failed refresh is not cached, so the next call tries again.
 */
export class RefreshingCredentialCache {
  private current: { identity: AwsCredentialIdentity; refreshAt: number } | undefined;
  private pending: Promise<AwsCredentialIdentity> | undefined;
  /** How many times fetch() has completed successfully (first fetch included). */
  fetchCount = 0;

  constructor(
    private readonly fetch: () => Promise<AwsCredentialIdentity>,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The cached credentials, refreshed when due. `forceRefresh` (the SDK identity-provider convention) discards
   * them first: a service said they expired although our clock disagreed (skew, or a session cut short).
   */
  get(forceRefresh = false): Promise<AwsCredentialIdentity> {
    if (forceRefresh && !this.pending) this.current = undefined;
    if (this.current && this.now() < this.current.refreshAt) return Promise.resolve(this.current.identity);
    this.pending ??= this.refresh().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async refresh(): Promise<AwsCredentialIdentity> {
    const obtainedAt = this.now();
    const identity = await this.fetch();
    this.fetchCount++;
    const expiresAt = identity.expiration?.getTime();
    const refreshAt =
      expiresAt === undefined ? Infinity : expiresAt - refreshMarginMs(expiresAt - obtainedAt);
    this.current = { identity, refreshAt };
    return identity;
  }
}
