/**
 * The sandbox's EC2 and Auto Scaling state as other sandbox parts use it in-process. An instance is a
 * directory acting as its root ("/") plus a loopback port of its own, so several "servers" run side by side;
 * processes started for it (user data, daemons launched by hooks) are tracked by process group and killed
 * when it terminates or the sandbox stops.
 */
export type InstanceState = 'pending' | 'running' | 'shutting-down' | 'terminated';

export interface Instance {
  /** `i-` + 17 hex digits. */
  readonly instanceId: string;
  state: InstanceState;
  /** The instance's "/": paths in appspecs and user data are re-rooted under it. */
  readonly rootDir: string;
  /** A free 127.0.0.1 port assigned to this instance; its web server listens here (the "port 80" of the box). */
  readonly port: number;
  readonly privateIpAddress: string;
  readonly imageId: string;
  readonly instanceType: string;
  readonly subnetId?: string;
  readonly securityGroupIds: string[];
  readonly tags: Record<string, string>;
  readonly launchTemplate?: { launchTemplateId: string; version: string };
  readonly iamInstanceProfileArn?: string;
  autoScalingGroupName?: string;
  readonly launchTime: Date;
}

export interface LaunchTemplateData {
  imageId?: string;
  instanceType?: string;
  /** Base64, as in EC2. Runs (as a bash script, re-rooted like hooks) when an instance starts. */
  userData?: string;
  iamInstanceProfile?: { arn?: string; name?: string };
  securityGroupIds?: string[];
  tagSpecifications?: Array<{ resourceType: string; tags: Record<string, string> }>;
}

export interface AutoScalingGroup {
  readonly name: string;
  readonly arn: string;
  launchTemplate: { launchTemplateId: string; version: string };
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  /** Target groups whose targets the group's instances become on launch (and stop being on terminate). */
  targetGroupArns: string[];
  vpcZoneIdentifier: string[];
  tags: Record<string, string>;
  readonly instanceIds: string[];
}

export interface Fleet {
  /** Resolves once the instances are running and their user data has started (the EC2 API answers earlier, in pending). */
  runInstances(request: {
    launchTemplate?: { launchTemplateId?: string; launchTemplateName?: string; version?: string };
    imageId?: string;
    instanceType?: string;
    userData?: string;
    count: number;
    tags?: Record<string, string>;
    subnetId?: string;
    securityGroupIds?: string[];
    iamInstanceProfileArn?: string;
  }): Promise<Instance[]>;
  /** Stops every process of each instance (process group), then marks it terminated. Idempotent. */
  terminateInstances(instanceIds: string[]): Promise<void>;
  instance(instanceId: string): Instance | undefined;
  /** Live (non-terminated) instances, optionally filtered by exact tag values. */
  instances(filter?: { tags?: Record<string, string> }): Instance[];
  /** Registers a process started for an instance (e.g. a daemon a hook launched) so terminate kills it. */
  trackProcessGroup(instanceId: string, pid: number): void;

  createLaunchTemplate(name: string, data: LaunchTemplateData): { launchTemplateId: string; version: string };
  launchTemplate(
    idOrName: string,
  ): { launchTemplateId: string; name: string; data: LaunchTemplateData } | undefined;

  /** Launches desiredCapacity instances and waits until they are running (user data started). */
  createAutoScalingGroup(group: Omit<AutoScalingGroup, 'arn' | 'instanceIds'>): Promise<AutoScalingGroup>;
  autoScalingGroup(name: string): AutoScalingGroup | undefined;
  updateAutoScalingGroup(
    name: string,
    changes: Partial<Pick<AutoScalingGroup, 'minSize' | 'maxSize' | 'desiredCapacity' | 'targetGroupArns'>>,
  ): Promise<AutoScalingGroup>;
  /** Terminates the group's instances and removes it (ForceDelete semantics). */
  deleteAutoScalingGroup(name: string): Promise<void>;

  /** Sandbox close: kills every instance process. */
  stop(): Promise<void>;
}
