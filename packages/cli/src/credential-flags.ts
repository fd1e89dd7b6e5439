import { InvalidInputError } from '@keyless/core/errors';
import { providerNames, type CredentialOptions, type ProviderName } from '@keyless/core/credential-types';
import { integerOption, UsageError } from './usage';

/** The credential options every AWS-touching command takes (`keyless credentials --help` documents them). */
export const credentialFlags = {
  provider: { type: 'string' },
  'role-arn': { type: 'string' },
  'session-name': { type: 'string' },
  duration: { type: 'string' },
  region: { type: 'string' },
  audience: { type: 'string' },
  'client-id': { type: 'string' },
  'object-id': { type: 'string' },
  'msi-res-id': { type: 'string' },
  'azure-imds-endpoint': { type: 'string' },
  'service-connection-id': { type: 'string' },
  'token-file': { type: 'string' },
  'token-env-var': { type: 'string' },
  'ec2-metadata-endpoint': { type: 'string' },
  'chain-role-arn': { type: 'string' },
  'external-id': { type: 'string' },
  'endpoint-url': { type: 'string' },
  'sts-endpoint-url': { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const credentialFlagsHelp = `Credential options (the mode is always explicit; a failure never falls back to other credentials):
  --provider NAME            azure-managed-identity | azure-devops | github | gitlab | token-file |
                             ec2-instance-metadata | access-keys | pipeline-variables   (env KEYLESS_PROVIDER)
  --role-arn ARN             role to assume with the OIDC token                          (env KEYLESS_ROLE_ARN)
  --audience AUD             Azure: the App ID URI to request a token for; GitHub: the audience (default sts.amazonaws.com)
  --client-id ID | --object-id ID | --msi-res-id ID
                             which user-assigned managed identity (Azure; at most one)
  --azure-imds-endpoint URL  Azure IMDS base URL (default http://169.254.169.254)
  --service-connection-id ID Azure DevOps service connection (token via SYSTEM_OIDCREQUESTURI + SYSTEM_ACCESSTOKEN)
  --token-file PATH          token-file: the JWT file (regular file, no symlinks)
  --token-env-var NAME       gitlab: variable holding the id_token (default GITLAB_OIDC_TOKEN)
  --ec2-metadata-endpoint URL  ec2-instance-metadata: IMDS base URL (default http://169.254.169.254)
  --duration SECONDS         session length, 900-43200 (default 3600); refreshed before it ends
  --session-name NAME        role session name (default derived from the CI run)
  --chain-role-arn ARN       then assume this role with the first role's credentials
  --external-id ID           external id for AssumeRole (access-keys and role chaining)
  --region REGION            else AWS.Region, AWS_REGION, AWS_DEFAULT_REGION
  --endpoint-url URL         AWS endpoint for every service (else AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL)
  --sts-endpoint-url URL     STS endpoint only
  -v, --verbose              debug output (secrets stay masked)`;

type CredentialFlagValues = {
  [K in keyof typeof credentialFlags]?: (typeof credentialFlags)[K] extends { type: 'boolean' }
    ? boolean
    : string;
};

/** Maps command-line flags (and their KEYLESS_* environment fallbacks) to the engine's options. */
export function credentialOptionsFrom(
  command: string,
  values: CredentialFlagValues,
  env: NodeJS.ProcessEnv,
): CredentialOptions {
  const provider = values.provider ?? env.KEYLESS_PROVIDER;
  if (!provider) {
    throw new InvalidInputError(
      'No credential provider given: Keyless never guesses where credentials come from.',
      `pass --provider with one of ${providerNames.join(', ')} (or set KEYLESS_PROVIDER).`,
    );
  }
  const endpoints: CredentialOptions['endpoints'] = {};
  if (values['endpoint-url']) endpoints.default = values['endpoint-url'];
  if (values['sts-endpoint-url']) endpoints.sts = values['sts-endpoint-url'];
  return {
    provider: provider as ProviderName,
    roleArn: values['role-arn'] ?? env.KEYLESS_ROLE_ARN,
    sessionName: values['session-name'],
    durationSeconds: integerOption(command, 'duration', values.duration),
    region: values.region,
    audience: values.audience,
    clientId: values['client-id'],
    objectId: values['object-id'],
    msiResourceId: values['msi-res-id'],
    azureImdsEndpoint: values['azure-imds-endpoint'],
    serviceConnectionId: values['service-connection-id'],
    tokenFile: values['token-file'],
    tokenEnvVar: values['token-env-var'],
    ec2MetadataEndpoint: values['ec2-metadata-endpoint'],
    chainRoleArn: values['chain-role-arn'],
    externalId: values['external-id'],
    // Keys are read from the environment, never from argv (argv is visible to every process on the machine).
    accessKeyId: provider === 'access-keys' ? env.AWS_ACCESS_KEY_ID : undefined,
    secretAccessKey: provider === 'access-keys' ? env.AWS_SECRET_ACCESS_KEY : undefined,
    sessionToken: provider === 'access-keys' ? env.AWS_SESSION_TOKEN : undefined,
    endpoints,
  };
}

export function assertNoUnexpected(command: string, positionals: string[]): void {
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}".`, command);
}
