import { InvalidInputError } from '../errors';
import { providerNames, type CredentialOptions, type ProviderName } from './types';

/** Modes that exchange an OIDC token for a role session, and so need a role. */
export const oidcProviderNames = [
  'azure-managed-identity',
  'azure-devops',
  'github',
  'gitlab',
  'token-file',
] as const;

export function isOidcProvider(name: ProviderName): name is (typeof oidcProviderNames)[number] {
  return (oidcProviderNames as readonly string[]).includes(name);
}

/** Options after validation, with defaults filled in. */
export interface ValidatedCredentialOptions extends CredentialOptions {
  sessionName: string;
  durationSeconds: number;
}

const roleArnPattern = /^arn:aws[-a-z]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const sessionNamePattern = /^[\w+=,.@-]{2,64}$/;

/**
 * Checks everything that can be checked before any network call; throws InvalidInputError (exit 2) naming
 * the input and the fix. Fills in the session name and duration defaults.
 */
export function validateCredentialOptions(
  options: CredentialOptions,
  env: NodeJS.ProcessEnv,
  now: () => number = Date.now,
): ValidatedCredentialOptions {
  if (!(providerNames as readonly string[]).includes(options.provider)) {
    throw new InvalidInputError(
      `Unknown credential mode "${String(options.provider)}".`,
      `Choose one of: ${providerNames.join(', ')}.`,
    );
  }
  const provider = options.provider;
  if (isOidcProvider(provider) && !options.roleArn) {
    throw new InvalidInputError(
      `The ${provider} mode needs the role to assume.`,
      'Pass --role-arn arn:aws:iam::<account-id>:role/<name>.',
    );
  }
  if (options.roleArn !== undefined) validateRoleArn(options.roleArn, 'role ARN');
  if (options.chainRoleArn !== undefined) validateRoleArn(options.chainRoleArn, 'chained role ARN');

  const durationSeconds = options.durationSeconds ?? 3600;
  if (!Number.isInteger(durationSeconds) || durationSeconds < 900 || durationSeconds > 43_200) {
    throw new InvalidInputError(
      `The session duration ${String(options.durationSeconds)} is outside 900–43200 seconds.`,
      'Pass --duration between 900 (15 min) and 43200 (12 h), within the role’s MaxSessionDuration.',
    );
  }

  const sessionName = options.sessionName ?? defaultSessionName(env, now);
  if (!sessionNamePattern.test(sessionName)) {
    throw new InvalidInputError(
      `The session name "${sessionName}" is invalid: it must be 2–64 characters of letters, digits and +=,.@_-.`,
      'Pass a --session-name such as deploy-1234.',
    );
  }

  const selectors = [
    ['client id', options.clientId],
    ['object id', options.objectId],
    ['resource id', options.msiResourceId],
  ].filter(([, value]) => value);
  if (selectors.length > 1) {
    throw new InvalidInputError(
      `Give at most one Azure identity selector; got ${selectors.map(([name]) => name).join(' and ')}.`,
      'Keep only --client-id (or --object-id, or --msi-res-id).',
    );
  }
  if (provider === 'azure-managed-identity' && !options.audience?.trim()) {
    throw new InvalidInputError(
      'azure-managed-identity needs the token audience.',
      "Pass --audience with your app registration's Application ID URI (e.g. api://<app-id>).",
    );
  }
  if (provider === 'azure-devops' && !options.serviceConnectionId?.trim()) {
    throw new InvalidInputError(
      'azure-devops needs the service connection id.',
      'Pass --service-connection-id with the connection GUID (tasks pass their awsCredentials connection for you).',
    );
  }
  if (provider === 'token-file' && !options.tokenFile && !env.AWS_WEB_IDENTITY_TOKEN_FILE) {
    throw new InvalidInputError(
      'token-file needs a token file.',
      'Pass --token-file <path> or set AWS_WEB_IDENTITY_TOKEN_FILE.',
    );
  }
  if (provider === 'access-keys' && (!options.accessKeyId || !options.secretAccessKey)) {
    throw new InvalidInputError(
      `access-keys needs both an access key id and a secret access key; ${options.accessKeyId ? 'the secret access key' : 'the access key id'} is missing.`,
      'Provide both from a secret store (the CLI reads AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the environment, never from arguments; a service connection has fields for them), or use an OIDC mode so no keys are stored at all.',
    );
  }
  for (const [name, value] of Object.entries(options.endpoints ?? {})) {
    if (value === undefined) continue;
    try {
      new URL(value);
    } catch {
      throw new InvalidInputError(
        `The ${name === 'default' ? 'AWS' : name.toUpperCase()} endpoint "${value}" is not a URL.`,
        'Give a full URL such as http://127.0.0.1:4566.',
      );
    }
  }
  return { ...options, sessionName, durationSeconds };
}

function validateRoleArn(arn: string, what: string): void {
  if (roleArnPattern.test(arn)) return;
  if (/^[\w+=,.@-]+$/.test(arn)) {
    throw new InvalidInputError(
      `The ${what} "${arn}" is a bare role name, not an ARN.`,
      `Give the full ARN: arn:aws:iam::<account-id>:role/${arn}.`,
    );
  }
  throw new InvalidInputError(
    `The ${what} "${arn}" is not an IAM role ARN.`,
    'Give it as arn:aws:iam::<12-digit account id>:role/<name>.',
  );
}

/**
 * A session name that ties CloudTrail entries to the CI run: Azure DevOps build id, GitHub run id and
 * attempt, GitLab job id, else the epoch second.
 */
export function defaultSessionName(env: NodeJS.ProcessEnv, now: () => number = Date.now): string {
  let name: string;
  if (env.BUILD_BUILDID) name = `keyless-ado-${env.BUILD_BUILDID}`;
  else if (env.GITHUB_RUN_ID) name = `keyless-gh-${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? '1'}`;
  else if (env.CI_JOB_ID) name = `keyless-gl-${env.CI_JOB_ID}`;
  else name = `keyless-${Math.floor(now() / 1000)}`;
  return sanitizeSessionName(name);
}

/** Replaces characters STS refuses and trims to 64. */
export function sanitizeSessionName(name: string): string {
  const cleaned = name.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  return cleaned.length >= 2 ? cleaned : `keyless-${cleaned}`;
}
