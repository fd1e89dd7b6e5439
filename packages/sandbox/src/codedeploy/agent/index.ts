export { InstanceAgent } from './instance-agent';
export type { InstanceAgentOptions } from './instance-agent';
export {
  AppSpecError,
  DEFAULT_SCRIPT_TIMEOUT_SECONDS,
  MAX_SCRIPT_TIMEOUT_SECONDS,
  SCRIPTABLE_EVENTS,
  parseAppSpec,
} from './appspec';
export type {
  AppSpec,
  AppSpecFile,
  AppSpecPermission,
  AppSpecScript,
  FileExistsBehavior,
  ScriptableEventName,
} from './appspec';
export type { FetchObject, FetchedObject } from './bundle';
export { AGENT_LOG, DEPLOYMENT_ROOT, InstanceLayout } from './layout';
export type {
  AgentDeployment,
  BundleType,
  DiagnosticsErrorCode,
  LifecycleEventName,
  LifecycleEventResult,
  RevisionLocation,
} from './types';
