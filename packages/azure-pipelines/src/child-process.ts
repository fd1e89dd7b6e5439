// What AWSShellScript@1 and AWSCLI@1 share: running a child with the task's credentials and passing its
// output through, masked, to the agent.
import { runWithCredentials, type RunResult, type RunWithCredentialsOptions } from '@keyless/core';
import type { TaskContext } from './run-task';

export type TaskChildOptions = Pick<
  RunWithCredentialsOptions,
  'command' | 'args' | 'cwd' | 'label' | 'useTokenFile' | 'failOnStandardError' | 'onLine'
>;

/**
 * Resolves the task's credentials (every one is announced with task.setsecret as it is obtained, so before
 * the child exists) and runs the child with them in its environment only.
 */
export async function runChildWithTaskCredentials(
  ctx: TaskContext,
  options: TaskChildOptions,
): Promise<RunResult> {
  const credentials = await ctx.credentials();
  ctx.reporter.info(`[command]${[options.command, ...(options.args ?? [])].join(' ')}`);
  return runWithCredentials({
    ...options,
    credentials,
    env: ctx.env,
    reporter: ctx.reporter,
    signal: ctx.signal,
    onCredentials: (source, expiration) => {
      if (source === 'web-identity-token-file') {
        ctx.reporter.info(
          `AWS credentials for it: AWS_ROLE_ARN and a web identity token file (AWS_WEB_IDENTITY_TOKEN_FILE) kept fresh while it runs; region ${credentials.region}.`,
        );
      } else {
        ctx.reporter.info(
          `AWS credentials for it: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY${expiration ? `/AWS_SESSION_TOKEN, valid until ${expiration.toISOString()}` : ''}; region ${credentials.region}.`,
        );
      }
      if (options.useTokenFile !== false && !credentials.tokenSource) {
        ctx.reporter.debug(
          `useTokenFile applies to OIDC connections; these credentials (${credentials.describe()}) are keys.`,
        );
      }
    },
  });
}

/**
 * One line of the child's output (stdout or stderr, as the toolkit merged them) to our stdout, where the
 * agent reads logging commands. Masking replaces a secret with `***` and leaves the `##vso[…]` syntax intact,
 * so a script can set variables but cannot smuggle our credentials into one.
 */
export function forwardChildLine(ctx: TaskContext, line: string): void {
  process.stdout.write(`${ctx.reporter.secrets.mask(line)}\n`);
}
