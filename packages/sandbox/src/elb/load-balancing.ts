import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../clock';
import type { Fleet } from '../fleet/types';
import { elbErrors } from './errors';
import type { HealthCheckSettings } from './health-checker';
import { parseMatcher } from './matcher';
import { canonicalHostedZoneId, checkInstanceId, checkName, newResourceId } from './names';
import { LoadBalancerProxy, type ForwardTargets } from './proxy';
import { TargetGroupState, type TargetHealthReport } from './target-group';
import type { LoadBalancing } from './types';

/** ALB's defaults for an HTTP target group (CreateTargetGroup documentation). */
export const DEFAULT_HEALTH_CHECK: HealthCheckSettings = {
  path: '/',
  intervalSeconds: 30,
  timeoutSeconds: 5,
  healthyThresholdCount: 5,
  unhealthyThresholdCount: 2,
  matcher: '200',
};
export const DEFAULT_DEREGISTRATION_DELAY_SECONDS = 300;

export interface LoadBalancer {
  readonly arn: string;
  readonly name: string;
  readonly scheme: 'internet-facing' | 'internal';
  readonly type: 'application';
  readonly subnets: string[];
  readonly securityGroups: string[];
  readonly createdAt: Date;
  /** `127.0.0.1:<port>`: where the proxy really listens, so a URL built from it opens the app. */
  readonly dnsName: string;
  readonly canonicalHostedZoneId: string;
  /** `app/<name>/<id>` (CloudWatch's dimension value, GetAtt LoadBalancerFullName). */
  readonly fullName: string;
}

export interface ForwardAction {
  type: 'forward';
  /** Weighted groups; a plain TargetGroupArn action is one group of weight 1. */
  targetGroups: Array<{ targetGroupArn: string; weight: number }>;
  /** Whether the action was given as ForwardConfig (it is echoed back the same way). */
  viaForwardConfig: boolean;
}

export interface Listener {
  readonly arn: string;
  readonly loadBalancerArn: string;
  port: number;
  protocol: 'HTTP';
  defaultActions: ForwardAction[];
}

export interface CreateLoadBalancerInput {
  name: string;
  scheme?: string;
  type?: string;
  subnets?: string[];
  securityGroups?: string[];
}

export interface CreateTargetGroupInput {
  name: string;
  protocol?: string;
  port?: number;
  vpcId?: string;
  targetType?: string;
  healthCheck?: Partial<HealthCheckSettings>;
  deregistrationDelaySeconds?: number;
}

/** The full in-process ELBv2 model: the contract other sandbox parts use, plus what the API and providers need. */
export interface ElasticLoadBalancing extends LoadBalancing {
  createLoadBalancer(input: CreateLoadBalancerInput): Promise<LoadBalancer>;
  loadBalancer(arnOrName: string): LoadBalancer | undefined;
  loadBalancers(): LoadBalancer[];
  /** Stops the proxy and removes the load balancer with its listeners. Idempotent. */
  deleteLoadBalancer(arn: string): Promise<void>;

  createTargetGroup(input: CreateTargetGroupInput): TargetGroupState;
  targetGroup(arnOrName: string): TargetGroupState | undefined;
  targetGroups(): TargetGroupState[];
  modifyTargetGroup(arn: string, healthCheck: Partial<HealthCheckSettings>): TargetGroupState;
  setDeregistrationDelay(arn: string, seconds: number): void;
  /** Refuses (ResourceInUse) while a listener forwards to the group. Idempotent otherwise. */
  deleteTargetGroup(arn: string): void;

  createListener(input: {
    loadBalancerArn: string;
    port: number;
    protocol?: string;
    defaultActions: ForwardAction[];
  }): Listener;
  listener(arn: string): Listener | undefined;
  listeners(loadBalancerArn?: string): Listener[];
  /** Changes port and/or default actions (CodeDeploy-style reroute between two target groups). */
  modifyListener(arn: string, changes: { port?: number; defaultActions?: ForwardAction[] }): Listener;
  deleteListener(arn: string): void;

  /** Registers targets with explicit ports (the API's Targets.member.N.Port); checks the instances exist and run. */
  registerTargetsWithPorts(
    targetGroupArn: string,
    targets: Array<{ instanceId: string; port?: number }>,
  ): Promise<void>;
  targetHealthReports(targetGroupArn: string): TargetHealthReport[];
}

export function createLoadBalancing(options: {
  accountId: string;
  region: string;
  clock: Clock;
  log(line: string): void;
  fleet(): Fleet;
}): ElasticLoadBalancing {
  const { accountId, region, clock, log } = options;
  const arnPrefix = `arn:aws:elasticloadbalancing:${region}:${accountId}`;
  const loadBalancers = new Map<string, { record: LoadBalancer; proxy: LoadBalancerProxy }>();
  const groups = new Map<string, TargetGroupState>();
  const listeners = new Map<string, Listener>();
  /** Names being created, so two concurrent CreateLoadBalancer calls cannot both bind a proxy for one name. */
  const pendingNames = new Map<string, Promise<LoadBalancer>>();

  function requireGroup(arn: string): TargetGroupState {
    const group = groups.get(arn);
    if (!group) throw elbErrors.targetGroupNotFound();
    return group;
  }

  function requireListener(arn: string): Listener {
    const listener = listeners.get(arn);
    if (!listener) throw elbErrors.listenerNotFound();
    return listener;
  }

  function listenersOf(loadBalancerArn: string): Listener[] {
    return [...listeners.values()].filter((l) => l.loadBalancerArn === loadBalancerArn);
  }

  /** Recomputes which load balancers each group serves (after any listener change) and starts/stops checks. */
  function refreshUsage(): void {
    for (const group of groups.values()) {
      const before = [...group.loadBalancerArns].sort().join();
      group.loadBalancerArns.clear();
      for (const listener of listeners.values()) {
        const forwards = listener.defaultActions.some((action) =>
          action.targetGroups.some((tg) => tg.targetGroupArn === group.arn),
        );
        if (forwards) group.loadBalancerArns.add(listener.loadBalancerArn);
      }
      if ([...group.loadBalancerArns].sort().join() !== before) group.usageChanged();
    }
  }

  /** The proxy serves its load balancer's first listener (the sandbox binds one port per load balancer). */
  function forwardTargets(loadBalancerArn: string): ForwardTargets | undefined {
    const [listener] = listenersOf(loadBalancerArn).sort((a, b) => a.port - b.port);
    if (!listener) return undefined;
    const action = listener.defaultActions[0];
    if (!action) return [];
    return action.targetGroups.flatMap(({ targetGroupArn, weight }) => {
      const group = groups.get(targetGroupArn);
      return group ? [{ group, weight }] : [];
    });
  }

  function checkActions(actions: ForwardAction[]): void {
    if (actions.length === 0) throw elbErrors.validation('A default action must be specified');
    const missing = actions
      .flatMap((action) => action.targetGroups.map((tg) => tg.targetGroupArn))
      .filter((arn) => !groups.has(arn));
    if (missing.length > 0) throw elbErrors.targetGroupsNotFound(missing);
  }

  function healthCheckFrom(
    input: Partial<HealthCheckSettings>,
    base: HealthCheckSettings,
  ): HealthCheckSettings {
    const settings = { ...base };
    for (const [key, value] of Object.entries(input) as Array<[keyof HealthCheckSettings, unknown]>) {
      if (value !== undefined) Object.assign(settings, { [key]: value });
    }
    parseMatcher(settings.matcher);
    if (!settings.path.startsWith('/'))
      throw elbErrors.validation(`Health check path '${settings.path}' must begin with a '/' character`);
    const range = (name: string, value: number, min: number, max: number) => {
      if (!Number.isInteger(value) || value < min || value > max)
        throw elbErrors.validation(`${name} must be between ${min} and ${max}, got ${value}`);
    };
    range('Health check interval', settings.intervalSeconds, 5, 300);
    range('Health check timeout', settings.timeoutSeconds, 2, 120);
    range('Healthy threshold count', settings.healthyThresholdCount, 2, 10);
    range('Unhealthy threshold count', settings.unhealthyThresholdCount, 2, 10);
    if (settings.timeoutSeconds >= settings.intervalSeconds) {
      // A short interval with the default timeout takes a timeout that fits; an explicit clash is refused.
      if (input.timeoutSeconds !== undefined)
        throw elbErrors.validation(
          `Health check timeout '${settings.timeoutSeconds}' must be smaller than the interval '${settings.intervalSeconds}'`,
        );
      settings.timeoutSeconds = Math.max(2, settings.intervalSeconds - 1);
    }
    return settings;
  }

  function checkDeregistrationDelay(seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 3600)
      throw elbErrors.validation(
        `'deregistration_delay.timeout_seconds' value '${seconds}' must be between '0-3600' inclusive`,
      );
  }

  function checkTargets(targets: Array<{ instanceId: string }>): void {
    for (const { instanceId } of targets) checkInstanceId(instanceId);
    const fleet = options.fleet();
    const missing = targets.filter((t) => !fleet.instance(t.instanceId)).map((t) => t.instanceId);
    if (missing.length > 0) throw elbErrors.instancesDoNotExist(missing);
    const notRunning = targets
      .filter((t) => fleet.instance(t.instanceId)?.state !== 'running')
      .map((t) => t.instanceId);
    if (notRunning.length > 0) throw elbErrors.instancesNotRunning(notRunning);
  }

  async function bindLoadBalancer(input: CreateLoadBalancerInput): Promise<LoadBalancer> {
    const id = newResourceId();
    const fullName = `app/${input.name}/${id}`;
    const arn = `${arnPrefix}:loadbalancer/${fullName}`;
    const proxy = new LoadBalancerProxy({
      name: input.name,
      forwardTargets: () => forwardTargets(arn),
      log,
    });
    const port = await proxy.listen();
    const record: LoadBalancer = {
      arn,
      name: input.name,
      scheme: input.scheme === 'internal' ? 'internal' : 'internet-facing',
      type: 'application',
      subnets: input.subnets ?? [],
      securityGroups: input.securityGroups ?? [],
      createdAt: new Date(clock.now()),
      dnsName: `127.0.0.1:${port}`,
      canonicalHostedZoneId: canonicalHostedZoneId(region),
      fullName,
    };
    loadBalancers.set(arn, { record, proxy });
    log(`elb ${input.name}: load balancer listening on http://${record.dnsName}`);
    return record;
  }

  const elb: ElasticLoadBalancing = {
    async createLoadBalancer(input) {
      checkName('load balancer', input.name);
      if (input.type !== undefined && input.type !== 'application')
        throw elbErrors.validation(`The sandbox models Application Load Balancers only, not '${input.type}'`);
      if (input.scheme !== undefined && !['internet-facing', 'internal'].includes(input.scheme))
        throw elbErrors.validation(`Scheme '${input.scheme}' must be one of [internet-facing, internal]`);
      const pending = pendingNames.get(input.name);
      const existing = pending ? await pending : elb.loadBalancer(input.name);
      if (existing) {
        // Creation is idempotent: the same name with the same settings returns the existing load balancer.
        const same =
          existing.scheme === (input.scheme ?? 'internet-facing') &&
          sameSet(existing.subnets, input.subnets ?? existing.subnets) &&
          sameSet(existing.securityGroups, input.securityGroups ?? existing.securityGroups);
        if (same) return existing;
        throw elbErrors.duplicateLoadBalancerName(input.name);
      }
      const creating = bindLoadBalancer(input);
      pendingNames.set(input.name, creating);
      try {
        return await creating;
      } finally {
        pendingNames.delete(input.name);
      }
    },

    loadBalancer(arnOrName) {
      const byArn = loadBalancers.get(arnOrName);
      if (byArn) return byArn.record;
      return [...loadBalancers.values()].find((lb) => lb.record.name === arnOrName)?.record;
    },

    loadBalancers() {
      return [...loadBalancers.values()].map((lb) => lb.record);
    },

    async deleteLoadBalancer(arn) {
      const entry = loadBalancers.get(arn);
      if (!entry) return;
      loadBalancers.delete(arn);
      for (const listener of listenersOf(arn)) listeners.delete(listener.arn);
      refreshUsage();
      await entry.proxy.close();
      log(`elb ${entry.record.name}: load balancer deleted`);
    },

    createTargetGroup(input) {
      checkName('target group', input.name);
      if (input.protocol !== undefined && input.protocol !== 'HTTP')
        throw elbErrors.validation(`The sandbox models HTTP target groups only, not '${input.protocol}'`);
      if (input.targetType !== undefined && input.targetType !== 'instance')
        throw elbErrors.validation(
          `The sandbox models target type 'instance' only, not '${input.targetType}'`,
        );
      const port = input.port ?? 80;
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        throw elbErrors.validation(`Port '${port}' must be between 1 and 65535`);
      const healthCheck = healthCheckFrom(input.healthCheck ?? {}, DEFAULT_HEALTH_CHECK);
      const delay = input.deregistrationDelaySeconds ?? DEFAULT_DEREGISTRATION_DELAY_SECONDS;
      checkDeregistrationDelay(delay);
      const existing = [...groups.values()].find((g) => g.name === input.name);
      if (existing) {
        const same =
          existing.port === port &&
          existing.vpcId === input.vpcId &&
          JSON.stringify(existing.healthCheck) === JSON.stringify(healthCheck);
        if (same) return existing;
        throw elbErrors.duplicateTargetGroupName(input.name);
      }
      const arn = `${arnPrefix}:targetgroup/${input.name}/${newResourceId()}`;
      const group = new TargetGroupState(
        { arn, name: input.name, port, vpcId: input.vpcId, healthCheck, deregistrationDelaySeconds: delay },
        { clock, fleet: options.fleet, log },
      );
      groups.set(arn, group);
      return group;
    },

    targetGroup(arnOrName) {
      return groups.get(arnOrName) ?? [...groups.values()].find((g) => g.name === arnOrName);
    },

    targetGroups() {
      return [...groups.values()];
    },

    modifyTargetGroup(arn, healthCheck) {
      const group = requireGroup(arn);
      group.healthCheck = healthCheckFrom(healthCheck, group.healthCheck);
      return group;
    },

    setDeregistrationDelay(arn, seconds) {
      const group = requireGroup(arn);
      checkDeregistrationDelay(seconds);
      group.deregistrationDelaySeconds = seconds;
    },

    deleteTargetGroup(arn) {
      const group = groups.get(arn);
      if (!group) return;
      if (group.inUse) throw elbErrors.targetGroupInUse(arn);
      group.stop();
      groups.delete(arn);
    },

    createListener(input) {
      const entry = loadBalancers.get(input.loadBalancerArn);
      if (!entry) throw elbErrors.loadBalancerNotFound();
      if (input.protocol !== undefined && input.protocol !== 'HTTP')
        throw elbErrors.validation(`The sandbox models HTTP listeners only, not '${input.protocol}'`);
      checkPort(input.port);
      checkActions(input.defaultActions);
      const onPort = listenersOf(input.loadBalancerArn).find((l) => l.port === input.port);
      if (onPort) {
        if (JSON.stringify(onPort.defaultActions) === JSON.stringify(input.defaultActions)) return onPort;
        throw elbErrors.duplicateListener();
      }
      const listener: Listener = {
        arn: `${arnPrefix}:listener/${entry.record.fullName}/${newResourceId()}`,
        loadBalancerArn: input.loadBalancerArn,
        port: input.port,
        protocol: 'HTTP',
        defaultActions: input.defaultActions,
      };
      listeners.set(listener.arn, listener);
      refreshUsage();
      return listener;
    },

    listener(arn) {
      return listeners.get(arn);
    },

    listeners(loadBalancerArn) {
      return loadBalancerArn === undefined ? [...listeners.values()] : listenersOf(loadBalancerArn);
    },

    modifyListener(arn, changes) {
      const listener = requireListener(arn);
      if (changes.port !== undefined) {
        checkPort(changes.port);
        const clash = listenersOf(listener.loadBalancerArn).find(
          (l) => l.port === changes.port && l !== listener,
        );
        if (clash) throw elbErrors.duplicateListener();
      }
      if (changes.defaultActions) checkActions(changes.defaultActions);
      if (changes.port !== undefined) listener.port = changes.port;
      if (changes.defaultActions) listener.defaultActions = changes.defaultActions;
      refreshUsage();
      return listener;
    },

    deleteListener(arn) {
      requireListener(arn);
      listeners.delete(arn);
      refreshUsage();
    },

    async registerTargets(targetGroupArn, instanceIds) {
      await elb.registerTargetsWithPorts(
        targetGroupArn,
        instanceIds.map((instanceId) => ({ instanceId })),
      );
    },

    async registerTargetsWithPorts(targetGroupArn, targets) {
      const group = requireGroup(targetGroupArn);
      checkTargets(targets);
      group.register(targets);
    },

    async deregisterTargets(targetGroupArn, instanceIds) {
      const group = requireGroup(targetGroupArn);
      for (const id of instanceIds) checkInstanceId(id);
      await group.deregister(instanceIds);
    },

    targetHealth(targetGroupArn) {
      return elb.targetHealthReports(targetGroupArn).map(({ instanceId, state, reason }) => ({
        instanceId,
        state,
        ...(reason === undefined ? {} : { reason }),
      }));
    },

    targetHealthReports(targetGroupArn) {
      return requireGroup(targetGroupArn).health();
    },

    async waitUntilHealthy(targetGroupArn, instanceIds, timeoutSeconds) {
      const group = requireGroup(targetGroupArn);
      const deadline = Date.now() + clock.realMs(timeoutSeconds);
      // Health changes come from the checker's loop; polling a few times per simulated interval notices them soon
      // enough without coupling the checkers to their waiters.
      const pollMs = Math.max(5, Math.min(250, clock.realMs(group.healthCheck.intervalSeconds) / 4));
      for (;;) {
        const pending = instanceIds.filter((id) => group.healthOf(id)?.state !== 'healthy');
        if (pending.length === 0) return;
        if (Date.now() >= deadline) {
          const states = pending.map((id) => `${id}: ${group.healthOf(id)?.state ?? 'unused'}`).join(', ');
          throw new Error(
            `Targets of ${group.name} not healthy within ${timeoutSeconds} seconds (${states})`,
          );
        }
        await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
      }
    },

    async stop() {
      for (const group of groups.values()) group.stop();
      await Promise.all([...loadBalancers.values()].map((entry) => entry.proxy.close()));
    },
  };
  return elb;
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw elbErrors.validation(`Port '${port}' must be between 1 and 65535`);
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join() === [...b].sort().join();
}

/** The full model behind an AwsEnvironment's `elb` (which the environment types as the narrower contract). */
export function asElasticLoadBalancing(elb: LoadBalancing): ElasticLoadBalancing {
  if (!('createLoadBalancer' in elb))
    throw new Error('The environment’s load balancing was not created by createLoadBalancing');
  return elb as ElasticLoadBalancing;
}
