import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { buildClientConfig } from '../aws/client-config';
import type { EndpointOverrides } from '../aws/endpoints';
import { resolveEndpoint } from '../aws/endpoints';
import type { Reporter } from '../report/reporter';
import { classifyStsError, explainStsError } from './explain';
import { describeClaims } from './jwt';
import { RefreshingCredentialCache } from './refreshing-cache';
import { fullJitterDelay, realSleep, type Sleep } from './retry';
import { noAmbientCredentials, toCredentialIdentity } from './sts-credentials';
import type { OidcToken, TokenSource } from './types';

export interface WebIdentityOptions {
  tokenSource: TokenSource;
  roleArn: string;
  sessionName: string;
  /** 900–43200; default 3600. */
  durationSeconds?: number;
  /** Inline session policy (JSON text) and managed session policy ARNs, both optional. */
  policy?: string;
  policyArns?: string[];
  region: string;
  endpoints?: EndpointOverrides;
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  sleep?: Sleep;
  now?: () => number;
  random?: () => number;
  /** Attempts per exchange for transient failures (default 6). */
  maxAttempts?: number;
  /** Full-jitter base and cap for those retries (default 500 ms, 20 s). */
  retryBaseMs?: number;
  retryCapMs?: number;
}

/** Stop retrying a transient failure this long before the JWT expires: STS would reject it anyway. */
const jwtSafetyMarginMs = 5_000;

/**
 * A refreshing SDK credential provider backed by AssumeRoleWithWebIdentity. Every exchange fetches a FRESH
 * JWT from the token source (unlike the SDK's fromWebToken, which re-sends the same one), so sessions can
 * be renewed for as long as the source can mint tokens.
 */
export class WebIdentityCredentials {
  readonly provider: AwsCredentialIdentityProvider;
  /** The assumed-role ARN of the latest session (arn:aws:sts::<acct>:assumed-role/<role>/<session>). */
  assumedRoleArn: string | undefined;
  /** Claims of the latest token exchanged, for logs. */
  lastClaims: OidcToken['claims'] | undefined;
  private readonly cache: RefreshingCredentialCache;
  private readonly client: STSClient;
  private readonly now: () => number;

  constructor(private readonly options: WebIdentityOptions) {
    this.now = options.now ?? Date.now;
    // SDK retries are off: we classify and retry ourselves, bounded by the JWT's lifetime.
    this.client = new STSClient(
      buildClientConfig('sts', {
        region: options.region,
        endpoints: options.endpoints,
        env: options.env,
        credentials: noAmbientCredentials,
        maxAttempts: 1,
      }),
    );
    this.cache = new RefreshingCredentialCache(() => this.exchange(), this.now);
    this.provider = (properties) => this.cache.get(properties?.forceRefresh === true);
  }

  /** How many sessions have been obtained so far (first one included). */
  get assumeCount(): number {
    return this.cache.fetchCount;
  }

  describe(): string {
    return `web identity from ${this.options.tokenSource.describe()} → ${this.options.roleArn}`;
  }

  private async exchange(): Promise<AwsCredentialIdentity> {
    const { tokenSource, reporter } = this.options;
    const sleep = this.options.sleep ?? realSleep;
    const maxAttempts = this.options.maxAttempts ?? 6;
    let token = await tokenSource.getToken();
    let fetchedAfterExpiry = false;
    for (let attempt = 0; ; attempt++) {
      try {
        const output = await this.client.send(
          new AssumeRoleWithWebIdentityCommand({
            RoleArn: this.options.roleArn,
            RoleSessionName: this.options.sessionName,
            WebIdentityToken: token.jwt,
            DurationSeconds: this.options.durationSeconds ?? 3600,
            ...(this.options.policy ? { Policy: this.options.policy } : {}),
            ...(this.options.policyArns?.length
              ? { PolicyArns: this.options.policyArns.map((arn) => ({ arn })) }
              : {}),
          }),
        );
        const identity = toCredentialIdentity(output.Credentials, output.AssumedRoleUser?.Arn, reporter);
        const first = this.assumedRoleArn === undefined;
        this.assumedRoleArn = output.AssumedRoleUser?.Arn;
        this.lastClaims = token.claims;
        const summary = `${this.assumedRoleArn ?? this.options.roleArn} until ${identity.expiration?.toISOString()}`;
        if (first) {
          reporter.info(`OIDC token: ${describeClaims(token.claims)}`);
          reporter.info(`Assumed ${summary}`);
        } else {
          reporter.debug(`Refreshed web identity session: ${summary}`);
        }
        return identity;
      } catch (error) {
        const kind = classifyStsError(error, 'AssumeRoleWithWebIdentity');
        if (kind === 'expired-token' && !fetchedAfterExpiry) {
          fetchedAfterExpiry = true;
          reporter.debug('STS says the web identity token expired; fetching a new one and retrying once.');
          token = await tokenSource.getToken();
          continue;
        }
        if (kind === 'transient' && attempt + 1 < maxAttempts) {
          const wait = fullJitterDelay(
            attempt,
            this.options.retryBaseMs ?? 500,
            this.options.retryCapMs ?? 20_000,
            this.options.random,
          );
          const jwtDeadline = token.expiresAt ? token.expiresAt.getTime() - jwtSafetyMarginMs : Infinity;
          if (this.now() + wait < jwtDeadline) {
            reporter.debug(
              `AssumeRoleWithWebIdentity failed transiently; retrying in ${wait} ms (retry ${attempt + 1}).`,
            );
            await sleep(wait);
            continue;
          }
        }
        throw explainStsError(error, {
          operation: 'AssumeRoleWithWebIdentity',
          roleArn: this.options.roleArn,
          claims: token.claims,
          sessionName: this.options.sessionName,
          durationSeconds: this.options.durationSeconds ?? 3600,
          endpoint: resolveEndpoint('sts', this.options.endpoints, this.options.env),
          now: this.now,
        });
      }
    }
  }
}
