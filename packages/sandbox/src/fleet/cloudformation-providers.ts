import { AwsError } from '../aws/errors';
import type { AwsEnvironment } from '../aws/service';
import {
  changedAny,
  failedFrom,
  generatedName,
  optionalString,
  PropertyError,
  stabilized,
  stabilizedDelete,
  stringList,
} from '../cloudformation/providers/support';
import type { ProgressEvent, ProviderContext, ResourceProvider } from '../cloudformation/providers/types';
import { sandboxFleet, type SandboxFleet } from './fleet';
import { ignoringNotFound, networkProviders } from './network-providers';
import {
  optionalInteger,
  optionalRecord,
  record,
  requiredInteger,
  tagEntries,
  tagList,
} from './provider-properties';
import type { LaunchTemplateData } from './types';

/** Simulated seconds between checks while instances boot or terminate. */
const POLL_SECONDS = 0.5;

function fleetOf(context: ProviderContext): SandboxFleet {
  return sandboxFleet(context.env.fleet);
}

/** AWS::EC2::LaunchTemplate's LaunchTemplateData, as EC2 stores it (UserData stays base64, from Fn::Base64). */
function launchTemplateData(value: unknown): LaunchTemplateData {
  const data = record(value ?? {}, 'LaunchTemplateData');
  const profile = optionalRecord(data, 'IamInstanceProfile');
  const groupIds = stringList(data, 'SecurityGroupIds');
  const specs = Array.isArray(data['TagSpecifications']) ? data['TagSpecifications'] : [];
  return {
    imageId: optionalString(data, 'ImageId'),
    instanceType: optionalString(data, 'InstanceType'),
    userData: optionalString(data, 'UserData'),
    iamInstanceProfile: profile
      ? { arn: optionalString(profile, 'Arn'), name: optionalString(profile, 'Name') }
      : undefined,
    securityGroupIds: groupIds.length > 0 ? groupIds : undefined,
    tagSpecifications: specs.length
      ? specs.map((spec, index) => {
          const entry = record(spec, `LaunchTemplateData/TagSpecifications/${index}`);
          return { resourceType: optionalString(entry, 'ResourceType') ?? '', tags: tagList(entry) };
        })
      : undefined,
  };
}

function templateAttributes(fleet: SandboxFleet, id: string): Record<string, unknown> {
  const template = fleet.launchTemplates.require(id);
  return {
    LaunchTemplateId: template.launchTemplateId,
    DefaultVersionNumber: String(template.defaultVersionNumber),
    LatestVersionNumber: String(template.versions.length),
  };
}

const launchTemplateProvider: ResourceProvider = {
  type: 'AWS::EC2::LaunchTemplate',
  attributeNames: ['DefaultVersionNumber', 'LatestVersionNumber', 'LaunchTemplateId'],
  namingProperty: 'LaunchTemplateName',
  defaultDelaySeconds: 1,
  createOnlyProperties: ['LaunchTemplateName'],
  requiresReplacement: (before, after) => changedAny(before, after, ['LaunchTemplateName']),
  ref: (physicalId) => physicalId,
  create(request, context) {
    return stabilized(request, context, 'Ec2', async () => {
      const fleet = fleetOf(context);
      const name =
        optionalString(request.properties, 'LaunchTemplateName') ??
        generatedName(request, { maxLength: 125 });
      const created = fleet.launchTemplates.create(
        name,
        launchTemplateData(request.properties['LaunchTemplateData']),
        optionalString(request.properties, 'VersionDescription'),
      );
      return {
        physicalId: created.launchTemplateId,
        attributes: templateAttributes(fleet, created.launchTemplateId),
      };
    });
  },
  update(request, context) {
    return stabilized(request, context, 'Ec2', async () => {
      const fleet = fleetOf(context);
      const id = request.physicalId as string;
      // CloudFormation updates a launch template by adding a version and making it the default.
      const version = fleet.launchTemplates.addVersion(
        id,
        launchTemplateData(request.properties['LaunchTemplateData']),
      );
      fleet.launchTemplates.setDefaultVersion(id, version.versionNumber);
      return { physicalId: id, attributes: templateAttributes(fleet, id) };
    });
  },
  delete(request, context) {
    return stabilizedDelete(request, context, 'Ec2', () =>
      ignoringNotFound(() => void fleetOf(context).launchTemplates.delete(request.physicalId as string)),
    );
  },
};

const INSTANCE_CREATE_ONLY = [
  'ImageId',
  'SubnetId',
  'AvailabilityZone',
  'LaunchTemplate',
  'KeyName',
  'PrivateIpAddress',
  'Tenancy',
] as const;

const instanceProvider: ResourceProvider = {
  type: 'AWS::EC2::Instance',
  attributeNames: [
    'AvailabilityZone',
    'InstanceId',
    'PrivateDnsName',
    'PrivateIp',
    'PublicDnsName',
    'PublicIp',
    'VpcId',
  ],
  defaultDelaySeconds: 0,
  createOnlyProperties: INSTANCE_CREATE_ONLY,
  requiresReplacement: (before, after) => changedAny(before, after, INSTANCE_CREATE_ONLY),
  ref: (physicalId) => physicalId,
  async create(request, context) {
    const fleet = fleetOf(context);
    const launched = request.callbackContext?.['instanceId'];
    if (typeof launched === 'string') return instanceProgress(fleet, launched);
    try {
      const { properties } = request;
      const template = optionalRecord(properties, 'LaunchTemplate');
      const profileName = optionalString(properties, 'IamInstanceProfile');
      const profile = profileName ? context.state.instanceProfiles.get(profileName.toLowerCase()) : undefined;
      const groupIds = stringList(properties, 'SecurityGroupIds');
      const { records } = await fleet.launch({
        launchTemplate: template && {
          launchTemplateId: optionalString(template, 'LaunchTemplateId'),
          launchTemplateName: optionalString(template, 'LaunchTemplateName'),
          version: optionalString(template, 'Version'),
        },
        imageId: optionalString(properties, 'ImageId'),
        instanceType: optionalString(properties, 'InstanceType'),
        userData: optionalString(properties, 'UserData'),
        count: 1,
        tags: {
          ...tagList(properties),
          'aws:cloudformation:stack-name': request.stackName,
          'aws:cloudformation:stack-id': request.stackId,
          'aws:cloudformation:logical-id': request.logicalId,
        },
        subnetId: optionalString(properties, 'SubnetId'),
        securityGroupIds: groupIds.length > 0 ? groupIds : undefined,
        iamInstanceProfileArn:
          profile?.arn ??
          (profileName ? `arn:aws:iam::${context.env.accountId}:instance-profile/${profileName}` : undefined),
      });
      const instanceId = (records[0] as (typeof records)[number]).instance.instanceId;
      return {
        status: 'IN_PROGRESS',
        physicalId: instanceId,
        callbackContext: { instanceId },
        callbackDelaySeconds: POLL_SECONDS,
      };
    } catch (error) {
      return failedFrom(error, 'Ec2');
    }
  },
  update(request, context) {
    return stabilized(request, context, 'Ec2', async () => {
      const fleet = fleetOf(context);
      const instance = fleet.instance(request.physicalId as string);
      if (!instance)
        throw new AwsError(
          'InvalidInstanceID.NotFound',
          `The instance ID '${request.physicalId ?? ''}' does not exist`,
        );
      Object.assign(instance.tags, tagList(request.properties));
      return { physicalId: instance.instanceId, attributes: instanceAttributes(fleet, instance.instanceId) };
    });
  },
  async delete(request, context) {
    const fleet = fleetOf(context);
    const instanceId = request.physicalId as string;
    const instance = fleet.instance(instanceId);
    if (!instance || instance.state === 'terminated') return { status: 'SUCCESS' };
    if (!request.callbackContext) fleet.beginTermination([instanceId]).done.catch(() => undefined);
    return {
      status: 'IN_PROGRESS',
      callbackContext: { terminating: true },
      callbackDelaySeconds: POLL_SECONDS,
    };
  },
};

function instanceProgress(fleet: SandboxFleet, instanceId: string): ProgressEvent {
  const state = fleet.instance(instanceId)?.state;
  if (state === 'running')
    return { status: 'SUCCESS', physicalId: instanceId, attributes: instanceAttributes(fleet, instanceId) };
  if (state === 'pending')
    return {
      status: 'IN_PROGRESS',
      physicalId: instanceId,
      callbackContext: { instanceId },
      callbackDelaySeconds: POLL_SECONDS,
    };
  return {
    status: 'FAILED',
    physicalId: instanceId,
    errorCode: 'NotStabilized',
    message: `Instance ${instanceId} is ${state ?? 'gone'}; expected running`,
  };
}

function instanceAttributes(fleet: SandboxFleet, instanceId: string): Record<string, unknown> {
  const record = fleet.instanceRecord(instanceId);
  const subnetId = record?.instance.subnetId;
  return {
    AvailabilityZone: record?.availabilityZone,
    InstanceId: instanceId,
    PrivateDnsName: 'ip-127-0-0-1.ec2.internal',
    PrivateIp: '127.0.0.1',
    // Its port, not 80: the instance's web server is reachable at http://127.0.0.1:<port>.
    PublicDnsName: `127.0.0.1:${record?.instance.port ?? ''}`,
    PublicIp: '127.0.0.1',
    VpcId: subnetId ? fleet.network.subnets.get(subnetId)?.vpcId : undefined,
  };
}

const autoScalingGroupProvider = (): ResourceProvider => {
  /** Failures of background scaling, by group name, reported on the provider's next poll. */
  const failures = new Map<string, string>();
  const watch = (name: string, ready: Promise<void>): void => {
    ready.catch((error: unknown) => failures.set(name, (error as Error).message));
  };
  /** A group change has started: remember how it ends, and ask to be called back to check on it. */
  const started = (name: string, ready: Promise<void>): ProgressEvent => {
    watch(name, ready);
    return {
      status: 'IN_PROGRESS',
      physicalId: name,
      callbackContext: { name },
      callbackDelaySeconds: POLL_SECONDS,
    };
  };
  const progress = (fleet: SandboxFleet, name: string, action: 'create' | 'update'): ProgressEvent => {
    const failure = failures.get(name);
    if (failure) {
      failures.delete(name);
      return { status: 'FAILED', physicalId: name, errorCode: 'NotStabilized', message: failure };
    }
    const group = fleet.groups.get(name);
    if (!group)
      return {
        status: 'FAILED',
        physicalId: name,
        errorCode: 'NotFound',
        message: `AutoScalingGroup '${name}' not found`,
      };
    const members = [...group.members.values()];
    const settled =
      group.activitiesRunning === 0 &&
      members.length === group.desiredCapacity &&
      members.every((m) => m.lifecycleState === 'InService');
    if (settled) return { status: 'SUCCESS', physicalId: name, attributes: {} };
    return {
      status: 'IN_PROGRESS',
      physicalId: name,
      callbackContext: { name, action },
      callbackDelaySeconds: POLL_SECONDS,
    };
  };

  return {
    type: 'AWS::AutoScaling::AutoScalingGroup',
    attributeNames: [],
    namingProperty: 'AutoScalingGroupName',
    defaultDelaySeconds: 0,
    createOnlyProperties: ['AutoScalingGroupName', 'InstanceId'],
    requiresReplacement: (before, after) => changedAny(before, after, ['AutoScalingGroupName', 'InstanceId']),
    ref: (physicalId) => physicalId,
    async create(request, context) {
      const fleet = fleetOf(context);
      const pending = request.callbackContext?.['name'];
      if (typeof pending === 'string') return progress(fleet, pending, 'create');
      try {
        const { properties } = request;
        const name =
          optionalString(properties, 'AutoScalingGroupName') ?? generatedName(request, { maxLength: 255 });
        const minSize = requiredInteger(properties, 'MinSize');
        const tags = tagEntries(properties);
        const { ready } = fleet.createGroup({
          name,
          launchTemplate: groupLaunchTemplate(fleet, properties),
          minSize,
          maxSize: requiredInteger(properties, 'MaxSize'),
          desiredCapacity: optionalInteger(properties, 'DesiredCapacity') ?? minSize,
          targetGroupArns: stringList(properties, 'TargetGroupARNs'),
          vpcZoneIdentifier: stringList(properties, 'VPCZoneIdentifier'),
          tags: {
            ...Object.fromEntries(tags.map((t) => [t.key, t.value])),
            'aws:cloudformation:stack-name': request.stackName,
            'aws:cloudformation:stack-id': request.stackId,
            'aws:cloudformation:logical-id': request.logicalId,
          },
          unpropagatedTagKeys: tags.filter((t) => t.propagateAtLaunch === false).map((t) => t.key),
        });
        return started(name, ready);
      } catch (error) {
        return failedFrom(error, 'AutoScaling');
      }
    },
    async update(request, context) {
      const fleet = fleetOf(context);
      const name = request.physicalId as string;
      if (request.callbackContext?.['name']) return progress(fleet, name, 'update');
      try {
        const { properties } = request;
        const { ready } = fleet.groups.update(name, {
          minSize: requiredInteger(properties, 'MinSize'),
          maxSize: requiredInteger(properties, 'MaxSize'),
          desiredCapacity: optionalInteger(properties, 'DesiredCapacity'),
          targetGroupArns: stringList(properties, 'TargetGroupARNs'),
          launchTemplate: groupLaunchTemplate(fleet, properties),
          vpcZoneIdentifier: stringList(properties, 'VPCZoneIdentifier'),
        });
        return started(name, ready);
      } catch (error) {
        return failedFrom(error, 'AutoScaling');
      }
    },
    async delete(request, context) {
      const fleet = fleetOf(context);
      const name = request.physicalId as string;
      const group = fleet.groups.get(name);
      // Gone already (e.g. a CodeDeploy blue/green deployment replaced it): deleted, as handlers treat NotFound.
      if (!group) return { status: 'SUCCESS' };
      if (!request.callbackContext) {
        if (group.status !== 'Delete in progress') watch(name, fleet.groups.delete(name, true));
      } else {
        const failure = failures.get(name);
        if (failure) {
          failures.delete(name);
          return { status: 'FAILED', errorCode: 'GeneralServiceException', message: failure };
        }
      }
      return {
        status: 'IN_PROGRESS',
        callbackContext: { deleting: true },
        callbackDelaySeconds: POLL_SECONDS,
      };
    },
  };
};

function groupLaunchTemplate(
  fleet: SandboxFleet,
  properties: Record<string, unknown>,
): { launchTemplateId: string; version: string } {
  const template = optionalRecord(properties, 'LaunchTemplate');
  if (!template)
    throw new PropertyError(
      'Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.',
    );
  const idOrName =
    optionalString(template, 'LaunchTemplateId') ?? optionalString(template, 'LaunchTemplateName');
  if (!idOrName)
    throw new PropertyError('Valid requests must contain either launchTemplateId or LaunchTemplateName');
  const record = fleet.launchTemplates.require(idOrName);
  return {
    launchTemplateId: record.launchTemplateId,
    version: optionalString(template, 'Version') ?? '$Default',
  };
}

/** EC2 and Auto Scaling resource types for the CloudFormation registry. */
export function fleetProviders(env: AwsEnvironment): ResourceProvider[] {
  // The environment is read per call (context.env); taking it here keeps the registration signature uniform.
  void env;
  return [...networkProviders, launchTemplateProvider, instanceProvider, autoScalingGroupProvider()];
}
