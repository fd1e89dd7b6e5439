import { AwsError } from '../aws/errors';
import type { LoadBalancing } from '../elb/types';
import { autoScalingGroupArn } from './ids';
import type { AutoScalingGroup } from './types';

export type LifecycleState = 'Pending' | 'InService' | 'Terminating';

export interface GroupMember {
  readonly instanceId: string;
  lifecycleState: LifecycleState;
  readonly availabilityZone: string;
  readonly launchTemplate: { launchTemplateId: string; launchTemplateName: string; version: string };
}

export type GroupSettings = Omit<AutoScalingGroup, 'arn' | 'instanceIds'> & {
  /** Tag keys not copied onto instances (CloudFormation's PropagateAtLaunch: false); all others are. */
  unpropagatedTagKeys?: string[];
};

/** One Auto Scaling group; `instanceIds` is live, so callers holding the object see scaling as it happens. */
export class GroupRecord implements AutoScalingGroup {
  readonly name: string;
  readonly arn: string;
  launchTemplate: { launchTemplateId: string; version: string };
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  targetGroupArns: string[];
  vpcZoneIdentifier: string[];
  tags: Record<string, string>;
  unpropagatedTagKeys: string[];
  readonly createdTime: Date;
  readonly members = new Map<string, GroupMember>();
  /** AWS's Status field: set only while a delete runs. */
  status: 'Delete in progress' | undefined;
  /** Scaling activities run one at a time, in order, like the group's activity history. */
  activity: Promise<void> = Promise.resolve();
  activitiesRunning = 0;

  constructor(settings: GroupSettings, arn: string, createdTime: Date) {
    this.name = settings.name;
    this.arn = arn;
    this.launchTemplate = { ...settings.launchTemplate };
    this.minSize = settings.minSize;
    this.maxSize = settings.maxSize;
    this.desiredCapacity = settings.desiredCapacity;
    this.targetGroupArns = [...settings.targetGroupArns];
    this.vpcZoneIdentifier = [...settings.vpcZoneIdentifier];
    this.tags = { ...settings.tags };
    this.unpropagatedTagKeys = [...(settings.unpropagatedTagKeys ?? [])];
    this.createdTime = createdTime;
  }

  get instanceIds(): string[] {
    return [...this.members.keys()];
  }
}

/** What the groups need from the rest of the fleet: launching, waiting for and terminating instances. */
export interface GroupLaunching {
  launch(
    group: GroupRecord,
    count: number,
  ): Promise<
    Array<{ instanceId: string; availabilityZone: string; launchTemplate: GroupMember['launchTemplate'] }>
  >;
  waitUntilRunning(instanceIds: string[]): Promise<void>;
  isLive(instanceId: string): boolean;
  terminate(instanceIds: string[]): Promise<void>;
}

/**
 * Auto Scaling groups: keep desired capacity of instances from a launch template, register them with the
 * group's target groups once running, deregister them before terminating them. Scaling is only what
 * desired-capacity changes ask for: no health-check replacement, policies or AZ rebalancing.
 */
export class AutoScalingGroups {
  private readonly groups = new Map<string, GroupRecord>();

  constructor(
    private readonly options: {
      accountId: string;
      region: string;
      now(): Date;
      log(line: string): void;
      elb(): LoadBalancing;
      launching: GroupLaunching;
    },
  ) {}

  /** Validates and records the group; its instances launch in the background (`ready` resolves when InService). */
  create(settings: GroupSettings): { group: GroupRecord; ready: Promise<void> } {
    if (this.groups.has(settings.name)) {
      throw new AwsError(
        'AlreadyExists',
        `AutoScalingGroup by this name already exists - A group with the name ${settings.name} already exists`,
      );
    }
    validateCapacity(settings.minSize, settings.maxSize, settings.desiredCapacity);
    this.validateTargetGroups(settings.targetGroupArns);
    const group = new GroupRecord(
      settings,
      autoScalingGroupArn(this.options.region, this.options.accountId, settings.name),
      this.options.now(),
    );
    this.groups.set(group.name, group);
    this.options.log(`autoscaling ${group.name}: created (desired ${group.desiredCapacity})`);
    return { group, ready: this.scale(group) };
  }

  get(name: string): GroupRecord | undefined {
    return this.groups.get(name);
  }

  require(name: string): GroupRecord {
    const group = this.groups.get(name);
    if (!group || group.status === 'Delete in progress') {
      throw new AwsError(
        'ValidationError',
        `AutoScalingGroup name not found - AutoScalingGroup '${name}' not found`,
      );
    }
    return group;
  }

  all(): GroupRecord[] {
    return [...this.groups.values()];
  }

  /** The group an instance belongs to, if any. */
  groupOf(instanceId: string): GroupRecord | undefined {
    for (const group of this.groups.values()) if (group.members.has(instanceId)) return group;
    return undefined;
  }

  /**
   * UpdateAutoScalingGroup: a new MinSize above the desired capacity raises it, a new MaxSize below lowers it
   * (as AWS does when DesiredCapacity is not given); then the group scales to the result.
   */
  update(
    name: string,
    changes: Partial<
      Pick<
        AutoScalingGroup,
        'minSize' | 'maxSize' | 'desiredCapacity' | 'targetGroupArns' | 'launchTemplate' | 'vpcZoneIdentifier'
      >
    >,
  ): { group: GroupRecord; ready: Promise<void> } {
    const group = this.require(name);
    const minSize = changes.minSize ?? group.minSize;
    const maxSize = changes.maxSize ?? group.maxSize;
    let desired = changes.desiredCapacity ?? group.desiredCapacity;
    if (changes.desiredCapacity === undefined) desired = Math.min(Math.max(desired, minSize), maxSize);
    validateCapacity(minSize, maxSize, desired);
    if (changes.targetGroupArns) this.validateTargetGroups(changes.targetGroupArns);
    group.minSize = minSize;
    group.maxSize = maxSize;
    group.desiredCapacity = desired;
    if (changes.launchTemplate) group.launchTemplate = { ...changes.launchTemplate };
    if (changes.vpcZoneIdentifier) group.vpcZoneIdentifier = [...changes.vpcZoneIdentifier];
    let ready = this.scale(group);
    if (changes.targetGroupArns) {
      const added = changes.targetGroupArns.filter((arn) => !group.targetGroupArns.includes(arn));
      const removed = group.targetGroupArns.filter((arn) => !changes.targetGroupArns?.includes(arn));
      group.targetGroupArns = [...changes.targetGroupArns];
      ready = ready.then(() => this.retarget(group, added, removed));
    }
    return { group, ready };
  }

  /** SetDesiredCapacity, with its own wording for out-of-range values. */
  setDesiredCapacity(name: string, desired: number): { group: GroupRecord; ready: Promise<void> } {
    const group = this.require(name);
    if (desired > group.maxSize)
      throw new AwsError(
        'ValidationError',
        `New SetDesiredCapacity value ${desired} is above max value ${group.maxSize} for the AutoScalingGroup.`,
      );
    if (desired < group.minSize)
      throw new AwsError(
        'ValidationError',
        `New SetDesiredCapacity value ${desired} is below min value ${group.minSize} for the AutoScalingGroup.`,
      );
    group.desiredCapacity = desired;
    return { group, ready: this.scale(group) };
  }

  /**
   * DeleteAutoScalingGroup. Without force a group must be empty and idle (AWS's ResourceInUse and
   * ScalingActivityInProgress); with force its instances are deregistered and terminated first.
   */
  delete(name: string, force: boolean): Promise<void> {
    const group = this.require(name);
    if (!force) {
      if (group.activitiesRunning > 0)
        throw new AwsError(
          'ScalingActivityInProgress',
          'You cannot delete an AutoScalingGroup while there are scaling activities in progress for that group.',
        );
      if (group.members.size > 0)
        throw new AwsError(
          'ResourceInUse',
          'You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.',
        );
    }
    group.status = 'Delete in progress';
    group.minSize = 0;
    group.maxSize = 0;
    group.desiredCapacity = 0;
    return this.scale(group).then(() => {
      this.groups.delete(name);
      this.options.log(`autoscaling ${name}: deleted`);
    });
  }

  /** Called when an instance of a group starts terminating by any route: it leaves its target groups first. */
  async beforeInstanceStops(instanceId: string): Promise<void> {
    const group = this.groupOf(instanceId);
    if (!group) return;
    const member = group.members.get(instanceId);
    if (member) member.lifecycleState = 'Terminating';
    await this.deregister(group.targetGroupArns, [instanceId]);
  }

  /** Forgets terminated members (an instance terminated through EC2 leaves its group, which does not replace it). */
  forget(instanceId: string): void {
    this.groupOf(instanceId)?.members.delete(instanceId);
  }

  private scale(group: GroupRecord): Promise<void> {
    group.activitiesRunning += 1;
    const run = async (): Promise<void> => {
      try {
        const live = [...group.members.values()].filter(
          (m) => m.lifecycleState !== 'Terminating' && this.options.launching.isLive(m.instanceId),
        );
        if (live.length < group.desiredCapacity)
          await this.launch(group, group.desiredCapacity - live.length);
        else if (live.length > group.desiredCapacity) {
          // Oldest first, a reasonable reading of the default termination policy for one launch template.
          await this.terminate(
            group,
            live.slice(0, live.length - group.desiredCapacity).map((m) => m.instanceId),
          );
        }
      } finally {
        group.activitiesRunning -= 1;
      }
    };
    const next = group.activity.then(run, run);
    // The chain must survive a failed activity; the failure still reaches whoever awaits this one.
    group.activity = next.catch((error: unknown) => {
      this.options.log(`autoscaling ${group.name}: scaling activity failed: ${(error as Error).message}`);
    });
    return next;
  }

  private async launch(group: GroupRecord, count: number): Promise<void> {
    const launched = await this.options.launching.launch(group, count);
    for (const { instanceId, availabilityZone, launchTemplate } of launched) {
      group.members.set(instanceId, {
        instanceId,
        lifecycleState: 'Pending',
        availabilityZone,
        launchTemplate,
      });
    }
    const ids = launched.map((l) => l.instanceId);
    this.options.log(`autoscaling ${group.name}: launching ${ids.join(', ')}`);
    await this.options.launching.waitUntilRunning(ids);
    const running = ids.filter((id) => this.options.launching.isLive(id));
    await this.register(group.targetGroupArns, running);
    for (const id of running) {
      const member = group.members.get(id);
      if (member && member.lifecycleState === 'Pending') member.lifecycleState = 'InService';
    }
  }

  private async terminate(group: GroupRecord, instanceIds: string[]): Promise<void> {
    this.options.log(`autoscaling ${group.name}: terminating ${instanceIds.join(', ')}`);
    for (const id of instanceIds) {
      const member = group.members.get(id);
      if (member) member.lifecycleState = 'Terminating';
    }
    await this.options.launching.terminate(instanceIds);
    for (const id of instanceIds) group.members.delete(id);
  }

  private async retarget(group: GroupRecord, added: string[], removed: string[]): Promise<void> {
    const inService = [...group.members.values()]
      .filter((m) => m.lifecycleState === 'InService')
      .map((m) => m.instanceId);
    await this.register(added, inService);
    await this.deregister(removed, inService);
  }

  private async register(targetGroupArns: string[], instanceIds: string[]): Promise<void> {
    if (targetGroupArns.length === 0 || instanceIds.length === 0) return;
    const elb = this.options.elb();
    await Promise.all(targetGroupArns.map((arn) => elb.registerTargets(arn, instanceIds)));
  }

  private async deregister(targetGroupArns: string[], instanceIds: string[]): Promise<void> {
    if (targetGroupArns.length === 0 || instanceIds.length === 0) return;
    const elb = this.options.elb();
    await Promise.all(
      targetGroupArns
        .filter((arn) => elb.targetGroup(arn) !== undefined)
        .map((arn) => elb.deregisterTargets(arn, instanceIds)),
    );
  }

  private validateTargetGroups(arns: string[]): void {
    if (arns.length === 0) return;
    const elb = this.options.elb();
    if (arns.some((arn) => elb.targetGroup(arn) === undefined)) {
      throw new AwsError(
        'ValidationError',
        'Provided Target Groups may not be valid. Please ensure they exist and try again.',
      );
    }
  }
}

function validateCapacity(minSize: number, maxSize: number, desired: number): void {
  if (minSize > maxSize)
    throw new AwsError(
      'ValidationError',
      `Max bound, ${maxSize}, must be greater than or equal to min bound, ${minSize}`,
    );
  if (desired < minSize || desired > maxSize)
    throw new AwsError(
      'ValidationError',
      `Desired capacity:${desired} must be between the specified min size:${minSize} and max size:${maxSize}`,
    );
}
