/** What every job of one run shares: the pipeline, the run's facts and folders, the masker and the log. */
import type { AgentSettings } from '../agent-settings';
import type { Masker } from '../logging/masker';
import type { Pipeline } from '../model';
import type { TaskCatalog } from '../tasks/catalog';
import type { RunDirectories } from './directories';
import type { RunLog } from './log';
import type { RunFacts } from './predefined-variables';
import type { SlotPool } from './schedule';

export interface RunContext {
  pipeline: Pipeline;
  /** Mutable: `build.updatebuildnumber` changes `buildNumber` for every later job. */
  facts: RunFacts;
  directories: RunDirectories;
  agent: AgentSettings;
  /** The agent process environment: the runner's env with AgentSettings.environment on top. */
  agentEnv: NodeJS.ProcessEnv;
  catalog: TaskCatalog;
  masker: Masker;
  log: RunLog;
  /** Aborted when the user cancels the run. */
  signal: AbortSignal;
  buildTags: string[];
  /** Queue-time variables (`--var`); they win over YAML. */
  overrides: Record<string, string>;
  slots: SlotPool;
  /** How long a `timeoutInMinutes` minute lasts (60 000 ms unless the run is time-scaled). */
  minuteMs: number;
  /** Changes Build.BuildNumber for the run (validated as the server does). */
  setBuildNumber(value: string): void;
}
