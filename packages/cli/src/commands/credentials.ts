import { getCallerIdentity, resolveCredentials } from '@keyless/core/credentials';
import type { Reporter } from '@keyless/core/reporter';
import {
  credentialFlags,
  credentialFlagsHelp,
  credentialOptionsFrom,
  assertNoUnexpected,
} from '../credential-flags';
import { parseCommandLine, UsageError } from '../usage';
import type { CommandContext } from '../command';

export const credentialsHelp = `keyless credentials — turn this pipeline's identity into short-lived AWS credentials and show who you are.

Usage: keyless credentials --provider NAME --role-arn ARN [options] [--format env|json|process]

Without --format it prints the assumed identity (account, ARN, expiry), never the keys.
--format prints the keys, and is the only way Keyless ever prints them:
  env      shell lines: export AWS_ACCESS_KEY_ID=… (eval "$(keyless credentials … --format env)")
  json     one JSON object with the keys, expiry, account and ARN
  process  the AWS CLI/SDK credential_process format, so every AWS tool can use Keyless directly

${credentialFlagsHelp}

Examples:
  # Azure VM agent with a user-assigned managed identity (the AWS blog's setup)
  keyless credentials --provider azure-managed-identity --audience api://my-app \\
    --client-id 00000000-0000-0000-0000-000000000000 --role-arn arn:aws:iam::123456789012:role/deploy --region us-east-1
  # GitHub Actions (needs permissions: id-token: write)
  keyless credentials --provider github --role-arn arn:aws:iam::123456789012:role/deploy --region us-east-1
  # ~/.aws/config profile for every AWS tool
  credential_process = keyless credentials --provider gitlab --role-arn arn:aws:iam::123456789012:role/deploy --region eu-west-1 --format process`;

const formats = ['env', 'json', 'process'] as const;
type Format = (typeof formats)[number];

export async function runCredentials(argv: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandLine('credentials', argv, {
    ...credentialFlags,
    format: { type: 'string' },
  });
  if (values.help) {
    context.stdout(`${credentialsHelp}\n`);
    return 0;
  }
  assertNoUnexpected('credentials', positionals);
  const format = values.format as Format | undefined;
  if (format !== undefined && !formats.includes(format)) {
    throw new UsageError(`Unknown --format "${format}"; use one of ${formats.join(', ')}.`, 'credentials');
  }
  const reporter = context.reporter({ verbose: values.verbose ?? false, quiet: true });
  const options = credentialOptionsFrom('credentials', values, context.env);
  const resolved = await resolveCredentials(options, { env: context.env, reporter });
  reporter.debug(`credentials: ${resolved.describe()}`);
  const credentials = await resolved.provider();
  // credential_process is called before every AWS CLI command: keep it to the one STS exchange.
  const identity =
    format === 'process' ? undefined : await getCallerIdentity(resolved, { env: context.env, reporter });

  const expiration = credentials.expiration?.toISOString();
  switch (format) {
    case 'process':
      context.stdout(
        `${JSON.stringify({
          Version: 1,
          AccessKeyId: credentials.accessKeyId,
          SecretAccessKey: credentials.secretAccessKey,
          ...(credentials.sessionToken ? { SessionToken: credentials.sessionToken } : {}),
          ...(expiration ? { Expiration: expiration } : {}),
        })}\n`,
      );
      return 0;
    case 'json':
      context.stdout(
        `${JSON.stringify(
          {
            AccessKeyId: credentials.accessKeyId,
            SecretAccessKey: credentials.secretAccessKey,
            SessionToken: credentials.sessionToken,
            Expiration: expiration,
            Region: resolved.region,
            Account: identity?.account,
            Arn: identity?.arn,
          },
          null,
          2,
        )}\n`,
      );
      return 0;
    case 'env':
      context.stdout(
        [
          `export AWS_ACCESS_KEY_ID=${shellQuote(credentials.accessKeyId)}`,
          `export AWS_SECRET_ACCESS_KEY=${shellQuote(credentials.secretAccessKey)}`,
          credentials.sessionToken
            ? `export AWS_SESSION_TOKEN=${shellQuote(credentials.sessionToken)}`
            : 'unset AWS_SESSION_TOKEN',
          `export AWS_REGION=${shellQuote(resolved.region)}`,
          `export AWS_DEFAULT_REGION=${shellQuote(resolved.region)}`,
          ...(expiration ? [`export AWS_CREDENTIAL_EXPIRATION=${expiration}`] : []),
          '',
        ].join('\n'),
      );
      return 0;
    default:
      printIdentity(context, reporter, identity!, resolved.describe(), credentials.expiration);
      return 0;
  }
}

function printIdentity(
  context: CommandContext,
  reporter: Reporter,
  identity: { account: string; arn: string },
  via: string,
  expiration: Date | undefined,
): void {
  const lines = [
    `Assumed identity ${identity.arn}`,
    `  account  ${identity.account}`,
    `  expires  ${expiration ? `${expiration.toISOString()} (${describeRemaining(expiration)}); refreshed automatically by keyless exec and every keyless command` : 'never (long-term keys)'}`,
    `  via      ${via}`,
  ];
  // The identity is not secret, but pass it through the mask anyway: nothing reaches stdout unmasked.
  context.stdout(`${reporter.secrets.mask(lines.join('\n'))}\n`);
}

export function describeRemaining(expiration: Date, now = Date.now()): string {
  const seconds = Math.round((expiration.getTime() - now) / 1000);
  if (seconds <= 0) return 'expired';
  if (seconds < 120) return `in ${seconds} s`;
  return `in ${Math.round(seconds / 60)} min`;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
