import type { FaultRule } from './aws/fault-rules';

/**
 * The sandbox's seed state, loaded from a YAML or JSON file (`keyless sandbox --config`). Everything here can
 * also be changed at run time through the sandbox's IAM API and its `/_sandbox` control API.
 */
export interface SandboxConfig {
  account?: { id?: string; region?: string };
  /** Long-term keys the sandbox accepts as the account's root/admin identity (SigV4-verified). */
  rootCredentials?: Array<{ accessKeyId: string; secretAccessKey: string }>;
  /** OIDC issuers the sandbox hosts (discovery + JWKS + signing keys). */
  issuers?: IssuerConfig[];
  azure?: AzureConfig;
  azureDevOps?: AzureDevOpsConfig;
  github?: GitHubConfig;
  gitlab?: GitLabConfig;
  ec2?: Ec2MetadataConfig;
  iam?: IamSeed;
  cloudformation?: CloudFormationConfig;
  s3?: S3Seed;
  /** Rate-based faults on the AWS APIs (same shape as startSandbox's `faults`; see docs/sandbox.md). */
  faults?: FaultRule[];
  /** Seed for the faults' PRNG, to replay a run. */
  faultSeed?: number;
}

/** Buckets that exist when the sandbox starts (an artifact bucket, say). Kept if the data dir already has them. */
export interface S3Seed {
  buckets?: Array<{ name: string; region?: string }>;
}

export interface CloudFormationConfig {
  /**
   * Simulated seconds every resource provider takes to stabilize (default: each provider's own 1–2 s, so
   * in-progress states are observable; timeScale shortens them). 0 completes stacks as fast as possible.
   */
  providerDelaySeconds?: number;
}

export type IssuerKind = 'azure-ad' | 'azure-devops' | 'github' | 'gitlab' | 'generic';

export interface IssuerConfig {
  /** Local name, used in `/oidc/<id>/…` routes and by the other sections to refer to it. */
  id: string;
  kind?: IssuerKind;
  /** The exact `iss` string tokens carry, e.g. `https://sts.windows.net/<tenant>/` (real issuers work verbatim). */
  issuer: string;
  /** Default token lifetime in simulated seconds. */
  tokenLifetimeSeconds?: number;
}

export interface AzureConfig {
  tenantId: string;
  /** Issuer id (from `issuers`) whose keys sign managed-identity tokens. */
  issuer: string;
  /** Resources (App ID URIs or app GUIDs) IMDS will issue tokens for; others get `invalid_resource`. */
  resources: string[];
  managedIdentities: Array<{ name: string; clientId: string; objectId: string; resourceId: string }>;
}

export interface AzureDevOpsConfig {
  issuer: string;
  organization: string;
  organizationId: string;
  project: string;
  projectId: string;
  /** The System.AccessToken value the OIDC endpoint accepts as bearer. */
  accessToken: string;
  serviceConnections: Array<{ id: string; name: string }>;
}

export interface GitHubConfig {
  issuer: string;
  /** The ACTIONS_ID_TOKEN_REQUEST_TOKEN value the endpoint accepts as bearer. */
  requestToken: string;
  repository: string;
  ref: string;
  /** Extra/overriding claims (e.g. `sub`, `environment`). */
  claims?: Record<string, unknown>;
}

export interface GitLabConfig {
  issuer: string;
  projectPath: string;
  ref: string;
  refType?: 'branch' | 'tag';
}

export interface Ec2MetadataConfig {
  instanceId: string;
  region: string;
  availabilityZone?: string;
  /** Role (from `iam.roles`) attached through the instance profile. */
  roleName: string;
}

export interface IamSeed {
  oidcProviders?: Array<{ url: string; clientIds: string[]; thumbprints?: string[] }>;
  roles?: Array<{
    name: string;
    path?: string;
    description?: string;
    /** A JSON policy object or its JSON text. */
    assumeRolePolicyDocument: unknown;
    /** Seconds, 3600–43200; default 3600. */
    maxSessionDuration?: number;
    /** Inline permission policies: recorded and syntax-checked, not enforced (see docs/sandbox.md). */
    policies?: Array<{ name: string; document: unknown }>;
  }>;
}
