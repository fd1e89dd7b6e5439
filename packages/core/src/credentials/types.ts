import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/** The explicit credential modes. There is no implicit "default chain" mode: the user always names one. */
export const providerNames = [
  'azure-managed-identity',
  'azure-devops',
  'github',
  'gitlab',
  'token-file',
  'ec2-instance-metadata',
  'access-keys',
  'pipeline-variables',
] as const;
export type ProviderName = (typeof providerNames)[number];

/** The decoded, non-secret claims of a JWT; safe to log. */
export interface TokenClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  iat?: number;
  nbf?: number;
  [claim: string]: unknown;
}

export interface OidcToken {
  /** The raw JWT. Secret: registered with the reporter before it is returned. */
  jwt: string;
  claims: TokenClaims;
  /** When the JWT itself stops being valid, if known. */
  expiresAt?: Date;
}

/** One origin of OIDC tokens. Each call fetches (or re-reads) a fresh token. */
export interface TokenSource {
  readonly name: ProviderName;
  /** Human description for logs, e.g. "Azure managed identity (client id …) via http://169.254.169.254". */
  describe(): string;
  getToken(signal?: AbortSignal): Promise<OidcToken>;
}

/** Everything a front end can say about where credentials come from. */
export interface CredentialOptions {
  provider: ProviderName;
  /** Role to assume with the web identity (required for the OIDC providers). */
  roleArn?: string;
  /** Default derived from the CI run (e.g. `keyless-<build id>`), validated 2–64 `[\w+=,.@-]`. */
  sessionName?: string;
  /** 900–43200, default 3600. */
  durationSeconds?: number;
  /** Optional second role assumed with the first role's credentials (role chaining). */
  chainRoleArn?: string;
  externalId?: string;
  /** Optional session policy (JSON text) and managed policy ARNs that further limit the web-identity session. */
  sessionPolicy?: string;
  policyArns?: string[];

  region?: string;

  /** Azure managed identity: the token audience (App ID URI); GitHub: the `audience` parameter. */
  audience?: string;
  /** Azure user-assigned identity selectors (at most one). */
  clientId?: string;
  objectId?: string;
  msiResourceId?: string;
  /** Azure IMDS base URL; default http://169.254.169.254 (or AZURE_POD_IDENTITY_AUTHORITY_HOST). */
  azureImdsEndpoint?: string;

  /** Azure DevOps: the service connection id, System.OidcRequestUri and System.AccessToken. */
  serviceConnectionId?: string;
  oidcRequestUri?: string;
  systemAccessToken?: string;

  /** token-file: path to the JWT. */
  tokenFile?: string;
  /** gitlab: the environment variable holding the id_token (default GITLAB_OIDC_TOKEN). */
  tokenEnvVar?: string;

  /** EC2 instance metadata base URL; default http://169.254.169.254 (or AWS_EC2_METADATA_SERVICE_ENDPOINT). */
  ec2MetadataEndpoint?: string;

  /** access-keys mode. */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;

  /** pipeline-variables mode reads these (Azure Pipelines variable names: AWS.AccessKeyID, …). */
  pipelineVariables?: Record<string, string | undefined>;

  /** Endpoint overrides per service id (`sts`, `s3`, `cloudformation`, `codedeploy`) or `default`. */
  endpoints?: Partial<Record<'default' | 'sts' | 's3' | 'cloudformation' | 'codedeploy' | 'iam', string>>;
}

export interface CallerIdentity {
  account: string;
  arn: string;
  userId: string;
}

/** The result of resolving credentials: a refreshing SDK provider plus what it is, for logs. */
export interface ResolvedCredentials {
  mode: ProviderName;
  region: string;
  /** SDK v3 provider. For web identity it fetches a fresh JWT and re-assumes before expiry. */
  provider: AwsCredentialIdentityProvider;
  /** One line, no secrets: e.g. "web identity from Azure managed identity → arn:aws:iam::…:role/deploy". */
  describe(): string;
  /** The token source behind the provider, when the mode is OIDC (used by `keyless exec` for its token file). */
  tokenSource?: TokenSource;
  /** Endpoint overrides the credentials were resolved with; pass them on to buildClientConfig for other clients. */
  endpoints?: CredentialOptions['endpoints'];
  /** The role the session name and token were used for (web identity), for TokenFileKeeper's child env. */
  roleArn?: string;
  sessionName?: string;
}

export type { AwsCredentialIdentity, AwsCredentialIdentityProvider };
