import { AwsError } from '../aws/errors';
import type { Clock } from '../clock';
import type { LoadBalancing } from '../elb/types';
import { AutoScalingGroups, type GroupRecord, type GroupSettings } from './auto-scaling';
import { availabilityZones } from './ids';
import { Instances, type InstanceRecord, type TerminationStart } from './instances';
import { LaunchTemplates } from './launch-templates';
import { Network } from './network';
import { LoopbackPorts } from './ports';
import { ProcessGroups } from './process-groups';
import type { AutoScalingGroup, Fleet, Instance, LaunchTemplateData } from './types';

/** EC2's default when neither the request nor the launch template names an instance type. */
const DEFAULT_INSTANCE_TYPE = 'm1.small';

export type RunInstancesRequest = Parameters<Fleet['runInstances']>[0];

export interface FleetOptions {
  accountId: string;
  region: string;
  clock: Clock;
  log(line: string): void;
  dataDir: string;
  elb(): LoadBalancing;
}

/**
 * The sandbox's EC2 and Auto Scaling: the `Fleet` other parts use in-process, plus what the EC2 and Auto Scaling
 * APIs and the CloudFormation providers need beyond it (reservations, pending-state launches, network records).
 */
export class SandboxFleet implements Fleet {
  readonly availabilityZones: string[];
  readonly network: Network;
  readonly launchTemplates: LaunchTemplates;
  readonly groups: AutoScalingGroups;
  private readonly records: Instances;

  constructor(readonly options: FleetOptions) {
    this.availabilityZones = availabilityZones(options.region);
    this.network = new Network(this.availabilityZones);
    this.launchTemplates = new LaunchTemplates(
      () => new Date(options.clock.now()),
      `arn:aws:iam::${options.accountId}:root`,
    );
    this.records = new Instances({
      dataDir: options.dataDir,
      clock: options.clock,
      log: options.log,
      ports: new LoopbackPorts(),
      processGroups: new ProcessGroups(),
      beforeStop: (instance) => this.groups.beforeInstanceStops(instance.instanceId),
    });
    this.groups = new AutoScalingGroups({
      accountId: options.accountId,
      region: options.region,
      now: () => new Date(options.clock.now()),
      log: options.log,
      elb: options.elb,
      launching: {
        launch: (group, count) => this.launchForGroup(group, count),
        waitUntilRunning: (ids) => this.records.waitUntilRunning(ids),
        isLive: (id) => {
          const state = this.records.get(id)?.instance.state;
          return state === 'pending' || state === 'running';
        },
        terminate: (ids) => this.records.beginTermination(ids).done,
      },
    });
  }

  // ---- Fleet (in-process) ----

  /** Resolves once the instances are running and their user data has started. */
  async runInstances(request: RunInstancesRequest): Promise<Instance[]> {
    const { records } = await this.launch(request);
    await this.records.waitUntilRunning(records.map((r) => r.instance.instanceId));
    return records.map((r) => r.instance);
  }

  async terminateInstances(instanceIds: string[]): Promise<void> {
    await this.beginTermination(instanceIds).done;
  }

  instance(instanceId: string): Instance | undefined {
    return this.records.get(instanceId)?.instance;
  }

  instances(filter?: { tags?: Record<string, string> }): Instance[] {
    const wanted = Object.entries(filter?.tags ?? {});
    return this.records
      .all()
      .map((r) => r.instance)
      .filter((i) => i.state !== 'terminated' && wanted.every(([key, value]) => i.tags[key] === value));
  }

  trackProcessGroup(instanceId: string, pid: number): () => void {
    return this.records.trackProcessGroup(instanceId, pid);
  }

  createLaunchTemplate(
    name: string,
    data: LaunchTemplateData,
  ): { launchTemplateId: string; version: string } {
    const record = this.launchTemplates.create(name, data);
    return { launchTemplateId: record.launchTemplateId, version: '1' };
  }

  launchTemplate(
    idOrName: string,
  ): { launchTemplateId: string; name: string; data: LaunchTemplateData } | undefined {
    const record = this.launchTemplates.find(idOrName);
    if (!record) return undefined;
    const version = this.launchTemplates.resolveVersion(record, '$Default');
    return {
      launchTemplateId: record.launchTemplateId,
      name: record.name,
      data: structuredClone(version.data),
    };
  }

  async createAutoScalingGroup(
    group: Omit<AutoScalingGroup, 'arn' | 'instanceIds'>,
  ): Promise<AutoScalingGroup> {
    const { group: created, ready } = this.createGroup(group);
    await ready;
    return created;
  }

  autoScalingGroup(name: string): AutoScalingGroup | undefined {
    return this.groups.get(name);
  }

  async updateAutoScalingGroup(
    name: string,
    changes: Partial<Pick<AutoScalingGroup, 'minSize' | 'maxSize' | 'desiredCapacity' | 'targetGroupArns'>>,
  ): Promise<AutoScalingGroup> {
    const { group, ready } = this.groups.update(name, changes);
    await ready;
    return group;
  }

  deleteAutoScalingGroup(name: string): Promise<void> {
    return this.groups.delete(name, true);
  }

  async stop(): Promise<void> {
    await this.records.stopAll();
  }

  // ---- for the APIs and providers ----

  /** RunInstances as the API answers it: instances in `pending`, booting in the background. */
  async launch(request: RunInstancesRequest): Promise<{ reservationId: string; records: InstanceRecord[] }> {
    let data: LaunchTemplateData = {};
    let launchTemplate: { launchTemplateId: string; version: string } | undefined;
    if (request.launchTemplate) {
      const idOrName = request.launchTemplate.launchTemplateId ?? request.launchTemplate.launchTemplateName;
      if (!idOrName)
        throw new AwsError(
          'MissingParameter',
          'The request must contain the parameter launchTemplateId or launchTemplateName',
        );
      const template = this.launchTemplates.require(idOrName);
      const version = this.launchTemplates.resolveVersion(template, request.launchTemplate.version);
      data = version.data;
      launchTemplate = {
        launchTemplateId: template.launchTemplateId,
        version: String(version.versionNumber),
      };
    }
    const imageId = request.imageId ?? data.imageId;
    if (!imageId) throw new AwsError('MissingParameter', 'The request must contain the parameter ImageId');
    if (!(request.count >= 1))
      throw new AwsError(
        'InvalidParameterValue',
        `Value (${request.count}) for parameter maxCount is invalid. Expected a positive integer.`,
      );
    const subnet = request.subnetId === undefined ? undefined : this.network.subnet(request.subnetId);
    const securityGroupIds = request.securityGroupIds ?? data.securityGroupIds ?? [];
    for (const groupId of securityGroupIds) this.network.securityGroup(groupId);
    const templateTags = (data.tagSpecifications ?? [])
      .filter((spec) => spec.resourceType === 'instance')
      .reduce<Record<string, string>>((all, spec) => ({ ...all, ...spec.tags }), {});
    const tags = { ...templateTags, ...request.tags };
    if (launchTemplate) {
      // EC2 tags instances launched from a template with where they came from.
      tags['aws:ec2launchtemplate:id'] = launchTemplate.launchTemplateId;
      tags['aws:ec2launchtemplate:version'] = launchTemplate.version;
    }
    return this.records.launch({
      imageId,
      instanceType: request.instanceType ?? data.instanceType ?? DEFAULT_INSTANCE_TYPE,
      userData: request.userData ?? data.userData,
      count: request.count,
      tags,
      subnetId: subnet?.subnetId,
      securityGroupIds,
      iamInstanceProfileArn: request.iamInstanceProfileArn ?? this.profileArn(data.iamInstanceProfile),
      launchTemplate,
      autoScalingGroupName: tags['aws:autoscaling:groupName'],
      availabilityZone: subnet?.availabilityZone ?? this.availabilityZones[0] ?? `${this.options.region}a`,
    });
  }

  /** TerminateInstances: unknown ids fail the whole call, as on EC2. */
  beginTermination(instanceIds: string[]): { changes: TerminationStart[]; done: Promise<void> } {
    const unknown = instanceIds.filter((id) => !this.records.get(id));
    if (unknown.length > 0) throw invalidInstanceIds(unknown);
    const started = this.records.beginTermination(instanceIds);
    const done = started.done.then(() => {
      for (const id of instanceIds) this.groups.forget(id);
    });
    return { changes: started.changes, done };
  }

  instanceRecord(instanceId: string): InstanceRecord | undefined {
    return this.records.get(instanceId);
  }

  instanceRecords(): InstanceRecord[] {
    return this.records.all();
  }

  /** CreateAutoScalingGroup as the API answers it: recorded at once, instances launching in the background. */
  createGroup(settings: GroupSettings): { group: GroupRecord; ready: Promise<void> } {
    const template = this.launchTemplates.require(settings.launchTemplate.launchTemplateId);
    this.launchTemplates.resolveVersion(template, settings.launchTemplate.version);
    for (const subnetId of settings.vpcZoneIdentifier) this.network.subnet(subnetId);
    return this.groups.create({
      ...settings,
      launchTemplate: {
        launchTemplateId: template.launchTemplateId,
        version: settings.launchTemplate.version,
      },
    });
  }

  private async launchForGroup(
    group: GroupRecord,
    count: number,
  ): Promise<
    Array<{
      instanceId: string;
      availabilityZone: string;
      launchTemplate: { launchTemplateId: string; launchTemplateName: string; version: string };
    }>
  > {
    const template = this.launchTemplates.require(group.launchTemplate.launchTemplateId);
    const version = this.launchTemplates.resolveVersion(template, group.launchTemplate.version);
    const tags: Record<string, string> = {};
    for (const [key, value] of Object.entries(group.tags))
      if (!group.unpropagatedTagKeys.includes(key)) tags[key] = value;
    tags['aws:autoscaling:groupName'] = group.name;
    const launched: InstanceRecord[] = [];
    // Spread across the group's subnets (its availability zones), one instance at a time, as AWS balances them.
    for (let i = 0; i < count; i++) {
      const subnets = group.vpcZoneIdentifier;
      const subnetId = subnets.length > 0 ? subnets[(group.members.size + i) % subnets.length] : undefined;
      const { records } = await this.launch({
        launchTemplate: {
          launchTemplateId: template.launchTemplateId,
          version: String(version.versionNumber),
        },
        count: 1,
        tags,
        subnetId,
      });
      launched.push(...records);
    }
    return launched.map((record) => ({
      instanceId: record.instance.instanceId,
      availabilityZone: record.availabilityZone,
      launchTemplate: {
        launchTemplateId: template.launchTemplateId,
        launchTemplateName: template.name,
        version: String(version.versionNumber),
      },
    }));
  }

  private profileArn(profile: LaunchTemplateData['iamInstanceProfile']): string | undefined {
    if (!profile) return undefined;
    return (
      profile.arn ??
      (profile.name ? `arn:aws:iam::${this.options.accountId}:instance-profile/${profile.name}` : undefined)
    );
  }
}

export function invalidInstanceIds(ids: string[]): AwsError {
  const malformed = ids.find((id) => !/^i-[0-9a-f]{8}([0-9a-f]{9})?$/.test(id));
  if (malformed) return new AwsError('InvalidInstanceID.Malformed', `Invalid id: "${malformed}"`);
  return new AwsError(
    'InvalidInstanceID.NotFound',
    ids.length > 1
      ? `The instance IDs '${ids.join(', ')}' do not exist`
      : `The instance ID '${ids[0] ?? ''}' does not exist`,
  );
}

export async function createFleet(options: FleetOptions): Promise<Fleet> {
  return new SandboxFleet(options);
}

/** The full fleet behind the `Fleet` the environment carries (the APIs and providers need more than the contract). */
export function sandboxFleet(fleet: Fleet): SandboxFleet {
  if (!(fleet instanceof SandboxFleet)) throw new Error('The environment does not carry the sandbox fleet');
  return fleet;
}
