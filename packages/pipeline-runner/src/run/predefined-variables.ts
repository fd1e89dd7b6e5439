/**
 * The predefined variables the agent and server give every job (§2, §4 "Predefined values"): Agent.*,
 * Build.*, Pipeline.Workspace, System.* and TF_BUILD. System, Build and Agent variables are read-only to
 * pipelines; System.AccessToken is a secret.
 */
import { arch, hostname, platform, userInfo } from 'node:os';
import type { AgentSettings } from '../agent-settings';
import type { JobDirectories } from './job-runtime';
import type { RunDirectories } from './directories';

export interface PredefinedValue {
  name: string;
  value: string;
  secret: boolean;
  readonly: boolean;
}

/** What is fixed for the whole run. */
export interface RunFacts {
  buildId: number;
  buildNumber: string;
  definitionName: string;
  reason: string;
  sourceBranch: string;
  sourceVersion: string;
  repositoryName: string;
  requestedFor: string;
  planId: string;
  debug: boolean;
  agent: AgentSettings;
  directories: RunDirectories;
}

/** What differs per job. */
export interface JobFacts {
  stageName: string;
  stageDisplayName: string;
  jobName: string;
  jobDisplayName: string;
  jobId: string;
  directories: JobDirectories;
}

/**
 * Variables the runner itself keeps current during a job. They are not marked read-only in the store
 * (which has no override for its own writes); the runner refuses YAML and queue-time values for them.
 */
export const runnerOwnedVariables = {
  jobStatus: 'Agent.JobStatus',
  buildNumber: 'Build.BuildNumber',
} as const;

export function predefinedVariables(run: RunFacts, job: JobFacts): PredefinedValue[] {
  const { agent } = run;
  const collectionUri = agent.collectionUri;
  const oidcRequestUri =
    `${collectionUri}${agent.teamProjectId}/_apis/distributedtask/hubs/build/plans/${run.planId}` +
    `/jobs/${job.jobId}/oidctoken`;
  const values: Array<[string, string]> = [
    ['Agent.BuildDirectory', run.directories.build],
    ['Agent.HomeDirectory', run.directories.work],
    ['Agent.Id', '1'],
    ['Agent.JobName', job.jobDisplayName],
    [runnerOwnedVariables.jobStatus, 'Succeeded'],
    ['Agent.MachineName', hostname()],
    ['Agent.Name', agent.agentName ?? 'keyless-local'],
    ['Agent.OS', osName()],
    ['Agent.OSArchitecture', architecture()],
    ['Agent.TempDirectory', job.directories.temp],
    ['Agent.ToolsDirectory', run.directories.tools],
    ['Agent.WorkFolder', run.directories.work],
    ['Build.ArtifactStagingDirectory', run.directories.staging],
    ['Build.BinariesDirectory', run.directories.binaries],
    ['Build.BuildId', String(run.buildId)],
    [runnerOwnedVariables.buildNumber, run.buildNumber],
    ['Build.BuildUri', `vstfs:///Build/Build/${run.buildId}`],
    ['Build.DefinitionName', run.definitionName],
    ['Build.DefinitionVersion', '1'],
    ['Build.QueuedBy', run.requestedFor],
    ['Build.Reason', run.reason],
    ['Build.Repository.LocalPath', run.directories.sources],
    ['Build.Repository.Name', run.repositoryName],
    ['Build.Repository.Provider', 'TfsGit'],
    [
      'Build.Repository.Uri',
      `${collectionUri}${encodeURIComponent(agent.teamProject)}/_git/${encodeURIComponent(run.repositoryName)}`,
    ],
    ['Build.RequestedFor', run.requestedFor],
    ['Build.SourceBranch', run.sourceBranch],
    ['Build.SourceBranchName', sourceBranchName(run.sourceBranch)],
    ['Build.SourceVersion', run.sourceVersion],
    ['Build.SourcesDirectory', run.directories.sources],
    ['Build.StagingDirectory', run.directories.staging],
    ['Pipeline.Workspace', run.directories.build],
    ['System.ArtifactsDirectory', run.directories.staging],
    ['System.CollectionUri', collectionUri],
    ['System.DefaultWorkingDirectory', run.directories.sources],
    ['System.DefinitionId', '1'],
    ['System.HostType', 'build'],
    ['System.JobAttempt', '1'],
    ['System.JobDisplayName', job.jobDisplayName],
    ['System.JobId', job.jobId],
    ['System.JobName', job.jobName],
    ['System.OidcRequestUri', oidcRequestUri],
    ['System.PhaseDisplayName', job.jobDisplayName],
    ['System.PhaseName', job.jobName],
    ['System.PlanId', run.planId],
    ['System.ServerType', 'Hosted'],
    ['System.StageAttempt', '1'],
    ['System.StageDisplayName', job.stageDisplayName],
    ['System.StageName', job.stageName],
    ['System.TeamFoundationCollectionUri', collectionUri],
    ['System.TeamProject', agent.teamProject],
    ['System.TeamProjectId', agent.teamProjectId],
    ['System.TimelineId', run.planId],
    ['System.WorkFolder', run.directories.work],
    ['TF_BUILD', 'True'],
  ];
  const owned = new Set<string>(Object.values(runnerOwnedVariables));
  return [
    ...values.map(([name, value]) => ({ name, value, secret: false, readonly: !owned.has(name) })),
    { name: 'System.AccessToken', value: agent.accessToken, secret: true, readonly: true },
    // A queue-time variable, not a system one: `--var System.Debug=true` must be able to set it.
    { name: 'System.Debug', value: run.debug ? 'true' : 'false', secret: false, readonly: false },
  ];
}

/** Build.SourceBranchName: the last path segment of the branch (`refs/heads/feature/x` → `x`). */
export function sourceBranchName(branch: string): string {
  return branch.split('/').filter(Boolean).pop() ?? branch;
}

/** A branch name as Build.SourceBranch shows it. */
export function qualifiedBranch(branch: string): string {
  return branch.startsWith('refs/') ? branch : `refs/heads/${branch}`;
}

/** Build.RequestedFor: the local user (there is no Azure DevOps identity). */
export function localUser(env: NodeJS.ProcessEnv): string {
  try {
    return userInfo().username;
  } catch {
    return env['USER'] ?? env['USERNAME'] ?? 'local';
  }
}

function osName(): string {
  const name = platform();
  return name === 'win32' ? 'Windows_NT' : name === 'darwin' ? 'Darwin' : 'Linux';
}

function architecture(): string {
  const names: Record<string, string> = { x64: 'X64', arm64: 'ARM64', ia32: 'X86', arm: 'ARM' };
  return names[arch()] ?? arch().toUpperCase();
}
