import { AwsError } from '../aws/errors';
import type { Fleet } from '../fleet/types';
import type { DeploymentConfigStore } from './configs';
import { DEFAULT_DEPLOYMENT_CONFIG } from './configs';
import type { BlueGreenConfiguration, DeploymentGroupRecord, LastDeploymentInfo } from './model';
import { epochSeconds, newResourceId } from './model';
import type { Input } from './wire';
import {
  optionalString,
  readAutoRollback,
  readBlueGreenConfiguration,
  readDeploymentStyle,
  readLoadBalancerInfo,
  readTagFilters,
  readTagSet,
  stringList,
} from './wire';

/** Deployment groups: their validation (AWS's rules for styles, blue/green and load balancers) and rendering. */

export class DeploymentGroupStore {
  /** applicationName → groupName → group. */
  private readonly groups = new Map<string, Map<string, DeploymentGroupRecord>>();

  get(applicationName: string, name: string): DeploymentGroupRecord | undefined {
    return this.groups.get(applicationName)?.get(name);
  }

  require(applicationName: string, name: string): DeploymentGroupRecord {
    const group = this.get(applicationName, name);
    if (!group)
      throw new AwsError(
        'DeploymentGroupDoesNotExistException',
        `No Deployment Group found for name: ${name}`,
      );
    return group;
  }

  names(applicationName: string): string[] {
    return [...(this.groups.get(applicationName)?.keys() ?? [])].sort();
  }

  all(): DeploymentGroupRecord[] {
    return [...this.groups.values()].flatMap((byName) => [...byName.values()]);
  }

  add(group: DeploymentGroupRecord): void {
    if (this.get(group.applicationName, group.deploymentGroupName))
      throw new AwsError(
        'DeploymentGroupAlreadyExistsException',
        `Deployment Group already exists with name: ${group.deploymentGroupName}`,
      );
    let byName = this.groups.get(group.applicationName);
    if (!byName) {
      byName = new Map();
      this.groups.set(group.applicationName, byName);
    }
    byName.set(group.deploymentGroupName, group);
  }

  rename(group: DeploymentGroupRecord, newName: string): void {
    if (newName === group.deploymentGroupName) return;
    if (this.get(group.applicationName, newName))
      throw new AwsError(
        'DeploymentGroupAlreadyExistsException',
        `Deployment Group already exists with name: ${newName}`,
      );
    const byName = this.groups.get(group.applicationName);
    byName?.delete(group.deploymentGroupName);
    group.deploymentGroupName = newName;
    byName?.set(newName, group);
  }

  delete(applicationName: string, name: string): void {
    this.groups.get(applicationName)?.delete(name);
  }

  deleteApplication(applicationName: string): void {
    this.groups.delete(applicationName);
  }
}

/** The settable part of a group, read from CreateDeploymentGroup / UpdateDeploymentGroup input. */
type GroupSettings = Omit<
  DeploymentGroupRecord,
  | 'applicationName'
  | 'deploymentGroupId'
  | 'deploymentGroupName'
  | 'lastSuccessfulDeployment'
  | 'lastAttemptedDeployment'
  | 'targetRevision'
>;

/** Applies the input's members over `base` (create: defaults; update: the group as it is), then validates. */
export function readGroupSettings(
  input: Input,
  base: GroupSettings | undefined,
  configs: DeploymentConfigStore,
  fleet: Fleet,
): GroupSettings {
  const serviceRoleArn = optionalString(input, 'serviceRoleArn') ?? base?.serviceRoleArn;
  if (!serviceRoleArn) throw new AwsError('RoleRequiredException', 'The role ID was not specified.');
  if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+/.test(serviceRoleArn))
    throw new AwsError(
      'InvalidRoleException',
      'The service role ARN was specified in an invalid format. Or, if an Auto Scaling group was specified, the specified service role does not grant the appropriate permissions to Amazon EC2 Auto Scaling.',
    );
  const deploymentConfigName =
    optionalString(input, 'deploymentConfigName') ?? base?.deploymentConfigName ?? DEFAULT_DEPLOYMENT_CONFIG;
  configs.require(deploymentConfigName);

  const ec2TagFilters =
    'ec2TagFilters' in input ? readTagFilters(input['ec2TagFilters']) : (base?.ec2TagFilters ?? []);
  const ec2TagSet = 'ec2TagSet' in input ? readTagSet(input['ec2TagSet']) : base?.ec2TagSet;
  if (ec2TagFilters.length > 0 && ec2TagSet && ec2TagSet.ec2TagSetList.length > 0)
    throw new AwsError('InvalidInputException', 'Cannot specify both ec2TagFilters and ec2TagSet.');
  const autoScalingGroups = stringList(input, 'autoScalingGroups') ?? base?.autoScalingGroups ?? [];
  for (const name of autoScalingGroups) {
    if (!fleet.autoScalingGroup(name))
      throw new AwsError(
        'InvalidAutoScalingGroupException',
        `The Auto Scaling group was specified in an invalid format or does not exist: ${name}`,
      );
  }

  const deploymentStyle = readDeploymentStyle(input['deploymentStyle']) ??
    base?.deploymentStyle ?? { deploymentType: 'IN_PLACE', deploymentOption: 'WITHOUT_TRAFFIC_CONTROL' };
  const loadBalancerInfo =
    'loadBalancerInfo' in input ? readLoadBalancerInfo(input['loadBalancerInfo']) : base?.loadBalancerInfo;
  const autoRollbackConfiguration =
    'autoRollbackConfiguration' in input
      ? readAutoRollback(input['autoRollbackConfiguration'])
      : base?.autoRollbackConfiguration;
  let blueGreenDeploymentConfiguration =
    'blueGreenDeploymentConfiguration' in input
      ? readBlueGreenConfiguration(input['blueGreenDeploymentConfiguration'])
      : base?.blueGreenDeploymentConfiguration;
  const outdated =
    optionalString(input, 'outdatedInstancesStrategy') ?? base?.outdatedInstancesStrategy ?? 'UPDATE';
  if (outdated !== 'UPDATE' && outdated !== 'IGNORE')
    throw new AwsError('InvalidInputException', 'outdatedInstancesStrategy must be UPDATE or IGNORE.');

  const lbTargets = [
    ...(loadBalancerInfo?.targetGroupInfoList ?? []),
    ...(loadBalancerInfo?.elbInfoList ?? []),
  ];
  if (deploymentStyle.deploymentOption === 'WITH_TRAFFIC_CONTROL' && lbTargets.length === 0)
    throw new AwsError(
      'InvalidLoadBalancerInfoException',
      'An invalid load balancer name, or no load balancer name, was specified.',
    );

  if (deploymentStyle.deploymentType === 'BLUE_GREEN') {
    if (deploymentStyle.deploymentOption !== 'WITH_TRAFFIC_CONTROL')
      throw new AwsError(
        'InvalidDeploymentStyleException',
        'Blue/green deployments on EC2/on-premises instances require deploymentOption WITH_TRAFFIC_CONTROL.',
      );
    blueGreenDeploymentConfiguration = withBlueGreenDefaults(blueGreenDeploymentConfiguration);
    if (
      blueGreenDeploymentConfiguration.greenFleetProvisioningOption?.action === 'COPY_AUTO_SCALING_GROUP' &&
      autoScalingGroups.length !== 1
    )
      throw new AwsError(
        'InvalidBlueGreenDeploymentConfigurationException',
        'A blue/green deployment group with green fleet provisioning option COPY_AUTO_SCALING_GROUP must specify exactly one Auto Scaling group.',
      );
  }

  return {
    deploymentConfigName,
    serviceRoleArn,
    ec2TagFilters,
    ...(ec2TagSet ? { ec2TagSet } : {}),
    autoScalingGroups,
    deploymentStyle,
    ...(loadBalancerInfo ? { loadBalancerInfo } : {}),
    ...(blueGreenDeploymentConfiguration ? { blueGreenDeploymentConfiguration } : {}),
    ...(autoRollbackConfiguration ? { autoRollbackConfiguration } : {}),
    outdatedInstancesStrategy: outdated,
  };
}

/** The defaults AWS reports for the blue/green settings a caller left out. */
function withBlueGreenDefaults(config: BlueGreenConfiguration | undefined): BlueGreenConfiguration {
  return {
    terminateBlueInstancesOnDeploymentSuccess: config?.terminateBlueInstancesOnDeploymentSuccess ?? {
      action: 'TERMINATE',
      terminationWaitTimeInMinutes: 0,
    },
    deploymentReadyOption: config?.deploymentReadyOption ?? {
      actionOnTimeout: 'CONTINUE_DEPLOYMENT',
      waitTimeInMinutes: 0,
    },
    greenFleetProvisioningOption: config?.greenFleetProvisioningOption ?? { action: 'DISCOVER_EXISTING' },
  };
}

export function newDeploymentGroup(
  applicationName: string,
  name: string,
  settings: GroupSettings,
): DeploymentGroupRecord {
  return { applicationName, deploymentGroupId: newResourceId(), deploymentGroupName: name, ...settings };
}

function renderLastDeployment(info: LastDeploymentInfo | undefined): Record<string, unknown> | undefined {
  if (!info) return undefined;
  return {
    deploymentId: info.deploymentId,
    status: info.status,
    ...(info.endTime ? { endTime: epochSeconds(info.endTime) } : {}),
    createTime: epochSeconds(info.createTime),
  };
}

export function renderDeploymentGroup(group: DeploymentGroupRecord): Record<string, unknown> {
  return {
    applicationName: group.applicationName,
    deploymentGroupId: group.deploymentGroupId,
    deploymentGroupName: group.deploymentGroupName,
    deploymentConfigName: group.deploymentConfigName,
    ec2TagFilters: group.ec2TagFilters,
    onPremisesInstanceTagFilters: [],
    autoScalingGroups: group.autoScalingGroups.map((name) => ({ name })),
    serviceRoleArn: group.serviceRoleArn,
    ...(group.targetRevision ? { targetRevision: group.targetRevision } : {}),
    triggerConfigurations: [],
    alarmConfiguration: { enabled: false, ignorePollAlarmFailure: false, alarms: [] },
    autoRollbackConfiguration: group.autoRollbackConfiguration ?? { enabled: false, events: [] },
    deploymentStyle: group.deploymentStyle,
    outdatedInstancesStrategy: group.outdatedInstancesStrategy,
    ...(group.blueGreenDeploymentConfiguration
      ? { blueGreenDeploymentConfiguration: group.blueGreenDeploymentConfiguration }
      : {}),
    ...(group.loadBalancerInfo ? { loadBalancerInfo: group.loadBalancerInfo } : {}),
    ...(group.lastSuccessfulDeployment
      ? { lastSuccessfulDeployment: renderLastDeployment(group.lastSuccessfulDeployment) }
      : {}),
    ...(group.lastAttemptedDeployment
      ? { lastAttemptedDeployment: renderLastDeployment(group.lastAttemptedDeployment) }
      : {}),
    ...(group.ec2TagSet ? { ec2TagSet: group.ec2TagSet } : {}),
    computePlatform: 'Server',
  };
}
