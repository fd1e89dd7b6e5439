export { KeylessError, InvalidInputError, isKeylessError } from './errors';
export type { Reporter, StreamReporterOptions } from './report/reporter';
export { StreamReporter, MemoryReporter } from './report/reporter';
export { SecretRegistry, encodedForms } from './report/secrets';

export { providerNames } from './credentials/types';
export type {
  ProviderName,
  TokenClaims,
  OidcToken,
  TokenSource,
  CredentialOptions,
  CallerIdentity,
  ResolvedCredentials,
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
} from './credentials/types';
export {
  TokenSourceError,
  StsRejectedError,
  StsUnavailableError,
  RegionMissingError,
  InstanceMetadataError,
  AccountNotAllowedError,
} from './credentials/errors';
export type { StsCheck } from './credentials/errors';
export { resolveCredentials, getCallerIdentity } from './credentials/resolve';
export type { ResolveContext, CallerIdentityContext } from './credentials/resolve';
export { TokenFileKeeper } from './credentials/token-file-keeper';
export type { TokenFileKeeperOptions } from './credentials/token-file-keeper';
export { createTokenSource } from './credentials/token-sources';
export type { TokenSourceContext } from './credentials/token-sources';
export { validateCredentialOptions, defaultSessionName } from './credentials/options';
export {
  explainStsError,
  classifyStsError,
  stsErrorCode,
  trustPolicyStatementFor,
} from './credentials/explain';
export type { StsCallContext } from './credentials/explain';
export { describeClaims } from './credentials/jwt';

export { resolveRegion } from './aws/region';
export { resolveEndpoint } from './aws/endpoints';
export { proxyAgentFor, proxyUrlFor } from './aws/proxy';
export { buildClientConfig } from './aws/client-config';
export type { AwsClientConfig, ClientConfigInput } from './aws/client-config';

export { poll, WaitAbortedError, CredentialsExpiredDuringWaitError, ThrottledTooLongError } from './aws/poll';
export type { PollOptions, PollStep, PollProgress, PollSchedule, PollClock } from './aws/poll';

export { deployStack } from './cloudformation/deploy';
export type {
  DeployStackOptions,
  DeployStackResult,
  DeployOutcome,
  ParameterSource,
} from './cloudformation/deploy';
export { executeChangeSet } from './cloudformation/execute-change-set';
export type {
  ExecuteChangeSetOptions,
  ExecuteChangeSetResult,
  ExecuteChangeSetOutcome,
} from './cloudformation/execute-change-set';
export { deleteStack } from './cloudformation/delete';
export type { DeleteStackOptions, DeleteStackResult } from './cloudformation/delete';
export type { CloudFormationContext } from './cloudformation/context';
export type { TemplateSource } from './cloudformation/template';
export type { ChangeSetSummary, ResourceChangeLine } from './cloudformation/changeset-summary';
export type { FailedResource } from './cloudformation/errors';
export {
  TemplateTooLargeError,
  TemplateSyntaxError,
  TemplateValidationError,
  TemplateSourceError,
  ParameterFormatError,
  ParameterValueError,
  UnknownParameterError,
  MissingParameterError,
  InsufficientCapabilitiesError,
  StackInRollbackCompleteError,
  StackNotUpdatableError,
  StackOperationFailedError,
  StackOperationTimeoutError,
  ChangeSetFailedError,
  ChangeSetNotFoundError,
  ChangeSetNotExecutableError,
  EmptyChangeSetError,
  TerminationProtectionError,
  CloudFormationRequestError,
} from './cloudformation/errors';

export { deployApplication } from './codedeploy/deploy';
export type { DeployApplicationOptions, DeployApplicationResult, RevisionSource } from './codedeploy/deploy';
export type { CodeDeployContext } from './codedeploy/context';
export { watchDeployment } from './codedeploy/watch';
export type {
  WatchOptions,
  WatchOptionNames,
  WatchResult,
  WatchOutcome,
  DeploymentProgress,
} from './codedeploy/watch';
export { instanceTimelines } from './codedeploy/timeline';
export type { InstanceTimeline, InstanceRole, LifecycleEventTiming } from './codedeploy/timeline';
export {
  checkWorkspaceAppSpec,
  checkAppSpecText,
  assertValidAppSpec,
  scriptableEvents,
} from './codedeploy/appspec';
export type { AppSpec, AppSpecCheck, AppSpecHook, BundleFiles } from './codedeploy/appspec';
export { bundleWorkspace, archiveBundleType, createExcluder, defaultExcludes } from './codedeploy/bundle';
export type { BundleOptions, BundleResult, BundleType } from './codedeploy/bundle';
export { uploadBundle, contentHashKey, describeS3Revision } from './codedeploy/upload';
export type { S3Revision, UploadedBundle, UploadOptions } from './codedeploy/upload';
export { describeFailedEvent, exitCodeFrom } from './codedeploy/diagnostics';
export { blockingDeploymentId } from './codedeploy/explain';
export type { AppSpecProblem, FailedLifecycleEvent } from './codedeploy/errors';
export {
  AppSpecInvalidError,
  BundleError,
  BundleUploadError,
  RevisionNotFoundError,
  DeploymentTargetNotFoundError,
  CodeDeployAccessDeniedError,
  CodeDeployRequestError,
  DeploymentGroupBusyError,
  DeploymentFailedError,
  DeploymentTimeoutError,
  DeploymentCancelledError,
} from './codedeploy/errors';

export { runWithCredentials, LineSplitter } from './shell/run-with-credentials';
export type { RunWithCredentialsOptions, RunResult, OutputStream } from './shell/run-with-credentials';
export { prepareChildCredentials, competingCredentialVariables } from './shell/child-credentials';
export type { ChildCredentialOptions, ChildCredentials } from './shell/child-credentials';
export { prepareScript, scriptInterpreters } from './shell/script';
export type { ScriptInterpreter, ScriptSource, ScriptOptions, PreparedScript } from './shell/script';
export { splitArguments } from './shell/arguments';
export { findExecutable } from './shell/executables';
export { ExecutableNotFoundError, ChildProcessFailedError, ChildProcessCancelledError } from './shell/errors';

export {
  uploadFiles,
  checkUploadOptions,
  parseCacheControlRules,
  objectKeyFor,
  cannedAcls,
  storageClasses,
} from './s3/upload-files';
export type {
  UploadFilesOptions,
  UploadFilesResult,
  UploadedObject,
  S3Context,
  CannedAcl,
  StorageClassName,
  ServerSideEncryption,
} from './s3/upload-files';
export { selectFiles, GlobRules } from './s3/select-files';
export type { SelectedFile } from './s3/select-files';
export { contentTypeFor } from './s3/content-types';
// Sizes as the engines print them (KiB, MiB), for front ends' summaries.
export { formatBytes } from './codedeploy/upload';
export { UploadSourceError, BucketError, FileUploadError } from './s3/errors';
