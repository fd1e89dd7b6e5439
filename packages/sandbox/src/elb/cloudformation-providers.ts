import type { AwsEnvironment } from '../aws/service';
import {
  changedAny,
  generatedName,
  optionalString,
  PropertyError,
  requiredString,
  stabilized,
  stabilizedDelete,
  stringList,
} from '../cloudformation/providers/support';
import type { ResourceProvider } from '../cloudformation/providers/types';
import type { HealthCheckSettings } from './health-checker';
import {
  asElasticLoadBalancing,
  type ElasticLoadBalancing,
  type ForwardAction,
  type LoadBalancer,
} from './load-balancing';
import type { TargetGroupState } from './target-group';

const SERVICE = 'ElasticLoadBalancingV2';

function optionalInteger(properties: Record<string, unknown>, name: string): number | undefined {
  const value = properties[name];
  if (value === undefined || value === null) return undefined;
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isInteger(number))
    throw new PropertyError(
      `Property validation failure: [Value of property {/${name}} does not match type {Integer}]`,
    );
  return number;
}

function objectList(properties: Record<string, unknown>, name: string): Array<Record<string, unknown>> {
  const value = properties[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'object' && item !== null))
    throw new PropertyError(
      `Property validation failure: [Value of property {/${name}} does not match type {Array}]`,
    );
  return value as Array<Record<string, unknown>>;
}

function loadBalancerAttributes(lb: LoadBalancer): Record<string, unknown> {
  return {
    LoadBalancerArn: lb.arn,
    DNSName: lb.dnsName,
    CanonicalHostedZoneID: lb.canonicalHostedZoneId,
    LoadBalancerFullName: lb.fullName,
    LoadBalancerName: lb.name,
    SecurityGroups: lb.securityGroups,
  };
}

function targetGroupAttributes(group: TargetGroupState): Record<string, unknown> {
  return {
    TargetGroupArn: group.arn,
    TargetGroupName: group.name,
    TargetGroupFullName: group.fullName,
    LoadBalancerArns: [...group.loadBalancerArns],
  };
}

function healthCheckOf(properties: Record<string, unknown>): Partial<HealthCheckSettings> {
  const protocol = optionalString(properties, 'HealthCheckProtocol');
  if (protocol !== undefined && protocol !== 'HTTP')
    throw new PropertyError(`The sandbox checks health over HTTP only, not '${protocol}'`);
  const matcher = properties['Matcher'];
  const httpCode =
    typeof matcher === 'object' && matcher !== null
      ? optionalString(matcher as Record<string, unknown>, 'HttpCode')
      : undefined;
  return {
    path: optionalString(properties, 'HealthCheckPath'),
    intervalSeconds: optionalInteger(properties, 'HealthCheckIntervalSeconds'),
    timeoutSeconds: optionalInteger(properties, 'HealthCheckTimeoutSeconds'),
    healthyThresholdCount: optionalInteger(properties, 'HealthyThresholdCount'),
    unhealthyThresholdCount: optionalInteger(properties, 'UnhealthyThresholdCount'),
    matcher: httpCode,
  };
}

/** TargetGroupAttributes [{Key, Value}]: the deregistration delay is modelled; others are recorded by the stack. */
function deregistrationDelayOf(properties: Record<string, unknown>): number | undefined {
  const entry = objectList(properties, 'TargetGroupAttributes').find(
    (attribute) => attribute['Key'] === 'deregistration_delay.timeout_seconds',
  );
  return entry ? optionalInteger(entry, 'Value') : undefined;
}

function targetsOf(properties: Record<string, unknown>): Array<{ instanceId: string; port?: number }> {
  return objectList(properties, 'Targets').map((target) => {
    const port = optionalInteger(target, 'Port');
    const instanceId = requiredString(target, 'Id');
    return port === undefined ? { instanceId } : { instanceId, port };
  });
}

function actionsOf(properties: Record<string, unknown>): ForwardAction[] {
  const actions = objectList(properties, 'DefaultActions');
  if (actions.length === 0)
    throw new PropertyError('Property validation failure: [The property {/DefaultActions} is required]');
  return actions.map((action) => {
    const type = optionalString(action, 'Type');
    if (type !== 'forward')
      throw new PropertyError(`The sandbox supports listener actions of type 'forward' only, not '${type}'`);
    const forwardConfig = action['ForwardConfig'];
    const weighted =
      typeof forwardConfig === 'object' && forwardConfig !== null
        ? objectList(forwardConfig as Record<string, unknown>, 'TargetGroups').map((tg) => ({
            targetGroupArn: requiredString(tg, 'TargetGroupArn'),
            weight: optionalInteger(tg, 'Weight') ?? 1,
          }))
        : [];
    if (weighted.length > 0) return { type: 'forward', targetGroups: weighted, viaForwardConfig: true };
    return {
      type: 'forward',
      targetGroups: [{ targetGroupArn: requiredString(action, 'TargetGroupArn'), weight: 1 }],
      viaForwardConfig: false,
    };
  });
}

function requireTargetGroup(elb: ElasticLoadBalancing, arn: string): TargetGroupState {
  const group = elb.targetGroup(arn);
  if (!group) throw new PropertyError(`Target group '${arn}' not found`);
  return group;
}

const LOAD_BALANCER_CREATE_ONLY = ['Name', 'Scheme', 'Type'] as const;
const TARGET_GROUP_CREATE_ONLY = [
  'Name',
  'Port',
  'Protocol',
  'ProtocolVersion',
  'VpcId',
  'TargetType',
] as const;
const LISTENER_CREATE_ONLY = ['LoadBalancerArn'] as const;

/**
 * AWS::ElasticLoadBalancingV2::{LoadBalancer, TargetGroup, Listener} over the sandbox's load balancing: a stack's
 * load balancer is a real proxy, so `Fn::GetAtt LoadBalancer.DNSName` yields a host:port that opens the app.
 */
export function elbProviders(env: AwsEnvironment): ResourceProvider[] {
  const elb = () => asElasticLoadBalancing(env.elb);

  const loadBalancer: ResourceProvider = {
    type: 'AWS::ElasticLoadBalancingV2::LoadBalancer',
    attributeNames: [
      'CanonicalHostedZoneID',
      'DNSName',
      'LoadBalancerArn',
      'LoadBalancerFullName',
      'LoadBalancerName',
      'SecurityGroups',
    ],
    namingProperty: 'Name',
    // Provisioning an ALB is the slow step of most stacks (minutes on AWS); scaled by the sandbox clock.
    defaultDelaySeconds: 30,
    createOnlyProperties: LOAD_BALANCER_CREATE_ONLY,
    requiresReplacement: (before, after) => changedAny(before, after, LOAD_BALANCER_CREATE_ONLY),
    ref: (physicalId) => physicalId,

    create(request, context) {
      return stabilized(request, context, SERVICE, async () => {
        const { properties } = request;
        const lb = await elb().createLoadBalancer({
          name:
            optionalString(properties, 'Name') ?? generatedName(request, { maxLength: 32, suffixLength: 12 }),
          scheme: optionalString(properties, 'Scheme'),
          type: optionalString(properties, 'Type'),
          subnets: stringList(properties, 'Subnets'),
          securityGroups: stringList(properties, 'SecurityGroups'),
        });
        return { physicalId: lb.arn, attributes: loadBalancerAttributes(lb) };
      });
    },

    update(request, context) {
      // Subnets, security groups, attributes and tags are recorded by the stack; the proxy does not depend on them.
      return stabilized(request, context, SERVICE, async () => {
        const lb = elb().loadBalancer(request.physicalId as string);
        if (!lb) throw new PropertyError(`Load balancer '${request.physicalId}' not found`);
        return { physicalId: lb.arn, attributes: loadBalancerAttributes(lb) };
      });
    },

    delete(request, context) {
      return stabilizedDelete(request, context, SERVICE, () =>
        elb().deleteLoadBalancer(request.physicalId as string),
      );
    },
  };

  const targetGroup: ResourceProvider = {
    type: 'AWS::ElasticLoadBalancingV2::TargetGroup',
    attributeNames: ['LoadBalancerArns', 'TargetGroupArn', 'TargetGroupFullName', 'TargetGroupName'],
    namingProperty: 'Name',
    defaultDelaySeconds: 2,
    createOnlyProperties: TARGET_GROUP_CREATE_ONLY,
    requiresReplacement: (before, after) => changedAny(before, after, TARGET_GROUP_CREATE_ONLY),
    ref: (physicalId) => physicalId,

    create(request, context) {
      return stabilized(request, context, SERVICE, async () => {
        const { properties } = request;
        const service = elb();
        const group = service.createTargetGroup({
          name:
            optionalString(properties, 'Name') ?? generatedName(request, { maxLength: 32, suffixLength: 12 }),
          protocol: optionalString(properties, 'Protocol'),
          port: optionalInteger(properties, 'Port'),
          vpcId: optionalString(properties, 'VpcId'),
          targetType: optionalString(properties, 'TargetType'),
          healthCheck: healthCheckOf(properties),
          deregistrationDelaySeconds: deregistrationDelayOf(properties),
        });
        const targets = targetsOf(properties);
        if (targets.length > 0) await service.registerTargetsWithPorts(group.arn, targets);
        return { physicalId: group.arn, attributes: targetGroupAttributes(group) };
      });
    },

    update(request, context) {
      return stabilized(request, context, SERVICE, async () => {
        const { properties } = request;
        const service = elb();
        const group = requireTargetGroup(service, request.physicalId as string);
        service.modifyTargetGroup(group.arn, healthCheckOf(properties));
        service.setDeregistrationDelay(
          group.arn,
          deregistrationDelayOf(properties) ?? group.deregistrationDelaySeconds,
        );
        const wanted = targetsOf(properties);
        const before = new Set(targetsOf(request.previousProperties ?? {}).map((t) => t.instanceId));
        const added = wanted.filter((t) => !before.has(t.instanceId));
        const removed = [...before].filter((id) => !wanted.some((t) => t.instanceId === id));
        if (added.length > 0) await service.registerTargetsWithPorts(group.arn, added);
        // As DeregisterTargets answers at once, the stack does not wait for the removed targets to drain.
        if (removed.length > 0)
          service
            .deregisterTargets(group.arn, removed)
            .catch((error: unknown) =>
              env.log(`elb ${group.name}: deregistration failed: ${(error as Error).message}`),
            );
        return { physicalId: group.arn, attributes: targetGroupAttributes(group) };
      });
    },

    delete(request, context) {
      return stabilizedDelete(request, context, SERVICE, async () => {
        elb().deleteTargetGroup(request.physicalId as string);
      });
    },
  };

  const listener: ResourceProvider = {
    type: 'AWS::ElasticLoadBalancingV2::Listener',
    attributeNames: ['ListenerArn'],
    defaultDelaySeconds: 2,
    createOnlyProperties: LISTENER_CREATE_ONLY,
    requiresReplacement: (before, after) => changedAny(before, after, LISTENER_CREATE_ONLY),
    ref: (physicalId) => physicalId,

    create(request, context) {
      return stabilized(request, context, SERVICE, async () => {
        const { properties } = request;
        const created = elb().createListener({
          loadBalancerArn: requiredString(properties, 'LoadBalancerArn'),
          port: optionalInteger(properties, 'Port') ?? Number.NaN,
          protocol: optionalString(properties, 'Protocol'),
          defaultActions: actionsOf(properties),
        });
        return { physicalId: created.arn, attributes: { ListenerArn: created.arn } };
      });
    },

    update(request, context) {
      return stabilized(request, context, SERVICE, async () => {
        const { properties } = request;
        const modified = elb().modifyListener(request.physicalId as string, {
          port: optionalInteger(properties, 'Port'),
          defaultActions: actionsOf(properties),
        });
        return { physicalId: modified.arn, attributes: { ListenerArn: modified.arn } };
      });
    },

    delete(request, context) {
      return stabilizedDelete(request, context, SERVICE, async () => {
        const service = elb();
        // Already gone counts as deleted (its load balancer's deletion removes it too).
        if (service.listener(request.physicalId as string))
          service.deleteListener(request.physicalId as string);
      });
    },
  };

  return [loadBalancer, targetGroup, listener];
}
