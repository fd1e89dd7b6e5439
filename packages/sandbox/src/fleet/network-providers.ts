import { AwsError } from '../aws/errors';
import type { ProviderContext, ResourceProvider } from '../cloudformation/providers/types';
import {
  changedAny,
  optionalString,
  requiredString,
  stabilized,
  stabilizedDelete,
  generatedName,
} from '../cloudformation/providers/support';
import { sandboxFleet } from './fleet';
import type { IpPermission, Network } from './network';
import { optionalBoolean, optionalInteger, record, tagList } from './provider-properties';

/**
 * The VPC resource types of the blog's template, recorded in the fleet's network state with EC2-shaped ids and
 * attributes; they carry no traffic (everything listens on 127.0.0.1).
 */

/** Deleting something already gone succeeds, as CloudFormation's handlers treat NotFound on delete. */
export async function ignoringNotFound(work: () => void | Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (error instanceof AwsError && /NotFound/.test(error.code)) return;
    throw error;
  }
}

function networkOf(context: ProviderContext): Network {
  return sandboxFleet(context.env.fleet).network;
}

const DEFAULT_DELAY_SECONDS = 1;

export const vpcProvider: ResourceProvider = {
  type: 'AWS::EC2::VPC',
  attributeNames: [
    'CidrBlock',
    'CidrBlockAssociations',
    'DefaultNetworkAcl',
    'DefaultSecurityGroup',
    'Ipv6CidrBlocks',
    'VpcId',
  ],
  defaultDelaySeconds: DEFAULT_DELAY_SECONDS,
  createOnlyProperties: ['CidrBlock', 'InstanceTenancy', 'Ipv4IpamPoolId', 'Ipv4NetmaskLength'],
  requiresReplacement: (before, after) =>
    changedAny(before, after, ['CidrBlock', 'InstanceTenancy', 'Ipv4IpamPoolId', 'Ipv4NetmaskLength']),
  ref: (physicalId) => physicalId,
  create(request, context) {
    return stabilized(request, context, 'Ec2', async () => {
      const vpc = networkOf(context).createVpc(
        requiredString(request.properties, 'CidrBlock'),
        tagList(request.properties),
      );
      return { physicalId: vpc.vpcId, attributes: vpcAttributes(context, vpc.vpcId) };
    });
  },
  update(request, context) {
    return stabilized(request, context, 'Ec2', async () => {
      const vpc = networkOf(context).vpc(request.physicalId as string);
      vpc.tags = tagList(request.properties);
      return { physicalId: vpc.vpcId, attributes: vpcAttributes(context, vpc.vpcId) };
    });
  },
  delete(request, context) {
    return stabilizedDelete(request, context, 'Ec2', () =>
      ignoringNotFound(() => networkOf(context).deleteVpc(request.physicalId as string)),
    );
  },
};

function vpcAttributes(context: ProviderContext, vpcId: string): Record<string, unknown> {
  const vpc = networkOf(context).vpc(vpcId);
  return {
    CidrBlock: vpc.cidrBlock,
    CidrBlockAssociations: [],
    DefaultNetworkAcl: vpc.defaultNetworkAclId,
    DefaultSecurityGroup: vpc.defaultSecurityGroupId,
    Ipv6CidrBlocks: [],
    VpcId: vpc.vpcId,
  };
}

const SUBNET_CREATE_ONLY = [
  'VpcId',
  'CidrBlock',
  'AvailabilityZone',
  'AvailabilityZoneId',
  'Ipv6CidrBlock',
] as const;

export const subnetProvider: ResourceProvider = {
  type: 'AWS::EC2::Subnet',
  attributeNames: [
    'AvailabilityZone',
    'AvailabilityZoneId',
    'CidrBlock',
    'Ipv6CidrBlocks',
    'NetworkAclAssociationId',
    'OutpostArn',
    'SubnetId',
    'VpcId',
  ],
  defaultDelaySeconds: DEFAULT_DELAY_SECONDS,
  createOnlyProperties: SUBNET_CREATE_ONLY,
  requiresReplacement: (before, after) => changedAny(before, after, SUBNET_CREATE_ONLY),
  ref: (physicalId) => physicalId,
  create(request, context) {
    return stabilized(request, context, 'Ec2', async () => {
      const { properties } = request;
      const subnet = networkOf(context).createSubnet({
        vpcId: requiredString(properties, 'VpcId'),
        cidrBlock: requiredString(properties, 'CidrBlock'),
        availabilityZone: optionalString(properties, 'AvailabilityZone'),
        mapPublicIpOnLaunch: optionalBoolean(properties, 'MapPublicIpOnLaunch'),
        tags: tagList(properties),
      });
      return { physicalId: subnet.subnetId, attributes: subnetAttributes(context, subnet.subnetId) };
    });
  },
  update(request, context) {
    return stabilized(request, context, 'Ec2', async () => {
      const subnet = networkOf(context).subnet(request.physicalId as string);
      subnet.mapPublicIpOnLaunch = optionalBoolean(request.properties, 'MapPublicIpOnLaunch') ?? false;
      subnet.tags = tagList(request.properties);
      return { physicalId: subnet.subnetId, attributes: subnetAttributes(context, subnet.subnetId) };
    });
  },
  delete(request, context) {
    return stabilizedDelete(request, context, 'Ec2', () =>
      ignoringNotFound(() => networkOf(context).deleteSubnet(request.physicalId as string)),
    );
  },
};

function subnetAttributes(context: ProviderContext, subnetId: string): Record<string, unknown> {
  const subnet = networkOf(context).subnet(subnetId);
  const zoneIndex = ['a', 'b', 'c', 'd', 'e', 'f'].indexOf(subnet.availabilityZone.slice(-1)) + 1;
  return {
    AvailabilityZone: subnet.availabilityZone,
    AvailabilityZoneId: `${zonePrefix(subnet.availabilityZone)}-az${zoneIndex}`,
    CidrBlock: subnet.cidrBlock,
    Ipv6CidrBlocks: [],
    NetworkAclAssociationId: `aclassoc-${subnet.subnetId.slice(7)}`,
    SubnetId: subnet.subnetId,
    VpcId: subnet.vpcId,
  };
}

/** us-east-1a → use1 (AWS's zone-id prefix). */
function zonePrefix(zone: string): string {
  const [area = '', direction = '', number = ''] = zone.slice(0, -1).split('-');
  return `${area}${direction.charAt(0)}${number}`;
}

const SECURITY_GROUP_CREATE_ONLY = ['GroupDescription', 'GroupName', 'VpcId'] as const;

export const securityGroupProvider: ResourceProvider = {
  type: 'AWS::EC2::SecurityGroup',
  attributeNames: ['GroupId', 'VpcId'],
  namingProperty: 'GroupName',
  defaultDelaySeconds: DEFAULT_DELAY_SECONDS,
  createOnlyProperties: SECURITY_GROUP_CREATE_ONLY,
  requiresReplacement: (before, after) => changedAny(before, after, SECURITY_GROUP_CREATE_ONLY),
  ref: (physicalId) => physicalId,
  create(request, context) {
    return stabilized(request, context, 'Ec2', async () => {
      const { properties } = request;
      const network = networkOf(context);
      const group = network.createSecurityGroup({
        // CloudFormation names unnamed groups `<stack>-<logicalId>-<suffix>`.
        groupName: optionalString(properties, 'GroupName') ?? generatedName(request, { maxLength: 255 }),
        description: requiredString(properties, 'GroupDescription'),
        vpcId: optionalString(properties, 'VpcId') ?? network.defaultVpc().vpcId,
        ingress: permissions(properties['SecurityGroupIngress'], 'SecurityGroupIngress'),
        egress: permissions(properties['SecurityGroupEgress'], 'SecurityGroupEgress'),
        tags: tagList(properties),
      });
      return { physicalId: group.groupId, attributes: { GroupId: group.groupId, VpcId: group.vpcId } };
    });
  },
  update(request, context) {
    return stabilized(request, context, 'Ec2', async () => {
      const group = networkOf(context).securityGroup(request.physicalId as string);
      group.ingress = permissions(request.properties['SecurityGroupIngress'], 'SecurityGroupIngress');
      const egress = permissions(request.properties['SecurityGroupEgress'], 'SecurityGroupEgress');
      if (egress.length > 0) group.egress = egress;
      group.tags = tagList(request.properties);
      return { physicalId: group.groupId, attributes: { GroupId: group.groupId, VpcId: group.vpcId } };
    });
  },
  delete(request, context) {
    return stabilizedDelete(request, context, 'Ec2', () =>
      ignoringNotFound(() => networkOf(context).deleteSecurityGroup(request.physicalId as string)),
    );
  },
};

function permissions(value: unknown, name: string): IpPermission[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return [];
  return value.map((item, index) => {
    const rule = record(item, `${name}/${index}`);
    return {
      ipProtocol: optionalString(rule, 'IpProtocol') ?? '-1',
      fromPort: optionalInteger(rule, 'FromPort'),
      toPort: optionalInteger(rule, 'ToPort'),
      cidrIp: optionalString(rule, 'CidrIp'),
      sourceSecurityGroupId: optionalString(rule, 'SourceSecurityGroupId'),
    };
  });
}

export const internetGatewayProvider: ResourceProvider = {
  type: 'AWS::EC2::InternetGateway',
  attributeNames: ['InternetGatewayId'],
  defaultDelaySeconds: DEFAULT_DELAY_SECONDS,
  createOnlyProperties: [],
  requiresReplacement: () => false,
  ref: (physicalId) => physicalId,
  create(request, context) {
    return stabilized(request, context, 'Ec2', async () => {
      const gateway = networkOf(context).createInternetGateway(tagList(request.properties));
      return {
        physicalId: gateway.internetGatewayId,
        attributes: { InternetGatewayId: gateway.internetGatewayId },
      };
    });
  },
  update(request, context) {
    return stabilized(request, context, 'Ec2', async () => {
      const gateway = networkOf(context).internetGateway(request.physicalId as string);
      gateway.tags = tagList(request.properties);
      return {
        physicalId: gateway.internetGatewayId,
        attributes: { InternetGatewayId: gateway.internetGatewayId },
      };
    });
  },
  delete(request, context) {
    return stabilizedDelete(request, context, 'Ec2', () =>
      ignoringNotFound(() => networkOf(context).deleteInternetGateway(request.physicalId as string)),
    );
  },
};

export const vpcGatewayAttachmentProvider: ResourceProvider = {
  type: 'AWS::EC2::VPCGatewayAttachment',
  attributeNames: ['AttachmentType', 'VpcId'],
  defaultDelaySeconds: DEFAULT_DELAY_SECONDS,
  createOnlyProperties: ['VpcId', 'InternetGatewayId', 'VpnGatewayId'],
  requiresReplacement: (before, after) =>
    changedAny(before, after, ['VpcId', 'InternetGatewayId', 'VpnGatewayId']),
  // CloudFormation's physical id for an attachment is `IGW|<vpc-id>`.
  ref: (physicalId) => physicalId,
  create(request, context) {
    return stabilized(request, context, 'Ec2', async () => {
      const vpcId = requiredString(request.properties, 'VpcId');
      const gatewayId = requiredString(request.properties, 'InternetGatewayId');
      networkOf(context).attachInternetGateway(gatewayId, vpcId);
      return { physicalId: `IGW|${vpcId}`, attributes: { AttachmentType: 'igw', VpcId: vpcId } };
    });
  },
  update(request, context) {
    return stabilized(request, context, 'Ec2', async () => ({
      physicalId: request.physicalId as string,
      attributes: request.attributes,
    }));
  },
  delete(request, context) {
    return stabilizedDelete(request, context, 'Ec2', () =>
      ignoringNotFound(() => {
        const vpcId = optionalString(request.properties, 'VpcId') ?? '';
        const gatewayId = optionalString(request.properties, 'InternetGatewayId') ?? '';
        const gateway = networkOf(context).internetGateways.get(gatewayId);
        if (gateway?.attachedVpcId === vpcId) networkOf(context).detachInternetGateway(gatewayId, vpcId);
      }),
    );
  },
};

export const routeTableProvider: ResourceProvider = {
  type: 'AWS::EC2::RouteTable',
  attributeNames: ['RouteTableId'],
  defaultDelaySeconds: DEFAULT_DELAY_SECONDS,
  createOnlyProperties: ['VpcId'],
  requiresReplacement: (before, after) => changedAny(before, after, ['VpcId']),
  ref: (physicalId) => physicalId,
  create(request, context) {
    return stabilized(request, context, 'Ec2', async () => {
      const table = networkOf(context).createRouteTable(
        requiredString(request.properties, 'VpcId'),
        tagList(request.properties),
      );
      return { physicalId: table.routeTableId, attributes: { RouteTableId: table.routeTableId } };
    });
  },
  update(request, context) {
    return stabilized(request, context, 'Ec2', async () => {
      const table = networkOf(context).routeTable(request.physicalId as string);
      table.tags = tagList(request.properties);
      return { physicalId: table.routeTableId, attributes: { RouteTableId: table.routeTableId } };
    });
  },
  delete(request, context) {
    return stabilizedDelete(request, context, 'Ec2', () =>
      ignoringNotFound(() => networkOf(context).deleteRouteTable(request.physicalId as string)),
    );
  },
};

const ROUTE_CREATE_ONLY = ['RouteTableId', 'DestinationCidrBlock', 'DestinationIpv6CidrBlock'] as const;

export const routeProvider: ResourceProvider = {
  type: 'AWS::EC2::Route',
  attributeNames: ['CidrBlock'],
  defaultDelaySeconds: DEFAULT_DELAY_SECONDS,
  createOnlyProperties: ROUTE_CREATE_ONLY,
  requiresReplacement: (before, after) => changedAny(before, after, ROUTE_CREATE_ONLY),
  ref: (physicalId) => physicalId,
  create(request, context) {
    return stabilized(request, context, 'Ec2', async () => {
      const tableId = requiredString(request.properties, 'RouteTableId');
      const destination = requiredString(request.properties, 'DestinationCidrBlock');
      networkOf(context).createRoute(tableId, {
        destinationCidrBlock: destination,
        gatewayId:
          optionalString(request.properties, 'GatewayId') ??
          optionalString(request.properties, 'NatGatewayId') ??
          '',
      });
      // CloudFormation's physical id for a route is `<rtb-id>|<destination>`.
      return { physicalId: `${tableId}|${destination}`, attributes: { CidrBlock: destination } };
    });
  },
  update(request, context) {
    return stabilized(request, context, 'Ec2', async () => {
      const tableId = requiredString(request.properties, 'RouteTableId');
      const destination = requiredString(request.properties, 'DestinationCidrBlock');
      const route = networkOf(context)
        .routeTable(tableId)
        .routes.find((r) => r.destinationCidrBlock === destination);
      if (route) route.gatewayId = optionalString(request.properties, 'GatewayId') ?? '';
      return { physicalId: request.physicalId as string, attributes: { CidrBlock: destination } };
    });
  },
  delete(request, context) {
    return stabilizedDelete(request, context, 'Ec2', () =>
      ignoringNotFound(() =>
        networkOf(context).deleteRoute(
          requiredString(request.properties, 'RouteTableId'),
          requiredString(request.properties, 'DestinationCidrBlock'),
        ),
      ),
    );
  },
};

export const subnetRouteTableAssociationProvider: ResourceProvider = {
  type: 'AWS::EC2::SubnetRouteTableAssociation',
  attributeNames: ['Id'],
  defaultDelaySeconds: DEFAULT_DELAY_SECONDS,
  createOnlyProperties: ['RouteTableId', 'SubnetId'],
  requiresReplacement: (before, after) => changedAny(before, after, ['RouteTableId', 'SubnetId']),
  ref: (physicalId) => physicalId,
  create(request, context) {
    return stabilized(request, context, 'Ec2', async () => {
      const associationId = networkOf(context).associateRouteTable(
        requiredString(request.properties, 'RouteTableId'),
        requiredString(request.properties, 'SubnetId'),
      );
      return { physicalId: associationId, attributes: { Id: associationId } };
    });
  },
  update(request, context) {
    return stabilized(request, context, 'Ec2', async () => ({
      physicalId: request.physicalId as string,
      attributes: { Id: request.physicalId },
    }));
  },
  delete(request, context) {
    return stabilizedDelete(request, context, 'Ec2', () =>
      ignoringNotFound(() => networkOf(context).disassociateRouteTable(request.physicalId as string)),
    );
  },
};

export const networkProviders: ResourceProvider[] = [
  vpcProvider,
  subnetProvider,
  securityGroupProvider,
  internetGatewayProvider,
  vpcGatewayAttachmentProvider,
  routeTableProvider,
  routeProvider,
  subnetRouteTableAssociationProvider,
];
