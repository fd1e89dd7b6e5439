/**
 * The runner's data model: a pipeline after loading (implicit forms normalised, `${{ }}` resolved), and the
 * results the agent computes while running it. Loader, expression evaluator and executor share these types.
 */

/** Agent task results, in worst-wins order for merging (Canceled/Skipped/Abandoned are sticky). */
export type TaskResult =
  'Succeeded' | 'SucceededWithIssues' | 'Failed' | 'Canceled' | 'Skipped' | 'Abandoned';

/** A variable as declared in YAML (values are strings; `$(x)` macros are expanded at job start). */
export interface VariableDeclaration {
  name: string;
  value: string;
  readonly?: boolean;
}

/** Where a YAML node came from, for error messages: `stages[0].jobs[1].steps[2].inputs`. */
export type YamlPath = string;

export interface StepBase {
  /** `name:` — needed to reference output variables as `$(name.var)`. Generated (`__step<N>`) when absent. */
  name: string;
  /** True when the YAML gave `name:` (only then may later steps reference its outputs). */
  named: boolean;
  displayName?: string;
  /** Raw condition text; default `succeeded()`. */
  condition?: string;
  continueOnError: boolean;
  enabled: boolean;
  timeoutInMinutes?: number;
  /** `env:` values (unexpanded). */
  env: Record<string, string>;
  path: YamlPath;
}

/** `task:`, `bash:` (→ Bash@3 inline) and `script:` (→ CmdLine@2) all become task steps. */
export interface TaskStep extends StepBase {
  kind: 'task';
  /** As written: `Name@Major`, a GUID@Major or a fully-qualified name, e.g. `CloudFormationCreateOrUpdateStack@1`. */
  task: string;
  /** Input values as written (strings; YAML booleans/numbers stringified the way the server does: `true`, `5`). */
  inputs: Record<string, string>;
}

export interface CheckoutStep extends StepBase {
  kind: 'checkout';
  /** `self` or `none`. */
  repository: string;
}

export type Step = TaskStep | CheckoutStep;

export interface Job {
  /** `job:` name; `Job` for the implicit job. */
  name: string;
  displayName?: string;
  dependsOn: string[];
  condition?: string;
  continueOnError: boolean;
  timeoutInMinutes: number;
  variables: VariableDeclaration[];
  /** Kept for the record only (the local runner has one agent). */
  pool?: unknown;
  steps: Step[];
  path: YamlPath;
}

export interface Stage {
  /** `stage:` name; `__default` for the implicit stage. */
  name: string;
  displayName?: string;
  /** Default: the previous stage (stages are sequential unless dependsOn says otherwise); `[]` for the first. */
  dependsOn: string[];
  condition?: string;
  variables: VariableDeclaration[];
  jobs: Job[];
  path: YamlPath;
}

export interface BranchFilter {
  include: string[];
  exclude: string[];
}

export interface Trigger {
  /** `none` disables the trigger. */
  enabled: boolean;
  branches: BranchFilter;
  paths: BranchFilter;
  tags: BranchFilter;
  batch: boolean;
}

export interface Pipeline {
  /** Root `name:` — the build number format, default `$(Date:yyyyMMdd)$(Rev:.r)`. */
  name?: string;
  trigger: Trigger;
  pr: Trigger;
  variables: VariableDeclaration[];
  stages: Stage[];
  /** The file it was loaded from (absolute), for messages. */
  file: string;
}

/** What a finished job exposes to later jobs/stages through `dependencies` and `stageDependencies`. */
export interface JobOutcome {
  result: TaskResult;
  /** Keyed `step.var` (as the agent stores output variables). */
  outputs: Record<string, string>;
}

/** What a finished stage exposes to later stages through `dependencies.<stage>`. */
export interface StageOutcome {
  result: TaskResult;
  jobs: Record<string, JobOutcome>;
}
