import { type Ec2Xml, tagSet } from './ec2-protocol';
import { STATE_CODES, type InstanceRecord } from './instances';
import type { LaunchTemplateRecord, LaunchTemplateVersion } from './launch-templates';
import type { Network } from './network';
import type { InstanceState, LaunchTemplateData } from './types';

/** The XML shapes of EC2 responses (field names and order as EC2 prints them). */

export function instanceStateXml(state: InstanceState): Ec2Xml {
  return { code: STATE_CODES[state], name: state };
}

export function instanceXml(record: InstanceRecord, network: Network): Ec2Xml {
  const { instance } = record;
  const live = instance.state === 'pending' || instance.state === 'running';
  const vpcId = instance.subnetId ? network.subnets.get(instance.subnetId)?.vpcId : undefined;
  return {
    instanceId: instance.instanceId,
    imageId: instance.imageId,
    instanceState: instanceStateXml(instance.state),
    privateDnsName: live ? 'ip-127-0-0-1.ec2.internal' : '',
    dnsName: live ? 'localhost' : '',
    reason: instance.state === 'terminated' ? 'User initiated' : '',
    amiLaunchIndex: record.amiLaunchIndex,
    productCodes: undefined,
    instanceType: instance.instanceType,
    launchTime: instance.launchTime,
    placement: { availabilityZone: record.availabilityZone, groupName: '', tenancy: 'default' },
    monitoring: { state: 'disabled' },
    subnetId: live ? instance.subnetId : undefined,
    vpcId: live ? vpcId : undefined,
    privateIpAddress: live ? instance.privateIpAddress : undefined,
    ipAddress: instance.state === 'running' ? instance.privateIpAddress : undefined,
    groupSet: instance.securityGroupIds.map((groupId) => ({
      groupId,
      groupName: network.securityGroups.get(groupId)?.groupName ?? groupId,
    })),
    stateReason:
      instance.state === 'terminated' || instance.state === 'shutting-down'
        ? {
            code: 'Client.UserInitiatedShutdown',
            message: 'Client.UserInitiatedShutdown: User initiated shutdown',
          }
        : undefined,
    architecture: 'x86_64',
    rootDeviceType: 'ebs',
    rootDeviceName: '/dev/xvda',
    virtualizationType: 'hvm',
    iamInstanceProfile: instance.iamInstanceProfileArn
      ? { arn: instance.iamInstanceProfileArn, id: profileId(instance.iamInstanceProfileArn) }
      : undefined,
    tagSet: tagSet(instance.tags),
    hypervisor: 'xen',
    ebsOptimized: false,
    enaSupport: true,
  };
}

/** A stable AIPA… id derived from the ARN (the sandbox does not track instance-profile ids across services). */
function profileId(arn: string): string {
  let hash = 0;
  for (const ch of arn) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return `AIPA${hash.toString(36).toUpperCase().padStart(17, '0').slice(0, 17)}`;
}

export function launchTemplateXml(record: LaunchTemplateRecord): Ec2Xml {
  return {
    createTime: record.createTime,
    createdBy: record.createdBy,
    defaultVersionNumber: record.defaultVersionNumber,
    latestVersionNumber: record.versions.length,
    launchTemplateId: record.launchTemplateId,
    launchTemplateName: record.name,
  };
}

export function launchTemplateVersionXml(
  record: LaunchTemplateRecord,
  version: LaunchTemplateVersion,
): Ec2Xml {
  return {
    createTime: version.createTime,
    createdBy: record.createdBy,
    defaultVersion: version.versionNumber === record.defaultVersionNumber,
    launchTemplateData: launchTemplateDataXml(version.data),
    launchTemplateId: record.launchTemplateId,
    launchTemplateName: record.name,
    versionDescription: version.description,
    versionNumber: version.versionNumber,
  };
}

function launchTemplateDataXml(data: LaunchTemplateData): Ec2Xml {
  return {
    iamInstanceProfile: data.iamInstanceProfile
      ? { arn: data.iamInstanceProfile.arn, name: data.iamInstanceProfile.name }
      : undefined,
    imageId: data.imageId,
    instanceType: data.instanceType,
    securityGroupIdSet: data.securityGroupIds?.length ? data.securityGroupIds : undefined,
    tagSpecificationSet: data.tagSpecifications?.length
      ? data.tagSpecifications.map((spec) => ({ resourceType: spec.resourceType, tagSet: tagSet(spec.tags) }))
      : undefined,
    userData: data.userData,
  };
}
