/**
 * The boundary between running one step (steps/) and orchestrating jobs (run/): what a step needs from its
 * job, and the record it hands back.
 */
import type { Masker } from '../logging/masker';
import type { VariableStore } from '../variables';
import type { AgentSettings } from '../agent-settings';
import type { TaskCatalog } from '../tasks/catalog';
import type { TaskResult, TaskStep } from '../model';

export type { TaskStep };

export interface JobDirectories {
  work: string;
  build: string;
  sources: string;
  temp: string;
  staging: string;
  binaries: string;
  /** per-run folder where uploadsummary/uploadfile/addattachment/uploadlog copies go */
  files: string;
}
/** Everything a step needs from its job; mutated by steps (variables, path prepends, tags, build number). */
export interface JobRuntime {
  stageName: string;
  jobName: string;
  variables: VariableStore; // job variables incl. predefined system variables; logging commands mutate it
  /** Output variables of this job, keyed `step.var` (original case of step name and var). */
  outputs: Map<string, string>;
  masker: Masker;
  pathPrepends: string[]; // newest first
  directories: JobDirectories;
  agent: AgentSettings;
  /** The agent's own process environment (runner env + AgentSettings.environment). */
  agentEnv: NodeJS.ProcessEnv;
  catalog: TaskCatalog;
  /** Writes one already-masked-or-not line to the log; the implementation masks it (F2 supplies it). */
  write(line: string): void;
  /** Aborted when the run is cancelled (SIGINT/SIGTERM); steps forward it to their process. */
  signal: AbortSignal;
  buildTags: string[];
  /** For `build.updatebuildnumber`; also updates the Build.BuildNumber variable. */
  setBuildNumber(value: string): void;
}
export interface StepIssue {
  type: 'error' | 'warning';
  message: string;
  code?: string;
  sourcePath?: string;
  lineNumber?: number;
  columnNumber?: number;
}
export interface StepVariableChange {
  name: string;
  value: string /* masked */;
  secret: boolean;
  output: boolean;
  readonly: boolean;
}
export interface StepRecord {
  name: string;
  displayName: string;
  kind: 'task' | 'checkout';
  task?: { name: string; id: string; version: string; handler: string }; // e.g. handler 'Node20_1' or 'native'
  inputs: Record<string, string>; // final inputs after defaults/macros/rooting, masked
  environment: Record<string, string>; // the process env with every value masked and every SECRET_*/ENDPOINT_AUTH*/INPUT_ of a secret redacted to ***; agent-process env vars not set by the runner omitted
  commands: Array<{ area: string; event: string; properties: Record<string, string>; data: string }>; // masked
  variables: StepVariableChange[];
  outputs: Record<string, string>; // var name → masked value (what went into JobRuntime.outputs as `<step>.<var>`)
  issues: StepIssue[]; // masked
  progress?: { value: number; operation: string };
  files: Array<{
    kind: 'summary' | 'file' | 'attachment' | 'log';
    name: string;
    path: string /* copy under directories.files */;
  }>;
  result: TaskResult;
  /** task.complete's message, or the runner's reason (timeout, exit code, bad command). */
  message?: string;
  exitCode?: number;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
}
