export { runTask } from './run-task';
export type { TaskContext, TaskOutcome, RunTaskOptions } from './run-task';
export { TaskInputs } from './inputs';
export { TaskReporter } from './reporter';
export {
  credentialOptionsForTask,
  azureDevOpsOidcRequest,
  readPipelineVariables,
  endpointTypeName,
  authModes,
  ServiceConnectionError,
  NoCredentialsConfiguredError,
} from './credentials';
export type { CommonCredentialOptions } from './credentials';
export {
  codeDeployTaskOutputs,
  publishOutput,
  publishVariable,
  publishStackOutputs,
  outputVariableCollision,
} from './outputs';
export type { CaptureMode } from './outputs';
export { uploadSummary, table, cell } from './summary';
export { runChildWithTaskCredentials, forwardChildLine } from './child-process';
export type { TaskChildOptions } from './child-process';
export {
  readStackOutputSettings,
  publishStackResult,
  stackTaskOutputs,
  describeOutputs,
  stackSummaryMarkdown,
} from './stack-results';
export type { StackOutputSettings, StackSummary } from './stack-results';
