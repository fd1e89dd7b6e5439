import type { Instance } from '../fleet/types';
import { discoverInstances } from './discovery';
import type { Outcome, PhaseContext } from './execution';
import { failed, MANUAL_STOP_MESSAGE, NO_INSTANCES_MESSAGE } from './execution';
import { deployPaced } from './in-place';
import { ALLOW_EVENTS, BLOCK_EVENTS, INSTALL_EVENTS, runEvents } from './lifecycle';
import type { TargetRecord } from './model';
import { newTarget } from './targets';

/**
 * A blue/green deployment on EC2 (AWS's §5 sequence): provision or discover the green fleet, install on it,
 * hold at the Ready gate if asked to, reroute the load balancer from blue to green, then dispose of blue.
 */

const STOPPED: Outcome = { status: 'Stopped', error: { code: 'MANUAL_STOP', message: MANUAL_STOP_MESSAGE } };

/** The original (blue) instances of a blue/green deployment, kept so a later rollback can send traffic back. */
export interface BlueFleet {
  instanceIds: string[];
}

interface Fleets {
  blue: Instance[];
  green: Instance[];
  /** The Auto Scaling group CodeDeploy copied for green (COPY_AUTO_SCALING_GROUP), torn down if green never serves. */
  greenGroupName?: string;
  originalGroupName?: string;
}

export async function runBlueGreen(
  ctx: PhaseContext,
  instanceArnPrefix: string,
  onBlueFleet: (blue: BlueFleet) => void,
): Promise<Outcome> {
  const { deployment, group } = ctx;
  const config = deployment.blueGreenDeploymentConfiguration ?? {};
  const now = () => new Date(ctx.clock.now());

  let fleets: Fleets;
  try {
    const provisioned = await provisionGreen(ctx);
    if ('error' in provisioned) return provisioned.error;
    fleets = provisioned;
  } catch (error) {
    return failed(
      'AUTO_SCALING_CONFIGURATION',
      `The green fleet could not be provisioned: ${(error as Error).message}`,
    );
  }
  onBlueFleet({ instanceIds: fleets.blue.map((instance) => instance.instanceId) });

  const greenEvents = [...INSTALL_EVENTS, ...ALLOW_EVENTS];
  for (const instance of fleets.green) {
    deployment.targets.set(
      instance.instanceId,
      newTarget(instance.instanceId, instanceArnPrefix, greenEvents, now(), 'Green'),
    );
  }
  for (const instance of fleets.blue) {
    if (deployment.targets.has(instance.instanceId)) continue;
    deployment.targets.set(
      instance.instanceId,
      newTarget(instance.instanceId, instanceArnPrefix, BLOCK_EVENTS, now(), 'Blue'),
    );
  }
  deployment.targetsResolved = true;
  if (fleets.green.length === 0) {
    await tearDownGreen(ctx, fleets);
    return failed('NO_INSTANCES', NO_INSTANCES_MESSAGE);
  }

  const greenTargets = targetsLabelled(deployment.targets, 'Green');
  const blueTargets = targetsLabelled(deployment.targets, 'Blue');

  // 2. Install on green, paced by the deployment config; installed targets wait as Ready.
  const installed = await deployPaced(ctx, greenTargets, INSTALL_EVENTS, 'Ready');
  if (installed.status !== 'Succeeded') {
    await tearDownGreen(ctx, fleets);
    return installed;
  }
  const readyGreen = greenTargets.filter((target) => target.status === 'Ready');

  // 3. The Ready gate.
  const ready = config.deploymentReadyOption;
  if (ready?.actionOnTimeout === 'STOP_DEPLOYMENT') {
    deployment.status = 'Ready';
    let result: 'continued' | 'elapsed';
    try {
      result = await ctx.waits.wait('READY_WAIT', (ready.waitTimeInMinutes ?? 0) * 60, ctx);
    } catch {
      await tearDownGreen(ctx, fleets);
      return STOPPED;
    }
    if (result === 'elapsed') {
      await tearDownGreen(ctx, fleets);
      return {
        status: 'Stopped',
        error: {
          code: 'TIMEOUT',
          message: `The deployment was stopped because traffic was not rerouted to the replacement instances within the specified wait time (${ready.waitTimeInMinutes ?? 0} minutes).`,
        },
      };
    }
    deployment.status = 'InProgress';
  }

  // 4a. Reroute: green joins the target groups and must pass health checks while blue still serves.
  const allowed = await Promise.all(readyGreen.map((target) => runEvents(ctx, target, ALLOW_EVENTS)));
  if (allowed.includes('Aborted') || ctx.signal.aborted) {
    await quietly(() => ctx.traffic.block(readyGreen.map((t) => t.targetId)));
    await tearDownGreen(ctx, fleets);
    return STOPPED;
  }
  if (allowed.includes('Failed')) {
    await quietly(() => ctx.traffic.block(readyGreen.map((t) => t.targetId)));
    await tearDownGreen(ctx, fleets);
    return failed(
      'HEALTH_CONSTRAINTS',
      'The deployment failed because traffic could not be rerouted to the replacement instances.',
    );
  }

  // 4b. Blue leaves the target groups (draining in-flight requests).
  const blocked = await Promise.all(blueTargets.map((target) => runEvents(ctx, target, BLOCK_EVENTS)));
  if (blocked.includes('Aborted') || ctx.signal.aborted) {
    await restoreBlue(ctx, fleets);
    return STOPPED;
  }
  if (blocked.includes('Failed')) {
    await restoreBlue(ctx, fleets);
    return failed(
      'HEALTH_CONSTRAINTS',
      'The deployment failed because traffic could not be rerouted away from the original instances; traffic was sent back to them.',
    );
  }

  // 5. The deployment group now names the green fleet, which keeps its instances registered when it scales.
  const targetGroupArns = ctx.traffic.targetGroupArns();
  if (fleets.greenGroupName) {
    group.autoScalingGroups = [
      ...group.autoScalingGroups.filter(
        (name) => name !== fleets.originalGroupName && name !== fleets.greenGroupName,
      ),
      fleets.greenGroupName,
    ];
    await ctx.fleet.updateAutoScalingGroup(fleets.greenGroupName, { targetGroupArns });
  }
  if (fleets.originalGroupName && ctx.fleet.autoScalingGroup(fleets.originalGroupName)) {
    const original = ctx.fleet.autoScalingGroup(fleets.originalGroupName);
    const remaining = (original?.targetGroupArns ?? []).filter((arn) => !targetGroupArns.includes(arn));
    await ctx.fleet.updateAutoScalingGroup(fleets.originalGroupName, { targetGroupArns: remaining });
  }
  for (const target of readyGreen) await ctx.instanceSucceeded(target.targetId);

  // 6. Blue disposal.
  const termination = config.terminateBlueInstancesOnDeploymentSuccess;
  if ((termination?.action ?? 'TERMINATE') === 'TERMINATE') {
    deployment.instanceTerminationWaitTimeStarted = true;
    try {
      await ctx.waits.wait('TERMINATION_WAIT', (termination?.terminationWaitTimeInMinutes ?? 0) * 60, ctx);
    } catch {
      await restoreBlue(ctx, fleets);
      return STOPPED;
    }
    if (fleets.originalGroupName) await ctx.fleet.deleteAutoScalingGroup(fleets.originalGroupName);
    else if (fleets.blue.length > 0) await ctx.fleet.terminateInstances(fleets.blue.map((i) => i.instanceId));
  }
  return { status: 'Succeeded' };
}

function targetsLabelled(targets: Map<string, TargetRecord>, label: 'Blue' | 'Green'): TargetRecord[] {
  return [...targets.values()].filter((target) => target.label === label);
}

async function provisionGreen(ctx: PhaseContext): Promise<Fleets | { error: Outcome }> {
  const { deployment, group, fleet } = ctx;
  const action =
    deployment.blueGreenDeploymentConfiguration?.greenFleetProvisioningOption?.action ?? 'DISCOVER_EXISTING';
  const blue = discoverInstances(fleet, group);
  if (action === 'DISCOVER_EXISTING') {
    const selector = deployment.targetInstances ?? {};
    const green = discoverInstances(fleet, {
      ec2TagFilters: selector.tagFilters ?? [],
      ...(selector.ec2TagSet ? { ec2TagSet: selector.ec2TagSet } : {}),
      autoScalingGroups: selector.autoScalingGroups ?? [],
    });
    const greenIds = new Set(green.map((i) => i.instanceId));
    return { blue: blue.filter((i) => !greenIds.has(i.instanceId)), green };
  }
  const originalGroupName = group.autoScalingGroups[0];
  const original = originalGroupName === undefined ? undefined : fleet.autoScalingGroup(originalGroupName);
  if (!original || !originalGroupName) return { error: failed('NO_INSTANCES', NO_INSTANCES_MESSAGE) };
  // The copy is not in service until AllowTraffic: it gets the target groups only once traffic moves.
  const greenGroupName = `CodeDeploy_${group.deploymentGroupName}_${deployment.deploymentId}`;
  const green = await fleet.createAutoScalingGroup({
    name: greenGroupName,
    launchTemplate: { ...original.launchTemplate },
    minSize: original.minSize,
    maxSize: original.maxSize,
    desiredCapacity: original.desiredCapacity,
    targetGroupArns: [],
    vpcZoneIdentifier: [...original.vpcZoneIdentifier],
    tags: { ...original.tags },
  });
  const greenInstances = green.instanceIds
    .map((id) => fleet.instance(id))
    .filter((instance): instance is Instance => instance !== undefined && instance.state === 'running');
  // Blue was discovered before the copy existed, so instances tagged like the original are not mistaken for it.
  return {
    blue,
    green: greenInstances,
    greenGroupName,
    originalGroupName,
  };
}

/** Before the reroute the original fleet never stopped serving: the copied green group just goes away. */
async function tearDownGreen(ctx: PhaseContext, fleets: Fleets): Promise<void> {
  if (fleets.greenGroupName)
    await quietly(() => ctx.fleet.deleteAutoScalingGroup(fleets.greenGroupName as string));
}

/** After the reroute: traffic goes back to blue, green leaves the target groups (and is left running, as AWS leaves it). */
async function restoreBlue(ctx: PhaseContext, fleets: Fleets): Promise<void> {
  await quietly(() => ctx.traffic.allow(fleets.blue.map((i) => i.instanceId)));
  await quietly(() => ctx.traffic.block(fleets.green.map((i) => i.instanceId)));
}

async function quietly(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch {
    // Best effort: the deployment's outcome is already decided.
  }
}
