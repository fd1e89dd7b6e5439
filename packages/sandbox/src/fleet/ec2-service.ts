import { AwsError } from '../aws/errors';
import type { AwsCall, AwsEnvironment, AwsReply, AwsService } from '../aws/service';
import { Ec2Params, type Ec2Xml, filterMatches, renderEc2Response, tagSet } from './ec2-protocol';
import { instanceStateXml, instanceXml, launchTemplateVersionXml, launchTemplateXml } from './ec2-shapes';
import { invalidInstanceIds, sandboxFleet, type SandboxFleet } from './fleet';
import { STATE_CODES, type InstanceRecord } from './instances';
import type { LaunchTemplateData } from './types';

export const EC2_VERSION = '2016-11-15';

type Handler = (
  params: Ec2Params,
  fleet: SandboxFleet,
  env: AwsEnvironment,
) => Promise<Record<string, Ec2Xml | undefined>> | Record<string, Ec2Xml | undefined>;

/**
 * Amazon EC2 (query protocol, version 2016-11-15): instances, launch templates, availability zones and the VPC
 * records templates declare. Instances are real (a root directory, a loopback port, processes); the network is
 * bookkeeping.
 */
export function createEc2Service(env: AwsEnvironment): AwsService {
  return {
    name: 'ec2',
    signingName: 'ec2',
    protocol: { kind: 'ec2' },
    async handle(call: AwsCall): Promise<AwsReply> {
      const handler = HANDLERS[call.operation];
      if (!handler)
        throw new AwsError(
          'InvalidAction',
          `The action ${call.operation} is not valid for this web service.`,
        );
      const params = new Ec2Params(call.params?.tree ?? {});
      const fields = await handler(params, sandboxFleet(env.fleet), env);
      return {
        headers: { 'content-type': 'text/xml;charset=UTF-8' },
        body: renderEc2Response(call.operation, fields, call.requestId),
      };
    },
  };
}

const HANDLERS: Record<string, Handler> = {
  async RunInstances(params, fleet, env) {
    const minCount = params.integer('MinCount');
    const maxCount = params.integer('MaxCount');
    if (minCount === undefined)
      throw new AwsError('MissingParameter', 'The request must contain the parameter MinCount');
    if (maxCount === undefined)
      throw new AwsError('MissingParameter', 'The request must contain the parameter MaxCount');
    if (minCount < 1 || maxCount < minCount)
      throw new AwsError(
        'InvalidParameterValue',
        `Value (${minCount}) for parameter minCount is invalid. Expected a positive integer no greater than maxCount.`,
      );
    const template = params.struct('LaunchTemplate');
    const profile = params.struct('IamInstanceProfile');
    const tags: Record<string, string> = {};
    for (const spec of params.tagSpecifications())
      if (spec.resourceType === 'instance') Object.assign(tags, spec.tags);
    const groupIds = params.strings('SecurityGroupId');
    const { reservationId, records } = await fleet.launch({
      launchTemplate: template && {
        launchTemplateId: template.string('LaunchTemplateId'),
        launchTemplateName: template.string('LaunchTemplateName'),
        version: template.string('Version'),
      },
      imageId: params.string('ImageId'),
      instanceType: params.string('InstanceType'),
      userData: params.string('UserData'),
      count: maxCount,
      tags,
      subnetId: params.string('SubnetId'),
      securityGroupIds: groupIds.length > 0 ? groupIds : undefined,
      iamInstanceProfileArn:
        profile?.string('Arn') ??
        (profile?.string('Name')
          ? `arn:aws:iam::${env.accountId}:instance-profile/${profile.string('Name') ?? ''}`
          : undefined),
    });
    return {
      reservationId,
      ownerId: env.accountId,
      groupSet: undefined,
      instancesSet: records.map((record) => instanceXml(record, fleet.network)),
    };
  },

  DescribeInstances(params, fleet, env) {
    const ids = params.strings('InstanceId');
    const unknown = ids.filter((id) => !fleet.instanceRecord(id));
    if (unknown.length > 0) throw invalidInstanceIds(unknown);
    const filters = params.filters();
    const matching = fleet
      .instanceRecords()
      .filter((record) => ids.length === 0 || ids.includes(record.instance.instanceId))
      .filter((record) => filters.every((filter) => instanceMatches(record, filter, fleet)));
    const reservations = new Map<string, InstanceRecord[]>();
    for (const record of matching) {
      const list = reservations.get(record.reservationId) ?? [];
      list.push(record);
      reservations.set(record.reservationId, list);
    }
    return {
      reservationSet: [...reservations].map(([reservationId, records]) => ({
        reservationId,
        ownerId: env.accountId,
        groupSet: undefined,
        instancesSet: records.map((record) => instanceXml(record, fleet.network)),
      })),
    };
  },

  TerminateInstances(params, fleet) {
    const ids = params.strings('InstanceId');
    if (ids.length === 0)
      throw new AwsError('MissingParameter', 'The request must contain the parameter InstanceId');
    const { changes, done } = fleet.beginTermination(ids);
    // The call answers at once (shutting-down); the instances finish terminating in the background.
    done.catch(() => undefined);
    return {
      instancesSet: changes.map((change) => ({
        instanceId: change.instanceId,
        currentState: instanceStateXml(change.currentState),
        previousState: instanceStateXml(change.previousState),
      })),
    };
  },

  CreateTags(params, fleet) {
    const tags = params.tags();
    for (const id of params.strings('ResourceId')) {
      const instance = fleet.instance(id);
      if (instance) Object.assign(instance.tags, tags);
      else if (id.startsWith('i-')) throw invalidInstanceIds([id]);
    }
    return { return: true };
  },

  CreateLaunchTemplate(params, fleet) {
    const name = params.requiredString('LaunchTemplateName');
    const data = params.struct('LaunchTemplateData');
    if (!data)
      throw new AwsError('MissingParameter', 'The request must contain the parameter LaunchTemplateData');
    const record = fleet.launchTemplates.create(
      name,
      launchTemplateData(data),
      params.string('VersionDescription'),
    );
    return { launchTemplate: launchTemplateXml(record) };
  },

  CreateLaunchTemplateVersion(params, fleet) {
    const idOrName = params.string('LaunchTemplateId') ?? params.requiredString('LaunchTemplateName');
    const record = fleet.launchTemplates.require(idOrName);
    const given = params.struct('LaunchTemplateData');
    if (!given)
      throw new AwsError('MissingParameter', 'The request must contain the parameter LaunchTemplateData');
    const source = params.string('SourceVersion');
    // With SourceVersion the new version starts from that one and the given data overrides it.
    const base = source === undefined ? {} : fleet.launchTemplates.resolveVersion(record, source).data;
    const version = fleet.launchTemplates.addVersion(
      record.launchTemplateId,
      { ...base, ...launchTemplateData(given) },
      params.string('VersionDescription'),
    );
    return { launchTemplateVersion: launchTemplateVersionXml(record, version) };
  },

  DescribeLaunchTemplates(params, fleet) {
    const ids = params.strings('LaunchTemplateId');
    const names = params.strings('LaunchTemplateName');
    for (const id of ids) fleet.launchTemplates.require(id);
    if (names.some((name) => !fleet.launchTemplates.find(name)))
      throw new AwsError(
        'InvalidLaunchTemplateName.NotFoundException',
        'At least one of the launch templates specified in the request does not exist.',
      );
    const records = fleet.launchTemplates
      .all()
      .filter(
        (r) =>
          (ids.length === 0 && names.length === 0) ||
          ids.includes(r.launchTemplateId) ||
          names.includes(r.name),
      );
    return { launchTemplates: records.map(launchTemplateXml) };
  },

  DescribeLaunchTemplateVersions(params, fleet) {
    const idOrName = params.string('LaunchTemplateId') ?? params.requiredString('LaunchTemplateName');
    const record = fleet.launchTemplates.require(idOrName);
    const wanted = params.strings('LaunchTemplateVersion');
    const versions =
      wanted.length === 0
        ? record.versions
        : wanted.map((v) => fleet.launchTemplates.resolveVersion(record, v));
    return { launchTemplateVersionSet: versions.map((version) => launchTemplateVersionXml(record, version)) };
  },

  DeleteLaunchTemplate(params, fleet) {
    const idOrName = params.string('LaunchTemplateId') ?? params.requiredString('LaunchTemplateName');
    return { launchTemplate: launchTemplateXml(fleet.launchTemplates.delete(idOrName)) };
  },

  DescribeAvailabilityZones(params, fleet, env) {
    const names = params.strings('ZoneName');
    const filters = params.filters();
    const zones = fleet.availabilityZones
      .map((zoneName, index) => ({ zoneName, zoneId: `${zoneIdPrefix(env.region)}-az${index + 1}` }))
      .filter((zone) => names.length === 0 || names.includes(zone.zoneName))
      .filter((zone) =>
        filters.every((filter) => {
          const value =
            filter.name === 'zone-name'
              ? zone.zoneName
              : filter.name === 'zone-id'
                ? zone.zoneId
                : filter.name === 'region-name'
                  ? env.region
                  : filter.name === 'state'
                    ? 'available'
                    : undefined;
          return value !== undefined && filter.values.some((pattern) => filterMatches(pattern, value));
        }),
      );
    return {
      availabilityZoneInfo: zones.map((zone) => ({
        optInStatus: 'opt-in-not-required',
        zoneName: zone.zoneName,
        zoneId: zone.zoneId,
        zoneState: 'available',
        regionName: env.region,
        groupName: env.region,
        networkBorderGroup: env.region,
        zoneType: 'availability-zone',
      })),
    };
  },

  CreateVpc(params, fleet) {
    const vpc = fleet.network.createVpc(params.requiredString('CidrBlock'), specTags(params, 'vpc'));
    return { vpc: vpcXml(vpc.vpcId, fleet) };
  },

  DescribeVpcs(params, fleet) {
    const ids = params.strings('VpcId');
    for (const id of ids) fleet.network.vpc(id);
    const vpcs = [...fleet.network.vpcs.keys()].filter((id) => ids.length === 0 || ids.includes(id));
    return { vpcSet: vpcs.map((id) => vpcXml(id, fleet)) };
  },

  CreateSubnet(params, fleet) {
    const subnet = fleet.network.createSubnet({
      vpcId: params.requiredString('VpcId'),
      cidrBlock: params.requiredString('CidrBlock'),
      availabilityZone: params.string('AvailabilityZone'),
      tags: specTags(params, 'subnet'),
    });
    return { subnet: subnetXml(subnet.subnetId, fleet) };
  },

  DescribeSubnets(params, fleet) {
    const ids = params.strings('SubnetId');
    for (const id of ids) fleet.network.subnet(id);
    const subnets = [...fleet.network.subnets.keys()].filter((id) => ids.length === 0 || ids.includes(id));
    return { subnetSet: subnets.map((id) => subnetXml(id, fleet)) };
  },

  CreateSecurityGroup(params, fleet) {
    const group = fleet.network.createSecurityGroup({
      groupName: params.requiredString('GroupName'),
      description: params.requiredString('GroupDescription'),
      vpcId: params.requiredString('VpcId'),
      tags: specTags(params, 'security-group'),
    });
    return { return: true, groupId: group.groupId };
  },

  AuthorizeSecurityGroupIngress(params, fleet) {
    const group = fleet.network.securityGroup(params.requiredString('GroupId'));
    for (const permission of params.structs('IpPermissions')) {
      for (const range of permission.structs('IpRanges').length
        ? permission.structs('IpRanges')
        : [undefined]) {
        group.ingress.push({
          ipProtocol: permission.string('IpProtocol') ?? '-1',
          fromPort: permission.integer('FromPort'),
          toPort: permission.integer('ToPort'),
          cidrIp: range?.string('CidrIp'),
        });
      }
    }
    return { return: true };
  },

  DescribeSecurityGroups(params, fleet) {
    const ids = params.strings('GroupId');
    for (const id of ids) fleet.network.securityGroup(id);
    const groups = [...fleet.network.securityGroups.values()].filter(
      (g) => ids.length === 0 || ids.includes(g.groupId),
    );
    return {
      securityGroupInfo: groups.map((group) => ({
        ownerId: undefined,
        groupId: group.groupId,
        groupName: group.groupName,
        groupDescription: group.description,
        vpcId: group.vpcId,
        ipPermissions: group.ingress.map((p) => ({
          ipProtocol: p.ipProtocol,
          fromPort: p.fromPort,
          toPort: p.toPort,
          ipRanges: p.cidrIp ? [{ cidrIp: p.cidrIp }] : undefined,
        })),
        ipPermissionsEgress: group.egress.map((p) => ({
          ipProtocol: p.ipProtocol,
          ipRanges: p.cidrIp ? [{ cidrIp: p.cidrIp }] : undefined,
        })),
        tagSet: tagSet(group.tags),
      })),
    };
  },
};

/** The EC2 DescribeInstances filters the sandbox models; any other name is refused as EC2 refuses it. */
function instanceMatches(
  record: InstanceRecord,
  filter: { name: string; values: string[] },
  fleet: SandboxFleet,
): boolean {
  const { instance } = record;
  let candidates: Array<string | undefined>;
  if (filter.name.startsWith('tag:')) candidates = [instance.tags[filter.name.slice(4)]];
  else {
    switch (filter.name) {
      case 'instance-state-name':
        candidates = [instance.state];
        break;
      case 'instance-state-code':
        candidates = [String(STATE_CODES[instance.state])];
        break;
      case 'instance-id':
        candidates = [instance.instanceId];
        break;
      case 'tag-key':
        candidates = Object.keys(instance.tags);
        break;
      case 'tag-value':
        candidates = Object.values(instance.tags);
        break;
      case 'image-id':
        candidates = [instance.imageId];
        break;
      case 'instance-type':
        candidates = [instance.instanceType];
        break;
      case 'subnet-id':
        candidates = [instance.subnetId];
        break;
      case 'vpc-id':
        candidates = [instance.subnetId ? fleet.network.subnets.get(instance.subnetId)?.vpcId : undefined];
        break;
      case 'availability-zone':
        candidates = [record.availabilityZone];
        break;
      case 'private-ip-address':
        candidates = [instance.privateIpAddress];
        break;
      case 'reservation-id':
        candidates = [record.reservationId];
        break;
      case 'instance.group-id':
        candidates = instance.securityGroupIds;
        break;
      default:
        throw new AwsError('InvalidParameterValue', `The filter '${filter.name}' is invalid`);
    }
  }
  return candidates.some(
    (value) => value !== undefined && filter.values.some((pattern) => filterMatches(pattern, value)),
  );
}

export function launchTemplateData(data: Ec2Params): LaunchTemplateData {
  const profile = data.struct('IamInstanceProfile');
  const groupIds = data.strings('SecurityGroupId');
  const specs = data.tagSpecifications();
  return {
    imageId: data.string('ImageId'),
    instanceType: data.string('InstanceType'),
    userData: data.string('UserData'),
    iamInstanceProfile: profile ? { arn: profile.string('Arn'), name: profile.string('Name') } : undefined,
    securityGroupIds: groupIds.length > 0 ? groupIds : undefined,
    tagSpecifications: specs.length > 0 ? specs : undefined,
  };
}

function specTags(params: Ec2Params, resourceType: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const spec of params.tagSpecifications())
    if (spec.resourceType === resourceType) Object.assign(tags, spec.tags);
  return tags;
}

function vpcXml(vpcId: string, fleet: SandboxFleet): Ec2Xml {
  const vpc = fleet.network.vpc(vpcId);
  return {
    vpcId: vpc.vpcId,
    state: 'available',
    cidrBlock: vpc.cidrBlock,
    dhcpOptionsId: 'default',
    instanceTenancy: 'default',
    isDefault: false,
    tagSet: tagSet(vpc.tags),
  };
}

function subnetXml(subnetId: string, fleet: SandboxFleet): Ec2Xml {
  const subnet = fleet.network.subnet(subnetId);
  return {
    subnetId: subnet.subnetId,
    state: 'available',
    vpcId: subnet.vpcId,
    cidrBlock: subnet.cidrBlock,
    availableIpAddressCount: 251,
    availabilityZone: subnet.availabilityZone,
    defaultForAz: false,
    mapPublicIpOnLaunch: subnet.mapPublicIpOnLaunch,
    tagSet: tagSet(subnet.tags),
  };
}

/** AWS zone ids abbreviate the region: us-east-1 → use1, eu-west-2 → euw2. */
function zoneIdPrefix(region: string): string {
  const [area = '', direction = '', number = ''] = region.split('-');
  return `${area}${direction.charAt(0)}${number}`;
}
