import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { buildClientConfig } from '../aws/client-config';
import { resolveEndpoint, type EndpointOverrides } from '../aws/endpoints';
import type { Reporter } from '../report/reporter';
import { explainStsError } from './explain';
import { RefreshingCredentialCache } from './refreshing-cache';
import { toCredentialIdentity } from './sts-credentials';

export interface AssumeRoleOptions {
  /** The credentials doing the assuming (static keys, or another role's refreshing provider). */
  sourceCredentials: AwsCredentialIdentityProvider;
  roleArn: string;
  sessionName: string;
  durationSeconds?: number;
  externalId?: string;
  /** True when the source is itself an assumed role: AWS caps chained sessions at one hour. */
  chained?: boolean;
  region: string;
  endpoints?: EndpointOverrides;
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  now?: () => number;
}

/** Chained role sessions cannot last longer than this (IAM: "role chaining limits … to one hour"). */
const chainedSessionLimitSeconds = 3600;

/** A refreshing provider that calls sts:AssumeRole with other credentials (access keys, or role chaining). */
export class AssumeRoleCredentials {
  readonly provider: AwsCredentialIdentityProvider;
  assumedRoleArn: string | undefined;
  private readonly cache: RefreshingCredentialCache;
  private readonly client: STSClient;
  private readonly durationSeconds: number;

  constructor(private readonly options: AssumeRoleOptions) {
    const requested = options.durationSeconds ?? 3600;
    this.durationSeconds = options.chained ? Math.min(requested, chainedSessionLimitSeconds) : requested;
    if (this.durationSeconds < requested) {
      options.reporter.debug(
        `Role chaining: session for ${options.roleArn} limited to ${this.durationSeconds} s.`,
      );
    }
    this.client = new STSClient(
      buildClientConfig('sts', {
        region: options.region,
        endpoints: options.endpoints,
        env: options.env,
        credentials: options.sourceCredentials,
      }),
    );
    this.cache = new RefreshingCredentialCache(() => this.assume(), options.now);
    this.provider = (properties) => this.cache.get(properties?.forceRefresh === true);
  }

  get assumeCount(): number {
    return this.cache.fetchCount;
  }

  private async assume(): Promise<AwsCredentialIdentity> {
    const { reporter } = this.options;
    if (this.options.externalId) reporter.registerSecret(this.options.externalId);
    try {
      const output = await this.client.send(
        new AssumeRoleCommand({
          RoleArn: this.options.roleArn,
          RoleSessionName: this.options.sessionName,
          DurationSeconds: this.durationSeconds,
          ...(this.options.externalId ? { ExternalId: this.options.externalId } : {}),
        }),
      );
      const identity = toCredentialIdentity(output.Credentials, output.AssumedRoleUser?.Arn, reporter);
      const first = this.assumedRoleArn === undefined;
      this.assumedRoleArn = output.AssumedRoleUser?.Arn;
      const summary = `${this.assumedRoleArn ?? this.options.roleArn} until ${identity.expiration?.toISOString()}`;
      if (first) reporter.info(`Assumed ${summary}`);
      else reporter.debug(`Refreshed role session: ${summary}`);
      return identity;
    } catch (error) {
      throw explainStsError(error, {
        operation: 'AssumeRole',
        roleArn: this.options.roleArn,
        sessionName: this.options.sessionName,
        durationSeconds: this.durationSeconds,
        endpoint: resolveEndpoint('sts', this.options.endpoints, this.options.env),
      });
    }
  }
}
