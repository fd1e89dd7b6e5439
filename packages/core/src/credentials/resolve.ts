import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { buildClientConfig } from '../aws/client-config';
import { isKeylessError } from '../errors';
import { resolveEndpoint } from '../aws/endpoints';
import { resolveRegion } from '../aws/region';
import type { Reporter } from '../report/reporter';
import { AssumeRoleCredentials } from './assume-role';
import { Ec2InstanceMetadataCredentials } from './ec2-instance-metadata';
import { AccountNotAllowedError, RegionMissingError } from './errors';
import { explainStsError, stsErrorCode } from './explain';
import { isOidcProvider, validateCredentialOptions, type ValidatedCredentialOptions } from './options';
import { realSleep, type Sleep } from './retry';
import { readPipelineVariableKeys, staticKeysProvider } from './static-keys';
import { createTokenSource, type TokenSourceContext } from './token-sources';
import type { CallerIdentity, CredentialOptions, ResolvedCredentials, TokenSource } from './types';
import { WebIdentityCredentials } from './web-identity';

export interface ResolveContext {
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  /** Base for relative token-file paths. */
  cwd?: string;
  sleep?: Sleep;
  now?: () => number;
  /** Test knobs passed to token sources (retry schedule, timeouts). */
  tokenSource?: Pick<TokenSourceContext, 'retryDelaysMs' | 'timeoutMs' | 'deadlineMs'>;
}

/**
 * Builds the credentials for exactly the mode the user named, and performs the first exchange now so that a
 * misconfiguration fails here, with its explanation. A failure never falls back to other credentials.
 */
export async function resolveCredentials(
  options: CredentialOptions,
  ctx: ResolveContext,
): Promise<ResolvedCredentials> {
  const validated = validateCredentialOptions(options, ctx.env, ctx.now);
  const { env, reporter } = ctx;
  // Validate endpoint overrides before any network call too.
  resolveEndpoint('sts', validated.endpoints, env);

  let ec2: Ec2InstanceMetadataCredentials | undefined;
  let region: string;
  if (validated.provider === 'ec2-instance-metadata') {
    ec2 = new Ec2InstanceMetadataCredentials({
      endpoint: validated.ec2MetadataEndpoint,
      env,
      reporter,
      now: ctx.now,
    });
    region = await regionOrInstanceRegion(validated, env, ec2);
  } else {
    region = resolveRegion(validated.region, { pipelineVariables: validated.pipelineVariables, env });
  }

  const common = { region, endpoints: validated.endpoints, env, reporter, now: ctx.now };
  let provider: AwsCredentialIdentityProvider;
  // A function, not a string: some sources only know what they are after the first fetch (EC2 role name).
  let describe: () => string;
  let tokenSource: TokenSource | undefined;
  const finalRoleIsChained = validated.chainRoleArn !== undefined;

  if (isOidcProvider(validated.provider)) {
    tokenSource = createTokenSource(validated, {
      env,
      reporter,
      cwd: ctx.cwd,
      sleep: ctx.sleep,
      now: ctx.now,
      ...ctx.tokenSource,
    });
    const web = new WebIdentityCredentials({
      ...common,
      tokenSource,
      roleArn: validated.roleArn as string,
      sessionName: validated.sessionName,
      durationSeconds: validated.durationSeconds,
      policy: validated.sessionPolicy,
      policyArns: validated.policyArns,
      sleep: ctx.sleep,
    });
    provider = web.provider;
    describe = () => web.describe();
  } else if (validated.provider === 'ec2-instance-metadata' && ec2) {
    provider = ec2.provider;
    describe = () => ec2.describe();
  } else {
    const keys =
      validated.provider === 'access-keys'
        ? {
            accessKeyId: validated.accessKeyId as string,
            secretAccessKey: validated.secretAccessKey as string,
            sessionToken: validated.sessionToken,
          }
        : readPipelineVariableKeys(validated.pipelineVariables, env, reporter);
    provider = staticKeysProvider(keys, reporter);
    const keysText =
      validated.provider === 'access-keys'
        ? 'access keys'
        : 'keys from pipeline variables AWS.AccessKeyID/AWS.SecretAccessKey';
    describe = () => keysText;
    if (validated.roleArn) {
      const assumed = new AssumeRoleCredentials({
        ...common,
        sourceCredentials: provider,
        roleArn: validated.roleArn,
        sessionName: validated.sessionName,
        durationSeconds: validated.durationSeconds,
        externalId: finalRoleIsChained ? undefined : validated.externalId,
        chained: Boolean(keys.sessionToken),
      });
      provider = assumed.provider;
      const roleArn = validated.roleArn;
      describe = () => `${keysText} → ${roleArn}`;
    }
  }

  if (validated.chainRoleArn) {
    const chained = new AssumeRoleCredentials({
      ...common,
      sourceCredentials: provider,
      roleArn: validated.chainRoleArn,
      sessionName: validated.sessionName,
      durationSeconds: validated.durationSeconds,
      externalId: validated.externalId,
      chained: true,
    });
    provider = chained.provider;
    const first = describe;
    const chainRoleArn = validated.chainRoleArn;
    describe = () => `${first()} → ${chainRoleArn}`;
  }

  // First exchange now: errors surface here, explained, rather than at the first deploy call.
  reporter.info(`Credential mode ${validated.provider}, region ${region}`);
  await provider();
  reporter.info(`Credentials: ${describe()}`);

  const resolved: ResolvedCredentials = {
    mode: validated.provider,
    region,
    provider,
    describe,
    endpoints: validated.endpoints,
    sessionName: validated.sessionName,
  };
  if (tokenSource) resolved.tokenSource = tokenSource;
  if (validated.roleArn && isOidcProvider(validated.provider)) resolved.roleArn = validated.roleArn;
  return resolved;
}

async function regionOrInstanceRegion(
  options: ValidatedCredentialOptions,
  env: NodeJS.ProcessEnv,
  ec2: Ec2InstanceMetadataCredentials,
): Promise<string> {
  try {
    return resolveRegion(options.region, { pipelineVariables: options.pipelineVariables, env });
  } catch (error) {
    if (!(error instanceof RegionMissingError)) throw error;
    return ec2.region();
  }
}

export interface CallerIdentityContext {
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  /** When given, the session's account must be one of these. */
  allowedAccountIds?: string[];
  sleep?: Sleep;
}

/** Fresh keys can be "not valid" for a moment after AssumeRole (configure-aws-credentials#1681). */
const freshKeyRetryDelaysMs = [1_000, 2_000, 4_000];

/** Signed STS GetCallerIdentity with the resolved credentials: proves they work and shows whose they are. */
export async function getCallerIdentity(
  resolved: ResolvedCredentials,
  ctx: CallerIdentityContext,
): Promise<CallerIdentity> {
  const client = new STSClient(
    buildClientConfig('sts', {
      region: resolved.region,
      credentials: resolved.provider,
      endpoints: resolved.endpoints,
      env: ctx.env,
    }),
  );
  const sleep = ctx.sleep ?? realSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      const output = await client.send(new GetCallerIdentityCommand({}));
      const identity: CallerIdentity = {
        account: output.Account ?? '',
        arn: output.Arn ?? '',
        userId: output.UserId ?? '',
      };
      if (ctx.allowedAccountIds?.length && !ctx.allowedAccountIds.includes(identity.account)) {
        throw new AccountNotAllowedError(
          `The credentials belong to account ${identity.account} (${identity.arn}), which is not in the allowed accounts ${ctx.allowedAccountIds.join(', ')}.`,
          'Check the role ARN points at the intended account, or add the account to the allowed list.',
        );
      }
      ctx.reporter.info(`Authenticated as ${identity.arn}`);
      return identity;
    } catch (error) {
      // Our own errors (e.g. from a refreshing provider) are already explained.
      if (isKeylessError(error)) throw error;
      const delay = freshKeyRetryDelaysMs[attempt];
      if (stsErrorCode(error) === 'InvalidClientTokenId' && delay !== undefined) {
        await sleep(delay);
        continue;
      }
      throw explainStsError(error, {
        operation: 'GetCallerIdentity',
        endpoint: resolveEndpoint('sts', resolved.endpoints, ctx.env),
      });
    }
  }
}
