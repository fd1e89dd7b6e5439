import type { Reporter } from '../../report/reporter';
import type { Sleep } from '../retry';

/** What every token source needs from its surroundings; all optional knobs exist so tests run fast. */
export interface TokenSourceContext {
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  /** Base for relative token-file paths; default process.cwd(). */
  cwd?: string;
  sleep?: Sleep;
  /** Replaces the source's retry schedule (waits before each retry); tests pass zeros. */
  retryDelaysMs?: number[];
  /** Per-attempt HTTP timeout. */
  timeoutMs?: number;
  /** Overall budget for one getToken() across retries. */
  deadlineMs?: number;
  now?: () => number;
}
