import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { Reporter } from '../report/reporter';
import { InstanceMetadataError } from './errors';
import { HttpFailure, isRecord, parseBody, sendHttpRequest, stringField, type HttpResponse } from './http';
import { RefreshingCredentialCache } from './refreshing-cache';

/*
 * EC2 instance-profile credentials, only when the user names this mode explicitly. Never tried implicitly:
 * Azure IMDS listens on the same 169.254.169.254, so on an Azure agent a "try EC2 metadata" fallback would
 * talk to the wrong service (and the SDK default chain does exactly that, which is why we never use it).
 */

export interface Ec2MetadataOptions {
  /** Base URL; default AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://169.254.169.254. */
  endpoint?: string;
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  timeoutMs?: number;
  now?: () => number;
}

/** IMDSv2 session tokens may last up to 6 h; we ask for that and fetch a new one per refresh anyway. */
const sessionTokenTtlSeconds = 21_600;

export class Ec2InstanceMetadataCredentials {
  readonly provider: AwsCredentialIdentityProvider;
  readonly baseUrl: string;
  roleName: string | undefined;
  private readonly cache: RefreshingCredentialCache;

  constructor(private readonly options: Ec2MetadataOptions) {
    const base =
      options.endpoint ?? options.env.AWS_EC2_METADATA_SERVICE_ENDPOINT ?? 'http://169.254.169.254';
    this.baseUrl = base.replace(/\/+$/, '');
    this.cache = new RefreshingCredentialCache(() => this.fetchCredentials(), options.now);
    this.provider = (properties) => this.cache.get(properties?.forceRefresh === true);
  }

  describe(): string {
    return `EC2 instance profile${this.roleName ? ` role ${this.roleName}` : ''} via ${this.baseUrl}`;
  }

  /** The instance's region, from its identity document. */
  async region(): Promise<string> {
    const token = await this.sessionToken();
    const document = await this.getJson('/latest/dynamic/instance-identity/document', token);
    const region = stringField(document, 'region');
    if (!region) throw this.error('the instance identity document has no region');
    return region;
  }

  private async fetchCredentials(): Promise<AwsCredentialIdentity> {
    const token = await this.sessionToken();
    const roles = (await this.getText('/latest/meta-data/iam/security-credentials/', token)).trim();
    const roleName = roles.split('\n')[0]?.trim();
    if (!roleName) {
      throw new InstanceMetadataError(
        `No IAM role is attached to this EC2 instance (${this.baseUrl}).`,
        'Attach an instance profile with a role to the instance.',
      );
    }
    this.roleName = roleName;
    const body = await this.getJson(
      `/latest/meta-data/iam/security-credentials/${encodeURIComponent(roleName)}`,
      token,
    );
    const accessKeyId = stringField(body, 'AccessKeyId');
    const secretAccessKey = stringField(body, 'SecretAccessKey');
    const sessionToken = stringField(body, 'Token');
    const reporter = this.options.reporter;
    reporter.registerSecret(accessKeyId);
    reporter.registerSecret(secretAccessKey);
    reporter.registerSecret(sessionToken);
    const code = stringField(body, 'Code');
    const expiration = stringField(body, 'Expiration');
    if ((code && code !== 'Success') || !accessKeyId || !secretAccessKey || !sessionToken || !expiration) {
      throw this.error(`the credentials for role ${roleName} are not available (Code ${code ?? 'missing'})`);
    }
    reporter.debug(`EC2 instance metadata: credentials for role ${roleName} until ${expiration}`);
    return { accessKeyId, secretAccessKey, sessionToken, expiration: new Date(expiration) };
  }

  private async sessionToken(): Promise<string> {
    const response = await this.send('PUT', '/latest/api/token', {
      'X-aws-ec2-metadata-token-ttl-seconds': String(sessionTokenTtlSeconds),
    });
    const token = response.body.trim();
    this.options.reporter.registerSecret(token);
    if (response.status !== 200 || !token)
      throw this.error(`the IMDSv2 token request answered HTTP ${response.status}`);
    return token;
  }

  private async getText(path: string, token: string): Promise<string> {
    const response = await this.send('GET', path, { 'X-aws-ec2-metadata-token': token });
    if (response.status !== 200) throw this.error(`${path} answered HTTP ${response.status}`);
    return response.body;
  }

  private async getJson(path: string, token: string): Promise<Record<string, unknown>> {
    const parsed = parseBody(await this.getText(path, token));
    if (parsed.kind !== 'json' || !isRecord(parsed.value)) throw this.error(`${path} did not return JSON`);
    return parsed.value;
  }

  private async send(
    method: 'GET' | 'PUT',
    path: string,
    headers: Record<string, string>,
  ): Promise<HttpResponse> {
    try {
      // No agent: link-local metadata must never go through a proxy.
      return await sendHttpRequest(`${this.baseUrl}${path}`, {
        method,
        headers,
        timeoutMs: this.options.timeoutMs ?? 5_000,
      });
    } catch (error) {
      if (!(error instanceof HttpFailure)) throw error;
      throw new InstanceMetadataError(
        `EC2 instance metadata is not reachable at ${this.baseUrl} (${error.errorCode ?? error.kind}): this is not an EC2 instance, or metadata access is disabled.`,
        'Use ec2-instance-metadata only on EC2 (with IMDS enabled and hop limit ≥ 2 in containers), or set the metadata endpoint.',
        { cause: error },
      );
    }
  }

  private error(detail: string): InstanceMetadataError {
    return new InstanceMetadataError(
      `EC2 instance metadata at ${this.baseUrl}: ${detail}.`,
      'Check the instance has an instance profile attached and IMDSv2 enabled.',
    );
  }
}
