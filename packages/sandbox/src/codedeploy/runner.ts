import { AwsError } from '../aws/errors';
import type { Clock } from '../clock';
import type { LoadBalancing } from '../elb/types';
import type { Fleet } from '../fleet/types';
import type { AgentDeployment, LifecycleEventName } from './agent/types';
import type { AgentPool } from './agents';
import type { ApplicationStore } from './applications';
import type { BlueFleet } from './blue-green';
import { runBlueGreen } from './blue-green';
import type { DeploymentConfigStore } from './configs';
import type { DeploymentGroupStore } from './deployment-groups';
import type { DeploymentStore } from './deployments';
import type { Outcome, PhaseContext, WaitType } from './execution';
import { ContinuableWait, MANUAL_STOP_MESSAGE } from './execution';
import { runInPlace } from './in-place';
import type { RunContext } from './lifecycle';
import { runEvents, skipTarget } from './lifecycle';
import type {
  AutoRollbackConfiguration,
  DeploymentCreator,
  DeploymentGroupRecord,
  DeploymentRecord,
  FileExistsBehavior,
  RevisionLocation,
  RollbackInfo,
  TargetInstances,
} from './model';
import { newDeploymentId, revisionKey } from './model';
import type { EndReason } from './rollback';
import {
  NO_ROLLBACK_TARGET_MESSAGE,
  rollbackFailedMessage,
  rollbackMessage,
  rollbackWanted,
  triggeringMessage,
} from './rollback';
import { newTarget } from './targets';
import { TrafficControl } from './traffic';

/**
 * Deployments in the background: creation (with the synchronous checks), the status machine
 * Created → InProgress → (Ready) → Succeeded | Failed | Stopped, StopDeployment / ContinueDeployment, and
 * automatic rollback once a deployment has ended.
 */

export interface CodeDeployState {
  applications: ApplicationStore;
  groups: DeploymentGroupStore;
  configs: DeploymentConfigStore;
  deployments: DeploymentStore;
}

export interface RunnerEnvironment {
  accountId: string;
  region: string;
  clock: Clock;
  fleet: Fleet;
  elb: LoadBalancing;
  log(line: string): void;
}

export interface NewDeployment {
  applicationName: string;
  deploymentGroupName: string;
  revision: RevisionLocation;
  deploymentConfigName?: string;
  description?: string;
  ignoreApplicationStopFailures?: boolean;
  updateOutdatedInstancesOnly?: boolean;
  targetInstances?: TargetInstances;
  autoRollbackConfiguration?: AutoRollbackConfiguration;
  fileExistsBehavior?: FileExistsBehavior;
  creator: DeploymentCreator;
  rollbackInfo?: RollbackInfo;
}

const RESTORE_EVENTS: LifecycleEventName[] = ['AllowTraffic'];

interface Execution {
  deployment: DeploymentRecord;
  controller: AbortController;
  waits: ContinuableWait;
  endReason?: EndReason;
  blueFleet?: BlueFleet;
  /** Rollback of a blue/green deployment: the original fleet traffic goes back to. */
  restore?: BlueFleet;
  done?: Promise<void>;
}

export class DeploymentRunner {
  private readonly executions = new Map<string, Execution>();
  /** deploymentGroupId → instanceId → revision key of its last successful deployment in that group. */
  private readonly installedRevisions = new Map<string, Map<string, string>>();
  private closed = false;

  constructor(
    private readonly state: CodeDeployState,
    private readonly env: RunnerEnvironment,
    private readonly agents: AgentPool,
  ) {}

  /** CreateDeployment: validates, records the deployment as Created, and starts it in the background. */
  create(request: NewDeployment, restore?: BlueFleet): DeploymentRecord {
    const { applications, groups, configs, deployments } = this.state;
    applications.require(request.applicationName);
    const group = groups.require(request.applicationName, request.deploymentGroupName);
    const configName = request.deploymentConfigName ?? group.deploymentConfigName;
    configs.require(configName);
    if (
      request.revision.s3Location.bundleType === 'YAML' ||
      request.revision.s3Location.bundleType === 'JSON'
    )
      throw new AwsError(
        'InvalidRevisionException',
        `The bundle type ${request.revision.s3Location.bundleType} is not supported for the EC2/On-premises compute platform. Use tar, tgz or zip.`,
      );
    if (request.targetInstances && group.deploymentStyle.deploymentType !== 'BLUE_GREEN')
      throw new AwsError(
        'InvalidTargetInstancesException',
        'The target instance configuration is invalid. Possible causes include: Configuration data for target instances was entered for an in-place deployment.',
      );
    const blocker = deployments.active(group.deploymentGroupId);
    if (blocker)
      throw new AwsError(
        'DeploymentLimitExceededException',
        `The Deployment Group '${group.deploymentGroupName}' already has an active Deployment '${blocker.deploymentId}'`,
      );

    const now = new Date(this.env.clock.now());
    const lastGood = group.lastSuccessfulDeployment
      ? deployments.get(group.lastSuccessfulDeployment.deploymentId)
      : undefined;
    const deployment: DeploymentRecord = {
      deploymentId: newDeploymentId(),
      applicationName: request.applicationName,
      deploymentGroupName: group.deploymentGroupName,
      deploymentGroupId: group.deploymentGroupId,
      deploymentConfigName: configName,
      revision: request.revision,
      ...(lastGood ? { previousRevision: lastGood.revision } : {}),
      status: 'Created',
      createTime: now,
      ...(request.description !== undefined ? { description: request.description } : {}),
      creator: request.creator,
      ignoreApplicationStopFailures: request.ignoreApplicationStopFailures ?? false,
      updateOutdatedInstancesOnly: request.updateOutdatedInstancesOnly ?? false,
      autoRollbackConfiguration: request.autoRollbackConfiguration ??
        group.autoRollbackConfiguration ?? { enabled: false, events: [] },
      ...(request.rollbackInfo ? { rollbackInfo: request.rollbackInfo } : {}),
      deploymentStyle: { ...group.deploymentStyle },
      ...(request.targetInstances ? { targetInstances: request.targetInstances } : {}),
      instanceTerminationWaitTimeStarted: false,
      ...(group.blueGreenDeploymentConfiguration
        ? { blueGreenDeploymentConfiguration: structuredClone(group.blueGreenDeploymentConfiguration) }
        : {}),
      ...(group.loadBalancerInfo ? { loadBalancerInfo: structuredClone(group.loadBalancerInfo) } : {}),
      fileExistsBehavior: request.fileExistsBehavior ?? 'DISALLOW',
      targets: new Map(),
      targetsResolved: false,
    };
    deployments.add(deployment);
    applications.recordUse(request.applicationName, request.revision, group.deploymentGroupName, now);
    group.lastAttemptedDeployment = {
      deploymentId: deployment.deploymentId,
      status: 'Created',
      createTime: now,
    };

    const execution: Execution = {
      deployment,
      controller: new AbortController(),
      waits: new ContinuableWait(),
      ...(restore ? { restore } : {}),
    };
    this.executions.set(deployment.deploymentId, execution);
    execution.done = this.execute(execution, group).finally(() =>
      this.executions.delete(deployment.deploymentId),
    );
    return deployment;
  }

  /** StopDeployment. */
  stop(
    deployment: DeploymentRecord,
    autoRollbackEnabled: boolean | undefined,
  ): { status: string; statusMessage: string } {
    const execution = this.executions.get(deployment.deploymentId);
    if (!execution || !isRunning(deployment))
      throw new AwsError(
        'DeploymentAlreadyCompletedException',
        `The deployment ${deployment.deploymentId} has already completed.`,
      );
    const busy = [...deployment.targets.values()].some((target) => target.status === 'InProgress');
    execution.endReason = {
      kind: 'stopped-on-request',
      ...(autoRollbackEnabled !== undefined ? { autoRollbackEnabled } : {}),
    };
    execution.controller.abort(new Error('StopDeployment'));
    return busy
      ? {
          status: 'Pending',
          statusMessage: 'Stopping Pending. Stopping to schedule commands in the deployment instances',
        }
      : {
          status: 'Succeeded',
          statusMessage: 'No more commands will be scheduled for execution in the deployment instances',
        };
  }

  /** ContinueDeployment. */
  continue(deployment: DeploymentRecord, waitType: WaitType): void {
    const execution = this.executions.get(deployment.deploymentId);
    if (!execution || !isRunning(deployment))
      throw new AwsError(
        'DeploymentAlreadyCompletedException',
        `The deployment ${deployment.deploymentId} has already completed.`,
      );
    const waiting = execution.waits.active;
    if (waiting === undefined)
      throw new AwsError(
        'DeploymentIsNotInReadyStateException',
        `The deployment ${deployment.deploymentId} is not in a ready state.`,
      );
    if (waiting !== waitType)
      throw new AwsError(
        'InvalidDeploymentWaitTypeException',
        `The wait type ${waitType} is invalid: the deployment is waiting in ${waiting}.`,
      );
    execution.waits.continue();
  }

  /** Sandbox close: aborts every running deployment (no rollbacks) and waits until they have wound down. */
  async stopAll(): Promise<void> {
    this.closed = true;
    const running = [...this.executions.values()];
    for (const execution of running) {
      execution.endReason = { kind: 'other' };
      execution.controller.abort(new Error('sandbox closing'));
    }
    await Promise.all(running.map((execution) => execution.done));
  }

  private async execute(execution: Execution, group: DeploymentGroupRecord): Promise<void> {
    const { deployment } = execution;
    // Created is observable: the work starts on a later turn, as the real service picks deployments up.
    await new Promise((resolve) => setImmediate(resolve));
    let outcome: Outcome;
    try {
      if (execution.controller.signal.aborted) {
        outcome = { status: 'Stopped', error: { code: 'MANUAL_STOP', message: MANUAL_STOP_MESSAGE } };
      } else {
        deployment.status = 'InProgress';
        deployment.startTime = new Date(this.env.clock.now());
        group.lastAttemptedDeployment = {
          deploymentId: deployment.deploymentId,
          status: 'InProgress',
          createTime: deployment.createTime,
        };
        outcome = await this.runPhases(execution, group);
      }
    } catch (error) {
      this.env.log(
        `codedeploy ${deployment.deploymentId} internal error: ${(error as Error).stack ?? String(error)}`,
      );
      outcome = {
        status: 'Failed',
        error: { code: 'INTERNAL_ERROR', message: `An internal error occurred: ${(error as Error).message}` },
      };
    }
    await this.finish(execution, group, outcome);
  }

  private async runPhases(execution: Execution, group: DeploymentGroupRecord): Promise<Outcome> {
    const { deployment } = execution;
    const config = this.state.configs.require(deployment.deploymentConfigName);
    const agentDeployment = toAgentDeployment(deployment);
    const installed = this.installedRevisionsOf(deployment.deploymentGroupId);
    const ctx: PhaseContext = {
      deployment,
      agentDeployment,
      agents: this.agents,
      traffic: new TrafficControl(this.env.elb, deployment.loadBalancerInfo),
      clock: this.env.clock,
      signal: execution.controller.signal,
      log: this.env.log,
      group,
      config,
      fleet: this.env.fleet,
      waits: execution.waits,
      upToDate: (instanceId) => installed.get(instanceId) === revisionKey(deployment.revision),
      instanceSucceeded: async (instanceId) => {
        await this.agents.agentFor(instanceId).markSucceeded(agentDeployment);
        installed.set(instanceId, revisionKey(deployment.revision));
      },
    };
    const arnPrefix = `arn:aws:ec2:${this.env.region}:${this.env.accountId}:instance/`;
    if (execution.restore) return this.restoreBlueFleet(ctx, execution.restore, arnPrefix);
    if (deployment.deploymentStyle.deploymentType === 'BLUE_GREEN')
      return runBlueGreen(ctx, arnPrefix, (blue) => {
        execution.blueFleet = blue;
      });
    return runInPlace(ctx, arnPrefix);
  }

  /**
   * The rollback of a blue/green deployment: the original instances are (still, or again) what the load balancer
   * serves, so rolling back is sending traffic to them, quickly.
   */
  private async restoreBlueFleet(ctx: RunContext, blue: BlueFleet, arnPrefix: string): Promise<Outcome> {
    const { deployment } = ctx;
    const now = () => new Date(ctx.clock.now());
    const live = blue.instanceIds.filter((id) => this.env.fleet.instance(id)?.state === 'running');
    // Only the service's part: the original instances never received this deployment's bundle to run hooks from.
    for (const id of live)
      deployment.targets.set(id, newTarget(id, arnPrefix, RESTORE_EVENTS, now(), 'Green'));
    deployment.targetsResolved = true;
    if (live.length === 0)
      return {
        status: 'Failed',
        error: {
          code: 'NO_INSTANCES',
          message: 'The original instances of the failed deployment no longer exist.',
        },
      };
    const outcomes = await Promise.all(
      [...deployment.targets.values()].map((target) => runEvents(ctx, target, RESTORE_EVENTS)),
    );
    if (outcomes.includes('Aborted'))
      return { status: 'Stopped', error: { code: 'MANUAL_STOP', message: MANUAL_STOP_MESSAGE } };
    if (outcomes.includes('Failed'))
      return {
        status: 'Failed',
        error: {
          code: 'HEALTH_CONSTRAINTS',
          message: 'Traffic could not be rerouted back to the original instances.',
        },
      };
    return { status: 'Succeeded' };
  }

  private async finish(execution: Execution, group: DeploymentGroupRecord, outcome: Outcome): Promise<void> {
    const { deployment } = execution;
    const now = new Date(this.env.clock.now());
    for (const target of deployment.targets.values()) skipTarget(target, now);
    deployment.status = outcome.status;
    if (outcome.status !== 'Succeeded') deployment.errorInformation = outcome.error;
    deployment.completeTime = now;
    const info = {
      deploymentId: deployment.deploymentId,
      status: deployment.status,
      createTime: deployment.createTime,
      endTime: now,
    };
    group.lastAttemptedDeployment = info;
    if (outcome.status === 'Succeeded') {
      group.lastSuccessfulDeployment = info;
      group.targetRevision = deployment.revision;
    }
    this.env.log(
      `codedeploy ${deployment.deploymentId} ${deployment.status}${deployment.errorInformation ? ` (${deployment.errorInformation.code})` : ''}`,
    );

    if (outcome.status === 'Succeeded' || this.closed) return;
    const reason: EndReason =
      execution.endReason ?? (outcome.status === 'Failed' ? { kind: 'failed' } : { kind: 'other' });
    if (!rollbackWanted(deployment, deployment.autoRollbackConfiguration, reason)) return;
    this.startRollback(execution, group);
  }

  private startRollback(execution: Execution, group: DeploymentGroupRecord): void {
    const { deployment } = execution;
    const lastGood = group.lastSuccessfulDeployment
      ? this.state.deployments.get(group.lastSuccessfulDeployment.deploymentId)
      : undefined;
    if (!lastGood) {
      deployment.rollbackInfo = { rollbackMessage: NO_ROLLBACK_TARGET_MESSAGE };
      return;
    }
    const blueGreen = deployment.deploymentStyle.deploymentType === 'BLUE_GREEN';
    try {
      const rollback = this.create(
        {
          applicationName: deployment.applicationName,
          deploymentGroupName: group.deploymentGroupName,
          revision: lastGood.revision,
          deploymentConfigName: deployment.deploymentConfigName,
          ignoreApplicationStopFailures: deployment.ignoreApplicationStopFailures,
          fileExistsBehavior: deployment.fileExistsBehavior,
          autoRollbackConfiguration: deployment.autoRollbackConfiguration ?? { enabled: false, events: [] },
          creator: 'codeDeployRollback',
          rollbackInfo: {
            rollbackTriggeringDeploymentId: deployment.deploymentId,
            rollbackMessage: rollbackMessage(deployment.deploymentId, lastGood.deploymentId),
          },
        },
        blueGreen ? (execution.blueFleet ?? { instanceIds: [] }) : undefined,
      );
      deployment.rollbackInfo = {
        rollbackDeploymentId: rollback.deploymentId,
        rollbackMessage: triggeringMessage(rollback.deploymentId),
      };
    } catch (error) {
      deployment.rollbackInfo = { rollbackMessage: rollbackFailedMessage((error as Error).message) };
    }
  }

  private installedRevisionsOf(deploymentGroupId: string): Map<string, string> {
    let installed = this.installedRevisions.get(deploymentGroupId);
    if (!installed) {
      installed = new Map();
      this.installedRevisions.set(deploymentGroupId, installed);
    }
    return installed;
  }
}

function isRunning(deployment: DeploymentRecord): boolean {
  return ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'].includes(deployment.status);
}

function toAgentDeployment(deployment: DeploymentRecord): AgentDeployment {
  const s3 = deployment.revision.s3Location;
  return {
    deploymentId: deployment.deploymentId,
    applicationName: deployment.applicationName,
    deploymentGroupName: deployment.deploymentGroupName,
    deploymentGroupId: deployment.deploymentGroupId,
    revision: {
      kind: 's3',
      bucket: s3.bucket,
      key: s3.key,
      // YAML/JSON are refused at CreateDeployment for this compute platform.
      bundleType: s3.bundleType as 'zip' | 'tar' | 'tgz',
      ...(s3.eTag !== undefined ? { eTag: s3.eTag } : {}),
      ...(s3.version !== undefined ? { version: s3.version } : {}),
    },
    fileExistsBehavior: deployment.fileExistsBehavior,
    ignoreApplicationStopFailures: deployment.ignoreApplicationStopFailures,
  };
}
