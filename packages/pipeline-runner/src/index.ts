/**
 * @keyless/pipeline-runner: runs an azure-pipelines.yml locally the way Azure Pipelines does — the real
 * built tasks, the agent's variables, environment, logging commands, masking and result rules — and
 * leaves a masked log and a JSON run record.
 */
export { runPipeline, jobConcurrency } from './run/pipeline';
export type { RunPipelineOptions } from './run/pipeline';
export type { RunRecord, StageRecord, JobRecord, RunCounts } from './run/record';
export type { StepRecord, StepIssue, StepVariableChange } from './run/job-runtime';
export { exitCodeFor } from './run/results';
export { BuildNumberError } from './run/build-number';
export { RunnerStateError } from './run/state';
export { MissingTaskError } from './run/task-check';
export {
  loadAgentSettings,
  parseAgentSettings,
  defaultAgentSettings,
  AgentSettingsError,
} from './agent-settings';
export type { AgentSettings, ServiceConnection } from './agent-settings';
export { loadPipelineFile, PipelineSyntaxError, PipelineFileError } from './pipeline/load';
export { VariableCycleError } from './variables';
export { TaskDefinitionError } from './tasks/catalog';
export type { Pipeline, TaskResult } from './model';
