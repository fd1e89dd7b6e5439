import { spawn } from 'node:child_process';
import {
  getCallerIdentity,
  InvalidInputError,
  prepareChildCredentials,
  resolveCredentials,
} from '@keyless/core';
import { credentialFlags, credentialFlagsHelp, credentialOptionsFrom } from '../credential-flags';
import { parseCommandLine, UsageError } from '../usage';
import type { CommandContext } from '../command';

export const execHelp = `keyless exec — run a command with AWS credentials in its environment only.

Usage: keyless exec --provider NAME --role-arn ARN [options] [--static-keys] -- COMMAND [ARGS…]

With an OIDC provider the command gets AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_SESSION_NAME;
Keyless keeps the token file fresh while the command runs, so the AWS CLI and every SDK re-assume the role
on their own and a command can outlast any single session. Stale AWS_ACCESS_KEY_ID/AWS_PROFILE variables are
removed from the child so they cannot win the SDK's credential chain.
--static-keys exports AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN instead (for tools that do not
read web-identity token files; those keys expire with the session). Other providers always export keys.

${credentialFlagsHelp}

Examples:
  keyless exec --provider github --role-arn arn:aws:iam::123456789012:role/deploy --region us-east-1 -- aws s3 ls
  keyless exec --provider azure-managed-identity --audience api://my-app --role-arn arn:aws:iam::123456789012:role/deploy \\
    --region us-east-1 -- ./long-migration.sh`;

export async function runExec(argv: string[], context: CommandContext): Promise<number> {
  const separator = argv.indexOf('--');
  const ownArgs = separator === -1 ? argv : argv.slice(0, separator);
  const command = separator === -1 ? [] : argv.slice(separator + 1);
  const { values, positionals } = parseCommandLine('exec', ownArgs, {
    ...credentialFlags,
    'static-keys': { type: 'boolean' },
  });
  if (values.help) {
    context.stdout(`${execHelp}\n`);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(
      `Put the command after "--": keyless exec [options] -- ${positionals.join(' ')}`,
      'exec',
    );
  }
  if (command.length === 0) throw new UsageError('No command given after "--".', 'exec');

  const reporter = context.reporter({ verbose: values.verbose ?? false });
  const options = credentialOptionsFrom('exec', values, context.env);
  const resolved = await resolveCredentials(options, { env: context.env, reporter });
  // Fail before starting the command if the role cannot be assumed at all.
  const identity = await getCallerIdentity(resolved, { env: context.env, reporter });
  reporter.info(`keyless: running ${command[0]} as ${identity.arn}`);

  const child = await prepareChildCredentials({
    credentials: resolved,
    env: context.env,
    reporter,
    // A chained role cannot be reached from the token file alone: the child gets the chained role's keys.
    useTokenFile: !values['static-keys'] && !options.chainRoleArn,
    sessionName: sessionNameFrom(identity.arn),
  });
  if (child.expiration) {
    reporter.info(`keyless: these keys expire at ${child.expiration.toISOString()}; they are not refreshed.`);
  }

  try {
    return await runChild(command, child.env, context);
  } finally {
    await child.close();
  }
}

function sessionNameFrom(assumedRoleArn: string): string {
  // arn:aws:sts::<acct>:assumed-role/<role>/<session>
  return assumedRoleArn.split('/').at(-1) ?? 'keyless-exec';
}

function runChild(command: string[], env: NodeJS.ProcessEnv, context: CommandContext): Promise<number> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = command as [string, ...string[]];
    const child = spawn(file, args, { env, cwd: context.cwd, stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    void context.interrupted().then(forward);
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        reject(
          new InvalidInputError(
            `Command not found: ${file}.`,
            "Check the name and your PATH, or give the command's full path.",
          ),
        );
      } else reject(error);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + signalNumber(signal) : 1)));
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return { SIGINT: 2, SIGTERM: 15, SIGKILL: 9, SIGHUP: 1 }[signal as string] ?? 1;
}
