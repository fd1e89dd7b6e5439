// writeTokenFile: a web-identity token file for later steps, kept fresh after this task has exited by a
// detached copy of this same bundle (started with `--keyless-refresh-token-file`), so the AWS CLI and SDKs in
// later scripts re-assume the role on their own, for as long as the job runs.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  createTokenSource,
  SecretRegistry,
  TokenFileKeeper,
  type CredentialOptions,
  type Reporter,
  type TokenSource,
} from '@keyless/core';

export const refreshFlag = '--keyless-refresh-token-file';
const settingsFlag = '--settings';
/** However long the job claims to run, the refresher stops after this. */
const maxLifetimeMs = 12 * 3_600_000;
const aliveCheckMs = 2_000;
const retryStartMs = 5_000;
/** How long the task waits for the refresher to pick up its settings before giving up on it. */
const handOverTimeoutMs = 15_000;

/** What the refresher needs. Written to a 0600 file it deletes once read: argv and env are visible to others. */
interface RefresherSettings {
  tokenFile: string;
  /** Only the token source's fields (which may include System.AccessToken). */
  source: CredentialOptions;
  /** The environment the token source reads (IMDS host, CI variables, proxies). */
  env: Record<string, string>;
  cwd: string;
  /** The agent worker (this task's parent): when it is gone the job has ended. */
  agentPid: number;
  deadline: number;
}

const tokenSourceFields = [
  'provider',
  'audience',
  'clientId',
  'objectId',
  'msiResourceId',
  'azureImdsEndpoint',
  'serviceConnectionId',
  'oidcRequestUri',
  'systemAccessToken',
  'tokenFile',
  'tokenEnvVar',
] as const satisfies ReadonlyArray<keyof CredentialOptions>;

export interface TokenFileHandOver {
  path: string;
  /** The refresher's process id, or undefined when it could not be started (the file then just expires). */
  refresherPid?: number;
}

/**
 * Writes the current token to `<directory>/keyless-web-identity-<uuid>.jwt` (0600) and hands it over to a
 * detached refresher. Throws only when the first token cannot be fetched; a refresher that does not start is
 * a warning (the file still holds a valid token for now).
 */
export async function startTokenFile(
  tokenSource: TokenSource,
  options: CredentialOptions,
  context: { directory: string; env: NodeJS.ProcessEnv; cwd: string; reporter: Reporter },
): Promise<TokenFileHandOver> {
  const { reporter, directory } = context;
  const path = join(directory, `keyless-web-identity-${randomUUID()}.jwt`);
  const first = await TokenFileKeeper.start(tokenSource, { reporter, path });
  await first.stop({ keepFile: true });

  const source = Object.fromEntries(
    tokenSourceFields.filter((field) => options[field] !== undefined).map((field) => [field, options[field]]),
  ) as unknown as CredentialOptions;
  const settings: RefresherSettings = {
    tokenFile: path,
    source,
    env: Object.fromEntries(
      Object.entries(context.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    ),
    cwd: context.cwd,
    agentPid: process.ppid,
    deadline: Date.now() + maxLifetimeMs,
  };
  const settingsPath = join(directory, `keyless-refresher-${randomUUID()}.json`);
  writeFileSync(settingsPath, JSON.stringify(settings), { mode: 0o600 });

  const entry = process.argv[1] ?? '';
  const child = spawn(
    process.execPath,
    [...process.execArgv, entry, refreshFlag, path, settingsFlag, settingsPath],
    {
      detached: true,
      stdio: 'ignore',
      windowsHide: true,
      cwd: directory,
      // Nothing secret here: the refresher takes its secrets from the settings file.
      env: {
        PATH: process.env.PATH ?? '',
        ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
        AGENT_TEMPDIRECTORY: directory,
      },
    },
  );
  let failed: Error | undefined;
  child.on('error', (error) => (failed = error));
  child.unref();

  // The refresher deletes its settings file as soon as it has read them: that is its sign of life.
  const started = Date.now();
  while (existsSync(settingsPath) && !failed && Date.now() - started < handOverTimeoutMs) await delay(50);
  if (existsSync(settingsPath) || failed || child.pid === undefined) {
    rmSync(settingsPath, { force: true });
    reporter.warn(
      `The token file refresher did not start${failed ? ` (${failed.message})` : ''}; ${path} holds the current token but will not be refreshed.`,
    );
    return { path };
  }
  return { path, refresherPid: child.pid };
}

export function isRefresherInvocation(argv: string[]): boolean {
  return argv.includes(refreshFlag);
}

/**
 * The detached refresher: rewrites the token file (atomically, before each token expires) until the agent
 * worker that ran the task is gone, a signal arrives or 12 hours have passed, then removes the file.
 */
export async function runRefresher(argv: string[]): Promise<void> {
  const settingsPath = argv[argv.indexOf(settingsFlag) + 1];
  if (!settingsPath) return;
  let settings: RefresherSettings;
  try {
    settings = JSON.parse(readFileSync(settingsPath, 'utf8')) as RefresherSettings;
  } finally {
    rmSync(settingsPath, { force: true });
  }
  const reporter = silentReporter();
  const source = createTokenSource(settings.source, { env: settings.env, reporter, cwd: settings.cwd });
  let keeper: TokenFileKeeper | undefined;
  let stopping = false;
  const jobOver = () => !isAlive(settings.agentPid) || Date.now() >= settings.deadline;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(watch);
    await keeper?.stop();
    rmSync(settings.tokenFile, { force: true });
    process.exit(0);
  };
  // This interval is what keeps the process alive (the keeper's own timer does not).
  const watch = setInterval(() => {
    if (jobOver()) void stop();
  }, aliveCheckMs);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void stop());

  while (!stopping && !keeper) {
    try {
      keeper = await TokenFileKeeper.start(source, { reporter, path: settings.tokenFile });
    } catch {
      // The file still holds the task's token; try again until the job ends.
      await delay(retryStartMs);
    }
  }
  if (stopping) await keeper?.stop();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else (it is alive).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The refresher has no log to write to (its stdio is closed); secrets are still tracked, as everywhere. */
function silentReporter(): Reporter {
  const secrets = new SecretRegistry();
  const ignore = () => undefined;
  return {
    secrets,
    info: ignore,
    warn: ignore,
    error: ignore,
    debug: ignore,
    registerSecret: (value) => secrets.add(value),
  };
}
