import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Reporter } from '../report/reporter';
import type { TokenSource } from './types';

export interface TokenFileKeeperOptions {
  reporter: Reporter;
  /** Parent of the private directory; default os.tmpdir(). */
  directory?: string;
  /**
   * Write exactly this file instead of `token.jwt` in a new private directory (its directory must exist and
   * should be private to the job, e.g. the agent's temp directory). stop() then removes only the file.
   */
  path?: string;
  now?: () => number;
  /** Never refresh more often than this (default 1 s). */
  minimumRefreshMs?: number;
  /** Refresh at least this often, and this often when the token has no `exp` (default 5 min). */
  maximumRefreshMs?: number;
  /** Wait before retrying after a failed refresh (default 5 s). */
  retryAfterFailureMs?: number;
}

/**
 * Keeps a current JWT in a 0600 file inside a private 0700 temp directory, so a child process can use
 * AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE and let its own SDK re-assume whenever it needs to (the SDK
 * re-reads the file on every refresh). The token is re-fetched at about half its remaining life.
 */
export class TokenFileKeeper {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private refreshing: Promise<void> | undefined;
  /** How many tokens have been written (first one included). */
  writeCount = 0;

  private constructor(
    private readonly source: TokenSource,
    readonly directory: string,
    readonly path: string,
    private readonly options: TokenFileKeeperOptions,
    /** True when the directory was created for this keeper (and so is removed with it). */
    private readonly ownsDirectory: boolean,
  ) {}

  /** Fetches the first token, writes it, and starts refreshing. Throws the token source's error if the first fetch fails. */
  static async start(source: TokenSource, options: TokenFileKeeperOptions): Promise<TokenFileKeeper> {
    const keeper = options.path
      ? new TokenFileKeeper(source, dirname(options.path), options.path, options, false)
      : await TokenFileKeeper.inPrivateDirectory(source, options);
    try {
      const delay = await keeper.writeToken();
      keeper.schedule(delay);
    } catch (error) {
      await keeper.stop();
      throw error;
    }
    return keeper;
  }

  private static async inPrivateDirectory(
    source: TokenSource,
    options: TokenFileKeeperOptions,
  ): Promise<TokenFileKeeper> {
    const directory = await mkdtemp(join(options.directory ?? tmpdir(), 'keyless-token-'));
    return new TokenFileKeeper(source, directory, join(directory, 'token.jwt'), options, true);
  }

  /** The environment a child needs to assume `roleArn` by itself from this file. */
  childEnvironment(roleArn: string, sessionName?: string): Record<string, string> {
    return {
      AWS_ROLE_ARN: roleArn,
      AWS_WEB_IDENTITY_TOKEN_FILE: this.path,
      ...(sessionName ? { AWS_ROLE_SESSION_NAME: sessionName } : {}),
    };
  }

  /**
   * Stops refreshing and removes the file (and its private directory). `keepFile` leaves the current token in
   * place, for a hand-over to another process that keeps refreshing it.
   */
  async stop(options: { keepFile?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.refreshing?.catch(() => undefined);
    if (options.keepFile) return;
    if (this.ownsDirectory) await rm(this.directory, { recursive: true, force: true });
    else await rm(this.path, { force: true });
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.refreshing = this.writeToken()
        .then((next) => this.schedule(next))
        .catch((error: unknown) => {
          const text = error instanceof Error ? error.message : String(error);
          this.options.reporter.warn(`Could not refresh the web identity token file: ${text}`);
          this.schedule(this.options.retryAfterFailureMs ?? 5_000);
        });
    }, delayMs);
    // The keeper serves a child process; it must not keep ours alive on its own.
    this.timer.unref();
  }

  /** Writes a fresh token atomically (temp file + rename) and returns when to refresh next. */
  private async writeToken(): Promise<number> {
    const token = await this.source.getToken();
    if (this.stopped) return 0;
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(temporary, token.jwt, { mode: 0o600, flag: 'w' });
    await rename(temporary, this.path);
    this.writeCount++;
    const now = (this.options.now ?? Date.now)();
    const minimum = this.options.minimumRefreshMs ?? 1_000;
    const maximum = this.options.maximumRefreshMs ?? 5 * 60_000;
    if (!token.expiresAt) return maximum;
    const halfRemaining = (token.expiresAt.getTime() - now) / 2;
    return Math.round(Math.min(maximum, Math.max(minimum, halfRemaining)));
  }
}
