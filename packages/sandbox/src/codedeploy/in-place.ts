import type { Instance } from '../fleet/types';
import { batches, healthPlan, healthy, HEALTH_CONSTRAINTS_MESSAGE } from './configs';
import { discoverInstances } from './discovery';
import type { Outcome, PhaseContext } from './execution';
import { failed, MANUAL_STOP_MESSAGE, NO_INSTANCES_MESSAGE } from './execution';
import type { LifecycleEventName } from './agent/types';
import { ALLOW_EVENTS, BLOCK_EVENTS, INSTALL_EVENTS, runEvents } from './lifecycle';
import type { TargetRecord } from './model';
import { newTarget } from './targets';

/** An in-place deployment: every target instance runs the lifecycle, paced and judged by the deployment config. */

export function inPlaceEvents(withTrafficControl: boolean): LifecycleEventName[] {
  return withTrafficControl ? [...BLOCK_EVENTS, ...INSTALL_EVENTS, ...ALLOW_EVENTS] : [...INSTALL_EVENTS];
}

export async function runInPlace(ctx: PhaseContext, instanceArnPrefix: string): Promise<Outcome> {
  const { deployment, group } = ctx;
  const discovered = discoverInstances(ctx.fleet, group);
  const instances: Instance[] = deployment.updateOutdatedInstancesOnly
    ? discovered.filter((instance) => !ctx.upToDate(instance.instanceId))
    : discovered;
  const events = inPlaceEvents(deployment.deploymentStyle.deploymentOption === 'WITH_TRAFFIC_CONTROL');
  const now = () => new Date(ctx.clock.now());
  for (const instance of instances) {
    deployment.targets.set(
      instance.instanceId,
      newTarget(instance.instanceId, instanceArnPrefix, events, now()),
    );
  }
  deployment.targetsResolved = true;
  if (discovered.length === 0) return failed('NO_INSTANCES', NO_INSTANCES_MESSAGE);
  // Every instance already runs this revision: nothing to do.
  if (instances.length === 0) return { status: 'Succeeded' };
  return deployPaced(ctx, [...deployment.targets.values()], events, 'Succeeded');
}

/**
 * Runs `events` on the targets batch by batch as the deployment config paces them, and judges the result with
 * its minimum-healthy-hosts rule. Shared with blue/green, whose green install is paced the same way.
 */
export async function deployPaced(
  ctx: PhaseContext,
  targets: TargetRecord[],
  events: LifecycleEventName[],
  finalStatus: 'Succeeded' | 'Ready',
): Promise<Outcome> {
  const plan = healthPlan(ctx.config, targets.length);
  if (plan.invalid) return failed('HEALTH_CONSTRAINTS_INVALID', plan.invalid);
  let failures = 0;
  let lastInstanceFailed = false;
  const last = targets[targets.length - 1];
  for (const batch of batches(targets, plan)) {
    if (!healthy(plan, failures, false)) break;
    const outcomes = await Promise.all(
      batch.map(async (target) => {
        const outcome = await runEvents(ctx, target, events, finalStatus);
        if (outcome === 'Succeeded' && finalStatus === 'Succeeded')
          await ctx.instanceSucceeded(target.targetId);
        return outcome;
      }),
    );
    if (ctx.signal.aborted || outcomes.includes('Aborted'))
      return { status: 'Stopped', error: { code: 'MANUAL_STOP', message: MANUAL_STOP_MESSAGE } };
    outcomes.forEach((outcome, i) => {
      if (outcome !== 'Failed') return;
      failures += 1;
      if (batch[i] === last) lastInstanceFailed = true;
    });
  }
  const attemptedAll = targets.every((target) => target.status !== 'Pending');
  if (attemptedAll && healthy(plan, failures, lastInstanceFailed)) return { status: 'Succeeded' };
  return failed('HEALTH_CONSTRAINTS', HEALTH_CONSTRAINTS_MESSAGE);
}
