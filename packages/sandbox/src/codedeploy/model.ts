import { randomBytes, randomUUID } from 'node:crypto';
import type { LifecycleEventName, LifecycleEventResult } from './agent/types';

/**
 * CodeDeploy's records as the service keeps them. Field names follow the wire shapes (botocore's
 * codedeploy service-2.json), so rendering is mostly a copy and the tests read like AWS's own examples.
 */

export type DeploymentStatus =
  'Created' | 'Queued' | 'InProgress' | 'Baking' | 'Succeeded' | 'Failed' | 'Stopped' | 'Ready';
export const ACTIVE_STATUSES: ReadonlySet<DeploymentStatus> = new Set([
  'Created',
  'Queued',
  'InProgress',
  'Baking',
  'Ready',
]);

export type TargetStatus =
  'Pending' | 'InProgress' | 'Succeeded' | 'Failed' | 'Skipped' | 'Unknown' | 'Ready';
export type LifecycleEventStatus = 'Pending' | 'InProgress' | 'Succeeded' | 'Failed' | 'Skipped' | 'Unknown';
/** The model's TargetLabel / InstanceType enums spell these in title case. */
export type InstanceLabel = 'Blue' | 'Green';
export type DeploymentCreator = 'user' | 'autoscaling' | 'codeDeployRollback';
export type FileExistsBehavior = 'DISALLOW' | 'OVERWRITE' | 'RETAIN';

export interface S3Location {
  bucket: string;
  key: string;
  bundleType: 'tar' | 'tgz' | 'zip' | 'YAML' | 'JSON';
  version?: string;
  eTag?: string;
}

export interface RevisionLocation {
  revisionType: 'S3';
  s3Location: S3Location;
}

export interface TagFilter {
  Key?: string;
  Value?: string;
  Type: 'KEY_ONLY' | 'VALUE_ONLY' | 'KEY_AND_VALUE';
}

export interface TargetInstances {
  tagFilters?: TagFilter[];
  autoScalingGroups?: string[];
  ec2TagSet?: { ec2TagSetList: TagFilter[][] };
}

export interface DeploymentStyle {
  deploymentType: 'IN_PLACE' | 'BLUE_GREEN';
  deploymentOption: 'WITH_TRAFFIC_CONTROL' | 'WITHOUT_TRAFFIC_CONTROL';
}

export interface LoadBalancerInfo {
  elbInfoList?: Array<{ name: string }>;
  targetGroupInfoList?: Array<{ name: string }>;
}

export interface BlueGreenConfiguration {
  terminateBlueInstancesOnDeploymentSuccess?: {
    action?: 'TERMINATE' | 'KEEP_ALIVE';
    terminationWaitTimeInMinutes?: number;
  };
  deploymentReadyOption?: {
    actionOnTimeout?: 'CONTINUE_DEPLOYMENT' | 'STOP_DEPLOYMENT';
    waitTimeInMinutes?: number;
  };
  greenFleetProvisioningOption?: { action?: 'DISCOVER_EXISTING' | 'COPY_AUTO_SCALING_GROUP' };
}

export type AutoRollbackEvent =
  'DEPLOYMENT_FAILURE' | 'DEPLOYMENT_STOP_ON_ALARM' | 'DEPLOYMENT_STOP_ON_REQUEST';

export interface AutoRollbackConfiguration {
  enabled?: boolean;
  events?: AutoRollbackEvent[];
}

export interface ApplicationRecord {
  applicationId: string;
  applicationName: string;
  createTime: Date;
  computePlatform: 'Server';
}

export interface LastDeploymentInfo {
  deploymentId: string;
  status: DeploymentStatus;
  endTime?: Date;
  createTime: Date;
}

export interface DeploymentGroupRecord {
  applicationName: string;
  deploymentGroupId: string;
  deploymentGroupName: string;
  deploymentConfigName: string;
  serviceRoleArn: string;
  ec2TagFilters: TagFilter[];
  ec2TagSet?: { ec2TagSetList: TagFilter[][] };
  autoScalingGroups: string[];
  deploymentStyle: DeploymentStyle;
  loadBalancerInfo?: LoadBalancerInfo;
  blueGreenDeploymentConfiguration?: BlueGreenConfiguration;
  autoRollbackConfiguration?: AutoRollbackConfiguration;
  outdatedInstancesStrategy: 'UPDATE' | 'IGNORE';
  targetRevision?: RevisionLocation;
  lastSuccessfulDeployment?: LastDeploymentInfo;
  lastAttemptedDeployment?: LastDeploymentInfo;
}

export interface MinimumHealthyHosts {
  type: 'HOST_COUNT' | 'FLEET_PERCENT';
  value: number;
}

export interface DeploymentConfigRecord {
  deploymentConfigId: string;
  deploymentConfigName: string;
  minimumHealthyHosts: MinimumHealthyHosts;
  createTime: Date;
  computePlatform: 'Server';
  builtIn: boolean;
}

export interface LifecycleEventRecord {
  lifecycleEventName: LifecycleEventName;
  status: LifecycleEventStatus;
  startTime?: Date;
  endTime?: Date;
  diagnostics?: LifecycleEventResult['diagnostics'];
}

export interface TargetRecord {
  targetId: string;
  targetArn: string;
  label?: InstanceLabel;
  status: TargetStatus;
  lastUpdatedAt: Date;
  lifecycleEvents: LifecycleEventRecord[];
}

export interface ErrorInformation {
  code: string;
  message: string;
}

export interface RollbackInfo {
  rollbackDeploymentId?: string;
  rollbackTriggeringDeploymentId?: string;
  rollbackMessage?: string;
}

export interface DeploymentRecord {
  deploymentId: string;
  applicationName: string;
  deploymentGroupName: string;
  deploymentGroupId: string;
  deploymentConfigName: string;
  revision: RevisionLocation;
  previousRevision?: RevisionLocation;
  status: DeploymentStatus;
  errorInformation?: ErrorInformation;
  createTime: Date;
  startTime?: Date;
  completeTime?: Date;
  description?: string;
  creator: DeploymentCreator;
  ignoreApplicationStopFailures: boolean;
  updateOutdatedInstancesOnly: boolean;
  /** The configuration in force for this deployment: the request's override, else the group's. */
  autoRollbackConfiguration?: AutoRollbackConfiguration;
  rollbackInfo?: RollbackInfo;
  deploymentStyle: DeploymentStyle;
  targetInstances?: TargetInstances;
  instanceTerminationWaitTimeStarted: boolean;
  blueGreenDeploymentConfiguration?: BlueGreenConfiguration;
  loadBalancerInfo?: LoadBalancerInfo;
  fileExistsBehavior: FileExistsBehavior;
  /** Insertion-ordered; empty until targets are known (ListDeploymentTargets answers DeploymentNotStarted). */
  targets: Map<string, TargetRecord>;
  /** Whether targets have been resolved, even if there turned out to be none. */
  targetsResolved: boolean;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** `d-` + 9 upper-case alphanumerics, as CodeDeploy's deployment ids. */
export function newDeploymentId(): string {
  let suffix = '';
  for (const byte of randomBytes(9)) suffix += ID_ALPHABET[byte % ID_ALPHABET.length];
  return `d-${suffix}`;
}

export function newResourceId(): string {
  return randomUUID();
}

/** CodeDeploy's JSON timestamps: epoch seconds with a fraction, as JSON numbers. */
export function epochSeconds(date: Date | undefined): number | undefined {
  return date === undefined ? undefined : date.getTime() / 1000;
}

export function revisionKey(revision: RevisionLocation): string {
  const s3 = revision.s3Location;
  return JSON.stringify([
    s3.bucket,
    s3.key,
    s3.bundleType,
    s3.version ?? '',
    (s3.eTag ?? '').replace(/"/g, ''),
  ]);
}
