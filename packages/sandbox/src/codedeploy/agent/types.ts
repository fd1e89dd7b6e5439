/**
 * The CodeDeploy agent as it runs on one sandbox instance (or on a throwaway local instance for
 * `keyless codedeploy local`), faithful to aws-codedeploy-agent: bundle download and unpack, appspec rules,
 * re-rooted file install with cleanup and fileExistsBehavior, hooks as real processes with the agent's
 * environment, timeouts, previous-revision ApplicationStop/BlockTraffic hooks, diagnostics and logs.
 */
export type LifecycleEventName =
  | 'ApplicationStop'
  | 'DownloadBundle'
  | 'BeforeInstall'
  | 'Install'
  | 'AfterInstall'
  | 'ApplicationStart'
  | 'ValidateService'
  | 'BeforeBlockTraffic'
  | 'BlockTraffic'
  | 'AfterBlockTraffic'
  | 'BeforeAllowTraffic'
  | 'AllowTraffic'
  | 'AfterAllowTraffic';

export type BundleType = 'zip' | 'tar' | 'tgz';

export type RevisionLocation =
  | { kind: 's3'; bucket: string; key: string; bundleType: BundleType; eTag?: string; version?: string }
  /** `codedeploy local`: a directory used as the unpacked bundle, or an archive on disk. */
  | { kind: 'directory'; path: string }
  | { kind: 'archive'; path: string; bundleType: BundleType };

export interface AgentDeployment {
  deploymentId: string;
  applicationName: string;
  deploymentGroupName: string;
  deploymentGroupId: string;
  revision: RevisionLocation;
  fileExistsBehavior: 'DISALLOW' | 'OVERWRITE' | 'RETAIN';
  ignoreApplicationStopFailures?: boolean;
}

export type DiagnosticsErrorCode =
  'Success' | 'ScriptMissing' | 'ScriptNotExecutable' | 'ScriptTimedOut' | 'ScriptFailed' | 'UnknownError';

export interface LifecycleEventResult {
  lifecycleEventName: LifecycleEventName;
  status: 'Succeeded' | 'Failed' | 'Skipped';
  startTime: Date;
  endTime: Date;
  diagnostics: {
    errorCode: DiagnosticsErrorCode;
    scriptName: string;
    message: string;
    /** The last ~2 KB of the scripts' `[stdout]`/`[stderr]` lines for this event. */
    logTail: string;
  };
}

/**
 * The agent for one instance (implemented in ./instance-agent.ts):
 *
 *   new InstanceAgent({ instanceId, rootDir, port, fetchObject, clock, log, trackProcessGroup })
 *     fetchObject(bucket, key) → path of the object's bytes (sandbox S3) or undefined if missing
 *   agent.runEvent(deployment: AgentDeployment, event: LifecycleEventName): Promise<LifecycleEventResult>
 *     ApplicationStop / BeforeBlockTraffic / AfterBlockTraffic use the last *successful* deployment's appspec
 *     and scripts for this deployment group (nothing on a first deployment); DownloadBundle fetches and unpacks;
 *     Install copies files; other events run the hooks of this deployment's appspec. BlockTraffic/AllowTraffic
 *     are not scriptable (the CodeDeploy service does the load-balancer part).
 *   agent.markSucceeded(deployment): records it as the group's last successful install (agent's
 *     deployment-instructions), after the whole deployment succeeded on this instance.
 *
 * Hook environment: LIFECYCLE_EVENT, DEPLOYMENT_ID, APPLICATION_NAME, DEPLOYMENT_GROUP_NAME,
 * DEPLOYMENT_GROUP_ID, BUNDLE_BUCKET/KEY/VERSION/ETAG (S3 revisions), plus KEYLESS_INSTANCE_ROOT (the instance's
 * "/", so scripts can re-root paths: "${KEYLESS_INSTANCE_ROOT:-}/var/www") and KEYLESS_INSTANCE_PORT (the port
 * the app must listen on: "${KEYLESS_INSTANCE_PORT:-80}"). On a real instance both are unset, so the same
 * scripts work there unchanged.
 */
export type InstanceAgentDocs = never;
