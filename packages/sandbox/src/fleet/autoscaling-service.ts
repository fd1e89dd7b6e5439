import { AwsError } from '../aws/errors';
import { renderQueryResult, type QueryParams, type QueryTree } from '../aws/query';
import type { AwsCall, AwsEnvironment, AwsReply, AwsService } from '../aws/service';
import type { XmlValue } from '../aws/xml';
import type { GroupMember, GroupRecord } from './auto-scaling';
import { sandboxFleet, type SandboxFleet } from './fleet';

export const AUTOSCALING_VERSION = '2011-01-01';
const XMLNS = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';

type Result = Record<string, XmlValue | undefined> | undefined;
type Handler = (params: QueryParams, fleet: SandboxFleet, env: AwsEnvironment) => Result;

/**
 * Amazon EC2 Auto Scaling (awsQuery, 2011-01-01): groups from launch templates, scaled by desired capacity, with
 * target-group registration. Calls answer at once and the scaling happens in the background, as on AWS.
 */
export function createAutoScalingService(env: AwsEnvironment): AwsService {
  return {
    name: 'autoscaling',
    signingName: 'autoscaling',
    protocol: { kind: 'query', xmlns: XMLNS },
    handle(call: AwsCall): AwsReply {
      const handler = HANDLERS[call.operation];
      if (!handler || !call.params)
        throw new AwsError(
          'InvalidAction',
          `Could not find operation ${call.operation} for version ${AUTOSCALING_VERSION}`,
        );
      const result = handler(call.params, sandboxFleet(env.fleet), env);
      return {
        headers: { 'content-type': 'text/xml' },
        body: renderQueryResult(call.operation, XMLNS, result, call.requestId),
      };
    },
  };
}

/** Scaling continues after the call returns; its failures belong in the sandbox log, not the response. */
function inBackground(env: AwsEnvironment, name: string, ready: Promise<void>): void {
  ready.catch((error: unknown) => env.log(`autoscaling ${name}: ${(error as Error).message}`));
}

const HANDLERS: Record<string, Handler> = {
  CreateAutoScalingGroup(params, fleet, env) {
    const name = required(params, 'AutoScalingGroupName');
    if (params.string('LaunchConfigurationName') !== undefined)
      throw new AwsError(
        'ValidationError',
        'Launch configurations are not supported by the sandbox; use a launch template.',
      );
    const template = launchTemplateParam(params.tree['LaunchTemplate']);
    if (!template)
      throw new AwsError(
        'ValidationError',
        'Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.',
      );
    const minSize = requiredInteger(params, 'MinSize');
    const maxSize = requiredInteger(params, 'MaxSize');
    const tags = tagsParam(params.tree['Tags']);
    const { ready } = asValidationError(() =>
      fleet.createGroup({
        name,
        launchTemplate: resolveTemplate(fleet, template),
        minSize,
        maxSize,
        desiredCapacity: params.integer('DesiredCapacity') ?? minSize,
        targetGroupArns: params.list('TargetGroupARNs') ?? [],
        vpcZoneIdentifier: splitZones(params.string('VPCZoneIdentifier')),
        tags: Object.fromEntries(tags.map((t) => [t.key, t.value])),
        unpropagatedTagKeys: tags.filter((t) => !t.propagateAtLaunch).map((t) => t.key),
      }),
    );
    inBackground(env, name, ready);
    return undefined;
  },

  DescribeAutoScalingGroups(params, fleet) {
    const names = params.list('AutoScalingGroupNames') ?? [];
    const groups = fleet.groups.all().filter((g) => names.length === 0 || names.includes(g.name));
    return { AutoScalingGroups: groups.map((group) => groupXml(group, fleet)) };
  },

  UpdateAutoScalingGroup(params, fleet, env) {
    const name = required(params, 'AutoScalingGroupName');
    const template = launchTemplateParam(params.tree['LaunchTemplate']);
    const zones = params.string('VPCZoneIdentifier');
    const { ready } = fleet.groups.update(name, {
      minSize: params.integer('MinSize'),
      maxSize: params.integer('MaxSize'),
      desiredCapacity: params.integer('DesiredCapacity'),
      launchTemplate: template && asValidationError(() => resolveTemplate(fleet, template)),
      vpcZoneIdentifier: zones === undefined ? undefined : splitZones(zones),
    });
    inBackground(env, name, ready);
    return undefined;
  },

  SetDesiredCapacity(params, fleet, env) {
    const name = required(params, 'AutoScalingGroupName');
    const { ready } = fleet.groups.setDesiredCapacity(name, requiredInteger(params, 'DesiredCapacity'));
    inBackground(env, name, ready);
    return undefined;
  },

  DeleteAutoScalingGroup(params, fleet, env) {
    const name = required(params, 'AutoScalingGroupName');
    inBackground(env, name, fleet.groups.delete(name, params.string('ForceDelete') === 'true'));
    return undefined;
  },

  AttachLoadBalancerTargetGroups(params, fleet, env) {
    const name = required(params, 'AutoScalingGroupName');
    const group = fleet.groups.require(name);
    const arns = params.list('TargetGroupARNs') ?? [];
    const { ready } = fleet.groups.update(name, {
      targetGroupArns: [...new Set([...group.targetGroupArns, ...arns])],
    });
    inBackground(env, name, ready);
    return undefined;
  },

  DetachLoadBalancerTargetGroups(params, fleet, env) {
    const name = required(params, 'AutoScalingGroupName');
    const group = fleet.groups.require(name);
    const arns = params.list('TargetGroupARNs') ?? [];
    const { ready } = fleet.groups.update(name, {
      targetGroupArns: group.targetGroupArns.filter((arn) => !arns.includes(arn)),
    });
    inBackground(env, name, ready);
    return undefined;
  },

  DescribeAutoScalingInstances(params, fleet) {
    const ids = params.list('InstanceIds') ?? [];
    const rows: XmlValue[] = [];
    for (const group of fleet.groups.all()) {
      for (const member of group.members.values()) {
        if (ids.length > 0 && !ids.includes(member.instanceId)) continue;
        rows.push({
          InstanceId: member.instanceId,
          InstanceType: fleet.instance(member.instanceId)?.instanceType ?? '',
          AutoScalingGroupName: group.name,
          AvailabilityZone: member.availabilityZone,
          LifecycleState: member.lifecycleState,
          // This API spells health in capitals, unlike DescribeAutoScalingGroups.
          HealthStatus: 'HEALTHY',
          LaunchTemplate: memberTemplateXml(member),
          ProtectedFromScaleIn: false,
        });
      }
    }
    return { AutoScalingInstances: rows };
  },
};

function groupXml(group: GroupRecord, fleet: SandboxFleet): XmlValue {
  const template = fleet.launchTemplates.find(group.launchTemplate.launchTemplateId);
  const zones = group.vpcZoneIdentifier
    .map((id) => fleet.network.subnets.get(id)?.availabilityZone)
    .filter((zone): zone is string => zone !== undefined);
  return {
    AutoScalingGroupName: group.name,
    AutoScalingGroupARN: group.arn,
    LaunchTemplate: {
      LaunchTemplateId: group.launchTemplate.launchTemplateId,
      LaunchTemplateName: template?.name,
      Version: group.launchTemplate.version,
    },
    MinSize: group.minSize,
    MaxSize: group.maxSize,
    DesiredCapacity: group.desiredCapacity,
    DefaultCooldown: 300,
    AvailabilityZones: zones.length > 0 ? [...new Set(zones)] : fleet.availabilityZones.slice(0, 1),
    LoadBalancerNames: [],
    TargetGroupARNs: group.targetGroupArns,
    HealthCheckType: 'EC2',
    HealthCheckGracePeriod: 300,
    Instances: [...group.members.values()].map((member) => ({
      InstanceId: member.instanceId,
      InstanceType: fleet.instance(member.instanceId)?.instanceType ?? '',
      AvailabilityZone: member.availabilityZone,
      LifecycleState: member.lifecycleState,
      HealthStatus: 'Healthy',
      LaunchTemplate: memberTemplateXml(member),
      ProtectedFromScaleIn: false,
    })),
    CreatedTime: group.createdTime,
    SuspendedProcesses: [],
    VPCZoneIdentifier: group.vpcZoneIdentifier.join(','),
    EnabledMetrics: [],
    Status: group.status,
    Tags: Object.entries(group.tags).map(([key, value]) => ({
      ResourceId: group.name,
      ResourceType: 'auto-scaling-group',
      Key: key,
      Value: value,
      PropagateAtLaunch: !group.unpropagatedTagKeys.includes(key),
    })),
    TerminationPolicies: ['Default'],
    NewInstancesProtectedFromScaleIn: false,
    ServiceLinkedRoleARN: `arn:aws:iam::${fleet.options.accountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
    CapacityRebalance: false,
  };
}

function memberTemplateXml(member: GroupMember): XmlValue {
  return {
    LaunchTemplateId: member.launchTemplate.launchTemplateId,
    LaunchTemplateName: member.launchTemplate.launchTemplateName,
    Version: member.launchTemplate.version,
  };
}

function required(params: QueryParams, name: string): string {
  const value = params.string(name);
  if (value === undefined || value === '')
    throw new AwsError(
      'ValidationError',
      `1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`,
    );
  return value;
}

function requiredInteger(params: QueryParams, name: string): number {
  const value = params.integer(name);
  if (value === undefined)
    throw new AwsError(
      'ValidationError',
      `1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`,
    );
  return value;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function launchTemplateParam(
  tree: QueryTree | undefined,
): { id?: string; name?: string; version?: string } | undefined {
  if (typeof tree !== 'object' || Array.isArray(tree)) return undefined;
  const read = (key: string): string | undefined => {
    const value = tree[key];
    return typeof value === 'string' ? value : undefined;
  };
  return { id: read('LaunchTemplateId'), name: read('LaunchTemplateName'), version: read('Version') };
}

function resolveTemplate(
  fleet: SandboxFleet,
  template: { id?: string; name?: string; version?: string },
): { launchTemplateId: string; version: string } {
  if (!template.id === !template.name)
    throw new AwsError(
      'ValidationError',
      'Valid requests must contain either launchTemplateId or LaunchTemplateName',
    );
  const record = fleet.launchTemplates.require((template.id ?? template.name) as string);
  const version = template.version ?? '$Default';
  fleet.launchTemplates.resolveVersion(record, version);
  return { launchTemplateId: record.launchTemplateId, version };
}

/** Auto Scaling reports EC2's launch-template and subnet errors under its own ValidationError code. */
function asValidationError<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof AwsError && /NotFound|Malformed/.test(error.code))
      throw new AwsError('ValidationError', error.message);
    throw error;
  }
}

function splitZones(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function tagsParam(
  tree: QueryTree | undefined,
): Array<{ key: string; value: string; propagateAtLaunch: boolean }> {
  if (!Array.isArray(tree)) return [];
  const tags: Array<{ key: string; value: string; propagateAtLaunch: boolean }> = [];
  for (const item of tree) {
    if (typeof item !== 'object' || Array.isArray(item)) continue;
    const key = item['Key'];
    const value = item['Value'];
    if (typeof key !== 'string') continue;
    tags.push({
      key,
      value: typeof value === 'string' ? value : '',
      propagateAtLaunch: item['PropagateAtLaunch'] === 'true',
    });
  }
  return tags;
}
