import { resolveCredentials } from '@keyless/core/credentials';
import type { ResolvedCredentials } from '@keyless/core/credential-types';
import type { Reporter } from '@keyless/core/reporter';
import type { CommandContext } from './command';
import { credentialOptionsFrom } from './credential-flags';

/** What the deploying commands hand their engine (CloudFormation, CodeDeploy, S3 all take this shape). */
export interface CommandEngineContext {
  credentials: ResolvedCredentials;
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  cwd: string;
  signal: AbortSignal;
}

/**
 * Credentials from the command's flags, and a signal that Ctrl-C aborts: the engine's wait then ends with a
 * clear "may still be running" message instead of the process dying mid-sentence.
 */
export async function engineContextFor(
  command: string,
  values: Parameters<typeof credentialOptionsFrom>[1],
  context: CommandContext,
  reporter: Reporter,
): Promise<CommandEngineContext> {
  const credentials = await resolveCredentials(credentialOptionsFrom(command, values, context.env), {
    env: context.env,
    reporter,
    cwd: context.cwd,
  });
  const abort = new AbortController();
  void context.interrupted().then(() => abort.abort());
  return { credentials, env: context.env, reporter, cwd: context.cwd, signal: abort.signal };
}
