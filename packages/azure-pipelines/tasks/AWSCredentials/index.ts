// AWSCredentials@1: what the AWS blog's hand-written Bash@3 step did (an OIDC token traded with STS for keys
// published as AWS.* variables), done safely: the keys are secret variables, registered with the agent's
// masker before they are set, and an optional web-identity token file stays fresh for long scripts.
import { tmpdir } from 'node:os';
import { getCallerIdentity, type CredentialOptions, type ResolvedCredentials } from '@keyless/core';
import { publishOutput, publishVariable, runTask, type TaskContext } from '../../src';
import { connectionlessInputs, credentialOptionsFromInputs } from './options';
import { isRefresherInvocation, runRefresher, startTokenFile } from './token-file';

const taskName = 'AWSCredentials';

function noteIgnoredInputs(ctx: TaskContext): void {
  if (ctx.inputs.optional('awsCredentials') === undefined) return;
  // tokenFile is a filePath input, which the agent fills with the sources folder when left empty.
  const ignored = connectionlessInputs.filter((name) =>
    name === 'tokenFile' ? ctx.inputs.path(name) !== undefined : ctx.inputs.optional(name) !== undefined,
  );
  if (ignored.length > 0) {
    ctx.reporter.warn(
      `${taskName}: ${ignored.join(', ')} ${ignored.length === 1 ? 'is' : 'are'} ignored because "awsCredentials" names a service connection, which decides how credentials are obtained.`,
    );
  }
}

/** Warns when the published keys will expire before the job may end, and says how to make them last. */
function checkSessionLength(
  ctx: TaskContext,
  expiration: Date | undefined,
  requestedSeconds: number,
  jobTimeoutMinutes: number,
  tokenFile: boolean,
): void {
  if (!expiration) return;
  const remainingMs = expiration.getTime() - Date.now();
  // Two minutes of slack: the exchange itself and clock skew eat into a session that covers the job exactly
  // (the defaults: 3600 s for a 60-minute job).
  if (remainingMs + 120_000 >= jobTimeoutMinutes * 60_000) return;
  const minutes = Math.round(remainingMs / 60_000);
  const capped = remainingMs / 1000 < requestedSeconds - 120;
  const cap = capped
    ? ` STS granted less than the ${requestedSeconds} s asked for (the role's MaxSessionDuration, or the 1-hour limit of role chaining, applies).`
    : '';
  ctx.reporter.warn(
    `${taskName}: the AWS session ends at ${expiration.toISOString()} (in ${minutes} min), before the job's ${jobTimeoutMinutes}-minute timeout (jobTimeoutInMinutes); the AWS.* variables stop working then.${cap} ` +
      `To lengthen it, raise sessionDuration (up to 43200) and the role's MaxSessionDuration (aws iam update-role --role-name <role> --max-session-duration 43200)` +
      (tokenFile
        ? '.'
        : ', or set writeTokenFile: true so the AWS CLI and SDKs in scripts re-assume the role on their own.'),
  );
}

/** The session name in an assumed-role ARN (arn:aws:sts::<account>:assumed-role/<role>/<session>). */
function sessionNameOf(arn: string): string | undefined {
  const parts = arn.split(':assumed-role/')[1]?.split('/');
  return parts && parts.length >= 2 ? parts.at(-1) : undefined;
}

async function publishTokenFile(
  ctx: TaskContext,
  resolved: ResolvedCredentials,
  options: CredentialOptions,
  assumedArn: string,
): Promise<string> {
  if (!resolved.tokenSource || !resolved.roleArn) {
    ctx.reporter.warn(
      `${taskName}: writeTokenFile applies only to OIDC credentials, and these are ${resolved.describe()}; no token file was written (later steps use the AWS.* variables).`,
    );
    return '';
  }
  const handOver = await startTokenFile(resolved.tokenSource, options, {
    directory: ctx.env.AGENT_TEMPDIRECTORY || tmpdir(),
    env: ctx.env,
    cwd: ctx.cwd,
    reporter: ctx.reporter,
  });
  const sessionName = sessionNameOf(assumedArn) ?? resolved.sessionName;
  publishVariable('AWS_WEB_IDENTITY_TOKEN_FILE', handOver.path);
  publishVariable('AWS_ROLE_ARN', resolved.roleArn);
  if (sessionName) publishVariable('AWS_ROLE_SESSION_NAME', sessionName);
  if (handOver.refresherPid !== undefined) {
    ctx.reporter.info(
      `Web identity token file ${handOver.path}: kept fresh until the job ends (refresher process ${handOver.refresherPid}); later steps get AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN and AWS_ROLE_SESSION_NAME.`,
    );
  }
  return ` and a web identity token file for ${resolved.roleArn}`;
}

async function main(): Promise<void> {
  await runTask(
    taskName,
    async (ctx) => {
      const writeTokenFile = ctx.inputs.boolean('writeTokenFile', false);
      const jobTimeoutMinutes =
        ctx.inputs.integer('jobTimeoutInMinutes', { min: 0, max: 43_200, fallback: 60 }) ?? 60;
      // Read once here too, so a wrong input fails before any token is fetched.
      const options = credentialOptionsFromInputs(ctx.inputs, taskName);
      noteIgnoredInputs(ctx);

      ctx.progress(0, 'Obtaining AWS credentials');
      const resolved = await ctx.credentials();
      const credentials = await resolved.provider();
      // Already registered by the exchange; registering again costs nothing and guards every other path.
      for (const value of [credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken])
        ctx.reporter.registerSecret(value);
      ctx.progress(50, 'Checking the identity with STS GetCallerIdentity');
      const identity = await getCallerIdentity(resolved, { env: ctx.env, reporter: ctx.reporter });

      publishVariable('AWS.AccessKeyID', credentials.accessKeyId, { secret: true });
      publishVariable('AWS.SecretAccessKey', credentials.secretAccessKey, { secret: true });
      // Always set, so a session token an earlier step left cannot be paired with these keys.
      publishVariable('AWS.SessionToken', credentials.sessionToken ?? '', { secret: true });
      // Not secret: the agent would then mask the region name (say "us-east-1") in every later log line.
      publishVariable('AWS.Region', resolved.region);
      publishOutput('accountId', identity.account);
      publishOutput('roleArn', identity.arn);
      const expiration = credentials.expiration?.toISOString() ?? '';
      publishOutput('expiration', expiration);

      const lifetime = credentials.expiration
        ? `until ${expiration} (${Math.round((credentials.expiration.getTime() - Date.now()) / 60_000)} min)`
        : 'with long-term keys that do not expire';
      ctx.reporter.info(`Assumed identity ${identity.arn} in account ${identity.account}, ${lifetime}.`);
      if (!credentials.expiration) {
        ctx.reporter.warn(
          `${taskName}: these are long-term access keys, now copied into pipeline variables; prefer an OIDC connection (no stored keys) or a role to assume.`,
        );
      }
      ctx.progress(80, 'Publishing the credentials');
      const tokenFileNote = writeTokenFile
        ? await publishTokenFile(ctx, resolved, options, identity.arn)
        : '';
      if (jobTimeoutMinutes > 0) {
        const requested = options.durationSeconds ?? 3600;
        checkSessionLength(ctx, credentials.expiration, requested, jobTimeoutMinutes, tokenFileNote !== '');
      }
      ctx.progress(100, 'Done');
      return {
        result: 'Succeeded',
        message: `Published AWS credentials for ${identity.arn} (region ${resolved.region})${tokenFileNote}.`,
      };
    },
    { credentialOptions: credentialOptionsFromInputs },
  );
}

if (isRefresherInvocation(process.argv)) void runRefresher(process.argv);
else void main();
