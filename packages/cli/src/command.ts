import type { Reporter } from '@keyless/core';

/** What a command needs from its process; injected so commands run in-process in tests and in `demo`. */
export interface CommandContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout(text: string): void;
  /** The process's one reporter, writing masked messages to stderr (created on first call). */
  reporter(options?: { verbose?: boolean; quiet?: boolean }): Reporter;
  /** Resolves when the user asks to stop (SIGINT/SIGTERM); calling it takes over Ctrl-C handling. */
  interrupted(): Promise<NodeJS.Signals>;
}
