import type { Clock } from '../clock';
import type { Fleet } from '../fleet/types';
import { HealthChecker, type CheckedState, type HealthCheckSettings } from './health-checker';
import type { TargetGroup, TargetHealthState } from './types';

export interface TargetHealthReport {
  instanceId: string;
  port: number;
  state: TargetHealthState;
  reason?: string;
  description?: string;
}

/** A registered (or draining) target: the instance, its health-check loop and the requests it is serving. */
export class Target {
  inFlight = 0;
  draining = false;
  private idleListeners: Array<() => void> = [];

  constructor(
    readonly instanceId: string,
    /** The registered port (recorded; the sandbox always connects to the instance's own loopback port). */
    readonly port: number,
    readonly checker: HealthChecker,
  ) {}

  begin(): void {
    this.inFlight += 1;
  }

  end(): void {
    this.inFlight -= 1;
    if (this.inFlight === 0) for (const listener of this.idleListeners.splice(0)) listener();
  }

  /** Resolves when no request is in flight. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleListeners.push(resolve));
  }
}

/** Health states and reasons as DescribeTargetHealth words them. */
const NOT_IN_USE = {
  state: 'unused',
  reason: 'Target.NotInUse',
  description: 'Target group is not configured to receive traffic from the load balancer',
} as const;
const DRAINING = {
  state: 'draining',
  reason: 'Target.DeregistrationInProgress',
  description: 'Target deregistration is in progress',
} as const;

export interface TargetGroupDefinition {
  arn: string;
  name: string;
  port: number;
  vpcId: string | undefined;
  healthCheck: HealthCheckSettings;
  deregistrationDelaySeconds: number;
}

/**
 * One target group: its registered targets and their health, which of them may take a request now, and
 * deregistration with connection draining. Health checks run only while a load balancer uses the group, as on ELB.
 */
export class TargetGroupState implements TargetGroup {
  readonly arn: string;
  readonly name: string;
  readonly port: number;
  readonly protocol = 'HTTP' as const;
  readonly vpcId: string | undefined;
  readonly createdAt: Date;
  healthCheck: HealthCheckSettings;
  deregistrationDelaySeconds: number;
  /** Load balancers whose listeners forward here; health checks run while there is one. */
  readonly loadBalancerArns = new Set<string>();

  private readonly targets = new Map<string, Target>();
  /** Deregistered targets still finishing requests; a re-registered instance gets a fresh Target meanwhile. */
  private readonly drainingTargets = new Set<Target>();
  private readonly drainWaits = new Set<() => void>();
  private nextIndex = 0;

  constructor(
    definition: TargetGroupDefinition,
    private readonly context: { clock: Clock; fleet(): Fleet; log(line: string): void },
  ) {
    this.arn = definition.arn;
    this.name = definition.name;
    this.port = definition.port;
    this.vpcId = definition.vpcId;
    this.healthCheck = definition.healthCheck;
    this.deregistrationDelaySeconds = definition.deregistrationDelaySeconds;
    this.createdAt = new Date(context.clock.now());
  }

  get inUse(): boolean {
    return this.loadBalancerArns.size > 0;
  }

  /** `arn:…:targetgroup/<name>/<id>` → `targetgroup/<name>/<id>` (CloudWatch's dimension value). */
  get fullName(): string {
    return this.arn.slice(this.arn.indexOf(':targetgroup/') + 1);
  }

  registeredInstanceIds(): string[] {
    return [...this.targets.keys()];
  }

  register(targets: Array<{ instanceId: string; port?: number }>): void {
    for (const { instanceId, port } of targets) {
      if (this.targets.has(instanceId)) continue;
      const checker = new HealthChecker({
        clock: this.context.clock,
        settings: () => this.healthCheck,
        port: () => this.runningInstancePort(instanceId),
        onChange: (state) => this.logChange(instanceId, state),
      });
      this.targets.set(instanceId, new Target(instanceId, port ?? this.port, checker));
      if (this.inUse) checker.start();
    }
  }

  /**
   * Takes the targets out of rotation at once; resolves when each has finished its in-flight requests or the
   * deregistration delay has passed, whichever is first.
   */
  async deregister(instanceIds: string[]): Promise<void> {
    const drains: Array<Promise<void>> = [];
    for (const instanceId of instanceIds) {
      const target = this.targets.get(instanceId);
      if (!target) continue;
      this.targets.delete(instanceId);
      target.checker.stop();
      target.draining = true;
      this.drainingTargets.add(target);
      drains.push(this.drain(target));
    }
    await Promise.all(drains);
  }

  private async drain(target: Target): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let release: () => void = () => undefined;
    const delay = new Promise<void>((resolve) => {
      release = resolve;
      timer = setTimeout(resolve, this.context.clock.realMs(this.deregistrationDelaySeconds));
    });
    // stop() releases every drain at once so sandbox close never waits out a deregistration delay.
    this.drainWaits.add(release);
    await Promise.race([target.idle(), delay]);
    clearTimeout(timer);
    this.drainWaits.delete(release);
    this.drainingTargets.delete(target);
    this.context.log(`elb ${this.name}: ${target.instanceId} deregistered`);
  }

  /** Called when the set of load balancers using the group changes. */
  usageChanged(): void {
    for (const target of this.targets.values()) {
      if (this.inUse) target.checker.start();
      else target.checker.stop();
    }
  }

  /** Round robin over healthy targets; `exclude` skips a target that just failed a connection. */
  pick(exclude?: Target): Target | undefined {
    const candidates = this.routable().filter((target) => target !== exclude);
    if (candidates.length === 0) return undefined;
    this.nextIndex = (this.nextIndex + 1) % candidates.length;
    return candidates[this.nextIndex];
  }

  /**
   * Healthy targets; when every registered target has failed its checks, all of them ("fail open", as ALB does:
   * routing to possibly broken targets beats refusing every request). Initial and draining targets never route.
   */
  private routable(): Target[] {
    const live = [...this.targets.values()].filter(
      (t) => this.runningInstancePort(t.instanceId) !== undefined,
    );
    const healthy = live.filter((t) => t.checker.status.state === 'healthy');
    if (healthy.length > 0) return healthy;
    const unhealthy = live.filter((t) => t.checker.status.state === 'unhealthy');
    return unhealthy.length === live.length ? unhealthy : [];
  }

  /** The port a proxied request for this target goes to now, or undefined when the instance is not running. */
  runningInstancePort(instanceId: string): number | undefined {
    const instance = this.context.fleet().instance(instanceId);
    return instance?.state === 'running' ? instance.port : undefined;
  }

  health(): TargetHealthReport[] {
    const reports: TargetHealthReport[] = [];
    for (const target of this.targets.values()) reports.push(this.report(target));
    for (const target of this.drainingTargets) {
      if (!this.targets.has(target.instanceId))
        reports.push({ instanceId: target.instanceId, port: target.port, ...DRAINING });
    }
    return reports;
  }

  healthOf(instanceId: string): TargetHealthReport | undefined {
    const target = this.targets.get(instanceId);
    if (target) return this.report(target);
    const draining = [...this.drainingTargets].find((t) => t.instanceId === instanceId);
    return draining ? { instanceId, port: draining.port, ...DRAINING } : undefined;
  }

  private report(target: Target): TargetHealthReport {
    const base = { instanceId: target.instanceId, port: target.port };
    if (!this.inUse) return { ...base, ...NOT_IN_USE };
    const instance = this.context.fleet().instance(target.instanceId);
    if (instance && instance.state !== 'running') {
      const state = instance.state === 'terminated' ? 'terminated' : 'stopped';
      return {
        ...base,
        state: 'unused',
        reason: 'Target.InvalidState',
        description: `Target is in the ${state} state`,
      };
    }
    const status = target.checker.status;
    return status.state === 'healthy' ? { ...base, state: 'healthy' } : { ...base, ...status };
  }

  /** Stops every health check and releases pending drains (sandbox close or group deletion). */
  stop(): void {
    for (const target of this.targets.values()) target.checker.stop();
    for (const release of this.drainWaits) release();
  }

  private logChange(instanceId: string, state: CheckedState): void {
    const why = state.state === 'healthy' ? '' : ` (${state.reason}: ${state.description})`;
    this.context.log(`elb ${this.name}: ${instanceId} ${state.state}${why}`);
  }
}
