import type { LoadBalancing } from '../elb/types';
import type { LoadBalancerInfo } from './model';

/**
 * The service's half of BlockTraffic / AllowTraffic: the agent has no part in them. Target groups are named in
 * the deployment group's loadBalancerInfo and resolved when traffic moves, so a missing one fails the event.
 */

/** Simulated seconds AllowTraffic waits for health checks: the service's one-hour cap on any lifecycle event. */
const ALLOW_TRAFFIC_TIMEOUT_SECONDS = 3600;

export class TrafficControl {
  constructor(
    private readonly elb: LoadBalancing,
    private readonly loadBalancerInfo: LoadBalancerInfo | undefined,
  ) {}

  /** Target group ARNs; throws naming the first one that does not exist. */
  targetGroupArns(): string[] {
    const names = [
      ...(this.loadBalancerInfo?.targetGroupInfoList ?? []),
      ...(this.loadBalancerInfo?.elbInfoList ?? []),
    ].map((entry) => entry.name);
    return names.map((name) => {
      const group = this.elb.targetGroup(name);
      if (!group) throw new Error(`The target group ${name} does not exist.`);
      return group.arn;
    });
  }

  /** Deregisters and waits out connection draining. */
  async block(instanceIds: string[]): Promise<void> {
    await Promise.all(this.targetGroupArns().map((arn) => this.elb.deregisterTargets(arn, instanceIds)));
  }

  /** Registers and waits until the load balancer's health checks pass. */
  async allow(instanceIds: string[]): Promise<void> {
    await Promise.all(
      this.targetGroupArns().map(async (arn) => {
        await this.elb.registerTargets(arn, instanceIds);
        await this.elb.waitUntilHealthy(arn, instanceIds, ALLOW_TRAFFIC_TIMEOUT_SECONDS);
      }),
    );
  }
}
