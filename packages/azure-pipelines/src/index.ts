export { runTask } from './run-task';
export type { TaskContext, TaskOutcome } from './run-task';
export { TaskInputs } from './inputs';
export { TaskReporter } from './reporter';
export {
  credentialOptionsForTask,
  readPipelineVariables,
  endpointTypeName,
  authModes,
  ServiceConnectionError,
  NoCredentialsConfiguredError,
} from './credentials';
export { publishOutput, publishStackOutputs } from './outputs';
export type { CaptureMode } from './outputs';
export { uploadSummary, table, cell } from './summary';
