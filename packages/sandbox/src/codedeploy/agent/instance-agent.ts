import { existsSync } from 'node:fs';
import { appendFileSync, mkdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { dirname } from 'node:path';
import { AgentError, toAgentError } from './agent-error';
import { AppSpecError, parseAppSpec } from './appspec';
import type { AppSpec, ScriptableEventName } from './appspec';
import { downloadBundle, readAppSpecText } from './bundle';
import type { FetchObject } from './bundle';
import { runHooks } from './hooks';
import { installRevision } from './install';
import { InstanceLayout, deploymentFiles } from './layout';
import type { Clock } from '../../clock';
import type { AgentDeployment, LifecycleEventName, LifecycleEventResult } from './types';

export interface InstanceAgentOptions {
  instanceId: string;
  /** The instance's "/". */
  rootDir: string;
  /** The port the instance's application listens on (its "port 80"), given to hooks. */
  port: number;
  /** Sandbox S3 access; required for S3 revisions only. */
  fetchObject?: FetchObject;
  clock: Clock;
  /** The sandbox's log; the agent also writes its own codedeploy-agent.log inside the instance. */
  log?: (line: string) => void;
  /**
   * Hands a hook's process group to the instance so termination kills it (while the hook runs, and after if
   * something in it survives); the returned function hands it back.
   */
  trackProcessGroup?: (pid: number) => (() => void) | void;
  /** Real milliseconds between TERM and KILL of a timed-out hook's process group. Default 2000. */
  killGraceMs?: number;
}

/** Events whose scripts come from the last successful deployment (hook_executor.rb "OldOrIgnore"). */
const PREVIOUS_REVISION_EVENTS: ReadonlySet<LifecycleEventName> = new Set([
  'ApplicationStop',
  'BeforeBlockTraffic',
  'AfterBlockTraffic',
]);

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The CodeDeploy agent of one sandbox instance (see ./types.ts for the contract). */
export class InstanceAgent {
  readonly layout: InstanceLayout;

  constructor(private readonly options: InstanceAgentOptions) {
    this.layout = new InstanceLayout(options.rootDir);
  }

  async runEvent(deployment: AgentDeployment, event: LifecycleEventName): Promise<LifecycleEventResult> {
    const startTime = new Date(this.options.clock.now());
    this.note('info', `Executing ${event} for deployment ${deployment.deploymentId}`);
    let result: Omit<LifecycleEventResult, 'startTime' | 'endTime' | 'lifecycleEventName'>;
    try {
      const logTail = await this.perform(deployment, event);
      result = {
        status: 'Succeeded',
        diagnostics: { errorCode: 'Success', scriptName: '', message: 'Succeeded', logTail },
      };
    } catch (error) {
      const failure = toAgentError(
        error instanceof AppSpecError ? new AgentError('UnknownError', error.message) : error,
      );
      this.note('error', `${event} failed for deployment ${deployment.deploymentId}: ${failure.message}`);
      const diagnostics = {
        errorCode: failure.errorCode,
        scriptName: failure.scriptName,
        message: failure.message,
        logTail: failure.logTail,
      };
      result =
        deployment.ignoreApplicationStopFailures && PREVIOUS_REVISION_EVENTS.has(event)
          ? {
              status: 'Succeeded',
              diagnostics: {
                ...diagnostics,
                errorCode: 'Success',
                message: `${event} failed and the failure was ignored (ignoreApplicationStopFailures): ${failure.message}`,
              },
            }
          : { status: 'Failed', diagnostics };
    }
    return { lifecycleEventName: event, startTime, endTime: new Date(this.options.clock.now()), ...result };
  }

  /** Records the deployment as the group's last successful install (command_executor.rb). */
  async markSucceeded(deployment: AgentDeployment): Promise<void> {
    await mkdir(this.layout.instructionsDir(), { recursive: true });
    const deploymentDir = this.layout.deploymentDir(deployment.deploymentGroupId, deployment.deploymentId);
    await writeFile(
      this.layout.lastSuccessfulInstallFile(deployment.deploymentGroupId),
      this.layout.instancePath(deploymentDir),
    );
    this.note('info', `Deployment ${deployment.deploymentId} recorded as the last successful install`);
  }

  /** Host path of the group's last successful deployment directory, if any. */
  async lastSuccessfulDeploymentDir(deploymentGroupId: string): Promise<string | undefined> {
    const recorded = await readFile(this.layout.lastSuccessfulInstallFile(deploymentGroupId), 'utf8').catch(
      () => undefined,
    );
    if (recorded === undefined || recorded.trim() === '') return undefined;
    return this.layout.hostPath(recorded.trim());
  }

  /** Returns the event's log tail. */
  private async perform(deployment: AgentDeployment, event: LifecycleEventName): Promise<string> {
    const deploymentDir = this.layout.deploymentDir(deployment.deploymentGroupId, deployment.deploymentId);
    switch (event) {
      case 'DownloadBundle':
        await downloadBundle({
          layout: this.layout,
          deployment,
          fetchObject: this.options.fetchObject,
          lastSuccessfulDeploymentDir: await this.lastSuccessfulDeploymentDir(deployment.deploymentGroupId),
          note: (level, message) => this.note(level, message),
        });
        return '';
      case 'Install': {
        const archiveDir = deploymentFiles(deploymentDir).archive;
        await installRevision({
          layout: this.layout,
          deploymentGroupId: deployment.deploymentGroupId,
          archiveDir,
          appSpec: await this.appSpecOf(archiveDir),
          fileExistsBehavior: deployment.fileExistsBehavior,
          note: (level, message) => this.note(level, message),
        });
        return '';
      }
      case 'BlockTraffic':
      case 'AllowTraffic':
        // The CodeDeploy service works the load balancer; the agent has nothing to do.
        return '';
      default:
        return this.runScripts(deployment, event, deploymentDir);
    }
  }

  private async runScripts(
    deployment: AgentDeployment,
    event: ScriptableEventName,
    currentDeploymentDir: string,
  ): Promise<string> {
    let scriptsDeploymentDir: string | undefined = currentDeploymentDir;
    // select_correct_deployment_root_dir: the previous revision's scripts, unless this one is already unpacked.
    if (PREVIOUS_REVISION_EVENTS.has(event) && !existsSync(deploymentFiles(currentDeploymentDir).archive)) {
      scriptsDeploymentDir = await this.lastSuccessfulDeploymentDir(deployment.deploymentGroupId);
      if (scriptsDeploymentDir === undefined) {
        this.note('info', `No last successful deployment for ${event}: nothing to run`);
        return '';
      }
    }
    const files = deploymentFiles(scriptsDeploymentDir);
    const appSpec = await this.appSpecOf(files.archive);
    return runHooks({
      event,
      scripts: appSpec.hooks[event] ?? [],
      archiveDir: files.archive,
      scriptsLogFile: files.scriptsLog,
      rootDir: this.layout.rootDir,
      env: this.hookEnvironment(deployment, event),
      clock: this.options.clock,
      killGraceMs: this.options.killGraceMs ?? 2000,
      trackProcessGroup: (pid) => this.options.trackProcessGroup?.(pid),
      note: (level, message) => this.note(level, message),
    });
  }

  private async appSpecOf(archiveDir: string): Promise<AppSpec> {
    return parseAppSpec(await readAppSpecText(this.layout, archiveDir));
  }

  /** hook_executor.rb @child_envs, plus what a sandbox script needs to find its instance. Nothing else leaks. */
  private hookEnvironment(deployment: AgentDeployment, event: LifecycleEventName): Record<string, string> {
    const env: Record<string, string> = {
      LIFECYCLE_EVENT: event,
      DEPLOYMENT_ID: deployment.deploymentId,
      APPLICATION_NAME: deployment.applicationName,
      DEPLOYMENT_GROUP_NAME: deployment.deploymentGroupName,
      DEPLOYMENT_GROUP_ID: deployment.deploymentGroupId,
    };
    const revision = deployment.revision;
    if (revision.kind === 's3') {
      env['BUNDLE_BUCKET'] = revision.bucket;
      env['BUNDLE_KEY'] = revision.key;
      if (revision.version !== undefined) env['BUNDLE_VERSION'] = revision.version;
      if (revision.eTag !== undefined) env['BUNDLE_ETAG'] = revision.eTag;
    }
    env['PATH'] = process.env['PATH'] ?? DEFAULT_PATH;
    env['HOME'] = process.env['HOME'] ?? safeHomedir();
    env['KEYLESS_INSTANCE_ROOT'] = this.layout.rootDir;
    env['KEYLESS_INSTANCE_PORT'] = String(this.options.port);
    env['KEYLESS_INSTANCE_ID'] = this.options.instanceId;
    return env;
  }

  /** codedeploy-agent.log inside the instance, in the agent's format, mirrored to the sandbox log. */
  private note(level: 'info' | 'warn' | 'debug' | 'error', message: string): void {
    const line = `${isoLocal(this.options.clock.now())} ${level.toUpperCase().padEnd(5)} [codedeploy-agent(${process.pid})]: InstanceAgent::Plugins::CodeDeployPlugin: ${message}`;
    try {
      const file = this.layout.agentLog();
      mkdirSync(dirname(file), { recursive: true });
      appendFileSync(file, `${line}\n`);
    } catch {
      // A vanished instance root must not turn a lifecycle result into a crash.
    }
    if (level !== 'debug') this.options.log?.(`[${this.options.instanceId}] codedeploy-agent: ${message}`);
  }
}

function isoLocal(epochMs: number): string {
  const date = new Date(epochMs);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

function safeHomedir(): string {
  try {
    return homedir() || userInfo().homedir;
  } catch {
    return '/';
  }
}
