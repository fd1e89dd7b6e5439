import { resolveEndpoint } from '../aws/endpoints';
import { TokenFileKeeper } from '../credentials/token-file-keeper';
import type { ResolvedCredentials } from '../credentials/types';
import type { Reporter } from '../report/reporter';

/** Variables that could make a child use other credentials than the ones Keyless hands it. */
export const competingCredentialVariables = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_SESSION_NAME',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  // Secrets Keyless itself read must not leak into the child either.
  'SYSTEM_ACCESSTOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
] as const;

/** Per-service endpoint overrides the child's SDK reads as AWS_ENDPOINT_URL_<SERVICE_ID>. */
const serviceEndpointVariables: Record<string, string> = {
  s3: 'AWS_ENDPOINT_URL_S3',
  cloudformation: 'AWS_ENDPOINT_URL_CLOUDFORMATION',
  codedeploy: 'AWS_ENDPOINT_URL_CODEDEPLOY',
  iam: 'AWS_ENDPOINT_URL_IAM',
};

export interface ChildCredentialOptions {
  credentials: ResolvedCredentials;
  /** The environment to start from (never modified). */
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  /**
   * For OIDC credentials, hand the child a refreshing web-identity token file + AWS_ROLE_ARN (default true),
   * so its own SDK re-assumes the role and it can outlive any one session. False, or credentials that are not
   * OIDC, give static keys that expire with the session.
   */
  useTokenFile?: boolean;
  /**
   * The child's AWS_ROLE_SESSION_NAME with a token file (default: the resolved credentials' session name).
   */
  sessionName?: string;
  /** Parent of the token file's private directory (default os.tmpdir()). */
  tokenFileDirectory?: string;
}

export interface ChildCredentials {
  /** A new environment for the child: credentials and region set, competing credential variables removed. */
  env: NodeJS.ProcessEnv;
  source: 'web-identity-token-file' | 'static-keys';
  /** When static keys stop working (they are not refreshed), if known. */
  expiration?: Date;
  /** Stops refreshing the token file and removes it. Call when the child has ended. */
  close(): Promise<void>;
}

/**
 * The environment a child process needs to act with these credentials, and nothing that could compete with
 * them. Our own process.env is never touched: credentials exist only in the child's environment.
 */
export async function prepareChildCredentials(options: ChildCredentialOptions): Promise<ChildCredentials> {
  const { credentials, reporter } = options;
  const env: NodeJS.ProcessEnv = { ...options.env };
  for (const name of competingCredentialVariables) delete env[name];
  env.AWS_REGION = credentials.region;
  env.AWS_DEFAULT_REGION = credentials.region;
  // Azure's IMDS shares EC2's address: never let the child's SDK ask it for EC2 credentials.
  env.AWS_EC2_METADATA_DISABLED = 'true';
  const stsEndpoint = resolveEndpoint('sts', credentials.endpoints, options.env);
  if (stsEndpoint) env.AWS_ENDPOINT_URL_STS = stsEndpoint;
  if (credentials.endpoints?.default) env.AWS_ENDPOINT_URL = credentials.endpoints.default;
  for (const [service, variable] of Object.entries(serviceEndpointVariables)) {
    const endpoint = credentials.endpoints?.[service as keyof typeof credentials.endpoints];
    if (endpoint) env[variable] = endpoint;
  }

  if ((options.useTokenFile ?? true) && credentials.tokenSource && credentials.roleArn) {
    const keeper = await TokenFileKeeper.start(credentials.tokenSource, {
      reporter,
      ...(options.tokenFileDirectory ? { directory: options.tokenFileDirectory } : {}),
    });
    Object.assign(
      env,
      keeper.childEnvironment(credentials.roleArn, options.sessionName ?? credentials.sessionName),
    );
    return { env, source: 'web-identity-token-file', close: () => keeper.stop() };
  }

  const keys = await credentials.provider();
  // The providers register what they fetch; registering again costs nothing and keeps this module safe alone.
  reporter.registerSecret(keys.accessKeyId);
  reporter.registerSecret(keys.secretAccessKey);
  reporter.registerSecret(keys.sessionToken);
  env.AWS_ACCESS_KEY_ID = keys.accessKeyId;
  env.AWS_SECRET_ACCESS_KEY = keys.secretAccessKey;
  if (keys.sessionToken) env.AWS_SESSION_TOKEN = keys.sessionToken;
  if (keys.expiration) env.AWS_CREDENTIAL_EXPIRATION = keys.expiration.toISOString();
  const prepared: ChildCredentials = { env, source: 'static-keys', close: async () => undefined };
  if (keys.expiration) prepared.expiration = keys.expiration;
  return prepared;
}
