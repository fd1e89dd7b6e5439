import { AwsError } from '../aws/errors';
import { newEc2Id } from './ids';

/**
 * VPC networking as records only: every instance really listens on 127.0.0.1, so VPCs, subnets, security groups,
 * gateways and routes have no effect on traffic. They exist so templates that declare them (the blog's does)
 * deploy, and so their ids and attributes look and relate as on EC2.
 */
export interface Vpc {
  readonly vpcId: string;
  readonly cidrBlock: string;
  readonly defaultSecurityGroupId: string;
  readonly defaultNetworkAclId: string;
  readonly mainRouteTableId: string;
  tags: Record<string, string>;
}

export interface Subnet {
  readonly subnetId: string;
  readonly vpcId: string;
  readonly cidrBlock: string;
  readonly availabilityZone: string;
  mapPublicIpOnLaunch: boolean;
  tags: Record<string, string>;
}

export interface IpPermission {
  ipProtocol: string;
  fromPort?: number;
  toPort?: number;
  cidrIp?: string;
  sourceSecurityGroupId?: string;
}

export interface SecurityGroup {
  readonly groupId: string;
  readonly groupName: string;
  readonly description: string;
  readonly vpcId: string;
  ingress: IpPermission[];
  egress: IpPermission[];
  tags: Record<string, string>;
}

export interface InternetGateway {
  readonly internetGatewayId: string;
  attachedVpcId?: string;
  tags: Record<string, string>;
}

export interface Route {
  destinationCidrBlock: string;
  gatewayId: string;
}

export interface RouteTable {
  readonly routeTableId: string;
  readonly vpcId: string;
  readonly main: boolean;
  routes: Route[];
  /** Association id → subnet id. */
  readonly associations: Map<string, string>;
  tags: Record<string, string>;
}

const ALL_TRAFFIC_OUT: IpPermission = { ipProtocol: '-1', cidrIp: '0.0.0.0/0' };

export class Network {
  readonly vpcs = new Map<string, Vpc>();
  readonly subnets = new Map<string, Subnet>();
  readonly securityGroups = new Map<string, SecurityGroup>();
  readonly internetGateways = new Map<string, InternetGateway>();
  readonly routeTables = new Map<string, RouteTable>();

  constructor(private readonly availabilityZones: readonly string[]) {}

  createVpc(cidrBlock: string, tags: Record<string, string> = {}): Vpc {
    requireCidr(cidrBlock);
    const vpcId = newEc2Id('vpc');
    const defaultGroup: SecurityGroup = {
      groupId: newEc2Id('sg'),
      groupName: 'default',
      description: 'default VPC security group',
      vpcId,
      ingress: [],
      egress: [{ ...ALL_TRAFFIC_OUT }],
      tags: {},
    };
    const main: RouteTable = {
      routeTableId: newEc2Id('rtb'),
      vpcId,
      main: true,
      routes: [{ destinationCidrBlock: cidrBlock, gatewayId: 'local' }],
      associations: new Map(),
      tags: {},
    };
    const vpc: Vpc = {
      vpcId,
      cidrBlock,
      defaultSecurityGroupId: defaultGroup.groupId,
      defaultNetworkAclId: newEc2Id('acl'),
      mainRouteTableId: main.routeTableId,
      tags,
    };
    this.vpcs.set(vpcId, vpc);
    this.securityGroups.set(defaultGroup.groupId, defaultGroup);
    this.routeTables.set(main.routeTableId, main);
    return vpc;
  }

  deleteVpc(vpcId: string): void {
    this.vpc(vpcId);
    const inUse =
      [...this.subnets.values()].some((s) => s.vpcId === vpcId) ||
      [...this.securityGroups.values()].some((g) => g.vpcId === vpcId && g.groupName !== 'default') ||
      [...this.internetGateways.values()].some((g) => g.attachedVpcId === vpcId) ||
      [...this.routeTables.values()].some((t) => t.vpcId === vpcId && !t.main);
    if (inUse)
      throw new AwsError('DependencyViolation', `The vpc '${vpcId}' has dependencies and cannot be deleted.`);
    for (const [id, group] of this.securityGroups) if (group.vpcId === vpcId) this.securityGroups.delete(id);
    for (const [id, table] of this.routeTables) if (table.vpcId === vpcId) this.routeTables.delete(id);
    this.vpcs.delete(vpcId);
  }

  /** The account's default VPC (172.31.0.0/16), created on first use, for security groups declared without VpcId. */
  defaultVpc(): Vpc {
    for (const vpc of this.vpcs.values()) if (vpc.tags['keyless:default'] === 'true') return vpc;
    return this.createVpc('172.31.0.0/16', { 'keyless:default': 'true' });
  }

  vpc(vpcId: string): Vpc {
    const vpc = this.vpcs.get(vpcId);
    if (!vpc) throw new AwsError('InvalidVpcID.NotFound', `The vpc ID '${vpcId}' does not exist`);
    return vpc;
  }

  createSubnet(request: {
    vpcId: string;
    cidrBlock: string;
    availabilityZone?: string;
    mapPublicIpOnLaunch?: boolean;
    tags?: Record<string, string>;
  }): Subnet {
    this.vpc(request.vpcId);
    requireCidr(request.cidrBlock);
    const zone =
      request.availabilityZone ?? this.availabilityZones[this.subnets.size % this.availabilityZones.length];
    if (zone === undefined || !this.availabilityZones.includes(zone)) {
      throw new AwsError(
        'InvalidParameterValue',
        `Value (${zone ?? ''}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: ${this.availabilityZones.join(', ')}.`,
      );
    }
    const subnet: Subnet = {
      subnetId: newEc2Id('subnet'),
      vpcId: request.vpcId,
      cidrBlock: request.cidrBlock,
      availabilityZone: zone,
      mapPublicIpOnLaunch: request.mapPublicIpOnLaunch ?? false,
      tags: request.tags ?? {},
    };
    this.subnets.set(subnet.subnetId, subnet);
    return subnet;
  }

  subnet(subnetId: string): Subnet {
    const subnet = this.subnets.get(subnetId);
    if (!subnet) throw new AwsError('InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
    return subnet;
  }

  deleteSubnet(subnetId: string): void {
    this.subnet(subnetId);
    for (const table of this.routeTables.values())
      for (const [association, subnet] of table.associations)
        if (subnet === subnetId) table.associations.delete(association);
    this.subnets.delete(subnetId);
  }

  createSecurityGroup(request: {
    groupName: string;
    description: string;
    vpcId: string;
    ingress?: IpPermission[];
    egress?: IpPermission[];
    tags?: Record<string, string>;
  }): SecurityGroup {
    this.vpc(request.vpcId);
    const clash = [...this.securityGroups.values()].some(
      (g) => g.vpcId === request.vpcId && g.groupName === request.groupName,
    );
    if (clash)
      throw new AwsError(
        'InvalidGroup.Duplicate',
        `The security group '${request.groupName}' already exists for VPC '${request.vpcId}'`,
      );
    const group: SecurityGroup = {
      groupId: newEc2Id('sg'),
      groupName: request.groupName,
      description: request.description,
      vpcId: request.vpcId,
      ingress: request.ingress ?? [],
      egress: request.egress && request.egress.length > 0 ? request.egress : [{ ...ALL_TRAFFIC_OUT }],
      tags: request.tags ?? {},
    };
    this.securityGroups.set(group.groupId, group);
    return group;
  }

  securityGroup(groupId: string): SecurityGroup {
    const group = this.securityGroups.get(groupId);
    if (!group) throw new AwsError('InvalidGroup.NotFound', `The security group '${groupId}' does not exist`);
    return group;
  }

  deleteSecurityGroup(groupId: string): void {
    this.securityGroup(groupId);
    this.securityGroups.delete(groupId);
  }

  createInternetGateway(tags: Record<string, string> = {}): InternetGateway {
    const gateway: InternetGateway = { internetGatewayId: newEc2Id('igw'), tags };
    this.internetGateways.set(gateway.internetGatewayId, gateway);
    return gateway;
  }

  internetGateway(id: string): InternetGateway {
    const gateway = this.internetGateways.get(id);
    if (!gateway)
      throw new AwsError(
        'InvalidInternetGatewayID.NotFound',
        `The internetGateway ID '${id}' does not exist`,
      );
    return gateway;
  }

  attachInternetGateway(id: string, vpcId: string): void {
    const gateway = this.internetGateway(id);
    this.vpc(vpcId);
    if (gateway.attachedVpcId && gateway.attachedVpcId !== vpcId)
      throw new AwsError(
        'Resource.AlreadyAssociated',
        `resource ${id} is already attached to network ${gateway.attachedVpcId}`,
      );
    gateway.attachedVpcId = vpcId;
  }

  detachInternetGateway(id: string, vpcId: string): void {
    const gateway = this.internetGateway(id);
    if (gateway.attachedVpcId !== vpcId)
      throw new AwsError('Gateway.NotAttached', `resource ${id} is not attached to network ${vpcId}`);
    gateway.attachedVpcId = undefined;
  }

  deleteInternetGateway(id: string): void {
    const gateway = this.internetGateway(id);
    if (gateway.attachedVpcId)
      throw new AwsError(
        'DependencyViolation',
        `The internetGateway '${id}' has dependencies and cannot be deleted.`,
      );
    this.internetGateways.delete(id);
  }

  createRouteTable(vpcId: string, tags: Record<string, string> = {}): RouteTable {
    const vpc = this.vpc(vpcId);
    const table: RouteTable = {
      routeTableId: newEc2Id('rtb'),
      vpcId,
      main: false,
      routes: [{ destinationCidrBlock: vpc.cidrBlock, gatewayId: 'local' }],
      associations: new Map(),
      tags,
    };
    this.routeTables.set(table.routeTableId, table);
    return table;
  }

  routeTable(id: string): RouteTable {
    const table = this.routeTables.get(id);
    if (!table)
      throw new AwsError('InvalidRouteTableID.NotFound', `The routeTable ID '${id}' does not exist`);
    return table;
  }

  deleteRouteTable(id: string): void {
    const table = this.routeTable(id);
    if (table.associations.size > 0)
      throw new AwsError(
        'DependencyViolation',
        `The routeTable '${id}' has dependencies and cannot be deleted.`,
      );
    this.routeTables.delete(id);
  }

  createRoute(routeTableId: string, route: Route): void {
    const table = this.routeTable(routeTableId);
    if (table.routes.some((r) => r.destinationCidrBlock === route.destinationCidrBlock))
      throw new AwsError(
        'RouteAlreadyExists',
        `The route identified by ${route.destinationCidrBlock} already exists.`,
      );
    table.routes.push(route);
  }

  deleteRoute(routeTableId: string, destinationCidrBlock: string): void {
    const table = this.routeTable(routeTableId);
    const before = table.routes.length;
    table.routes = table.routes.filter((r) => r.destinationCidrBlock !== destinationCidrBlock);
    if (table.routes.length === before)
      throw new AwsError(
        'InvalidRoute.NotFound',
        `no route with destination-cidr-block ${destinationCidrBlock} in route table ${routeTableId}`,
      );
  }

  associateRouteTable(routeTableId: string, subnetId: string): string {
    const table = this.routeTable(routeTableId);
    this.subnet(subnetId);
    const associationId = newEc2Id('rtbassoc');
    table.associations.set(associationId, subnetId);
    return associationId;
  }

  disassociateRouteTable(associationId: string): void {
    for (const table of this.routeTables.values()) if (table.associations.delete(associationId)) return;
    throw new AwsError(
      'InvalidAssociationID.NotFound',
      `The association ID '${associationId}' does not exist`,
    );
  }
}

function requireCidr(cidrBlock: string): void {
  if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidrBlock))
    throw new AwsError(
      'InvalidParameterValue',
      `Value (${cidrBlock}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`,
    );
}
