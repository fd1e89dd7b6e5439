import type { AwsEnvironment } from '../aws/service';
import {
  changedAny,
  failedFrom,
  generatedName,
  optionalString,
  PropertyError,
  requiredString,
  stabilized,
  stabilizedDelete,
  stringList,
} from '../cloudformation/providers/support';
import type { ProgressEvent, ResourceProvider, ResourceRequest } from '../cloudformation/providers/types';
import { ACTIVE_STATUSES } from './model';
import { codeDeployBackend } from './service';

/**
 * AWS::CodeDeploy::Application, ::DeploymentGroup and ::DeploymentConfig. Each translates its CloudFormation
 * properties (PascalCase) into the API's input and calls the service's own operation, so validation and errors
 * are the API's.
 */

const SERVICE = 'CodeDeploy';
/** Simulated seconds between checks of a deployment the group's `Deployment` property started. */
const DEPLOYMENT_POLL_SECONDS = 5;

type Properties = Record<string, unknown>;

function object(value: unknown, path: string): Properties | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    throw new PropertyError(
      `Property validation failure: [Value of property {/${path}} does not match type {Object}]`,
    );
  return value as Properties;
}

function list(value: unknown, path: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value))
    throw new PropertyError(
      `Property validation failure: [Value of property {/${path}} does not match type {Array}]`,
    );
  return value;
}

function integer(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

function bool(value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  return value === true || value === 'true';
}

function tagFilters(value: unknown, path: string): Properties[] {
  return list(value, path).map((item, i) => {
    const filter = object(item, `${path}/${i}`) ?? {};
    return {
      ...(filter['Key'] !== undefined ? { Key: String(filter['Key']) } : {}),
      ...(filter['Value'] !== undefined ? { Value: String(filter['Value']) } : {}),
      Type: filter['Type'],
    };
  });
}

function revision(value: unknown): Properties | undefined {
  const rev = object(value, 'Deployment/Revision');
  if (!rev) return undefined;
  const s3 = object(rev['S3Location'], 'Deployment/Revision/S3Location') ?? {};
  return {
    revisionType: rev['RevisionType'] ?? 'S3',
    s3Location: {
      bucket: s3['Bucket'],
      key: s3['Key'],
      bundleType: s3['BundleType'],
      ...(s3['ETag'] !== undefined ? { eTag: s3['ETag'] } : {}),
      ...(s3['Version'] !== undefined ? { version: s3['Version'] } : {}),
    },
  };
}

/** The group's settings as CreateDeploymentGroup / UpdateDeploymentGroup input; absent properties clear settings. */
function groupInput(p: Properties): Properties {
  const style = object(p['DeploymentStyle'], 'DeploymentStyle');
  const lb = object(p['LoadBalancerInfo'], 'LoadBalancerInfo');
  const bg = object(p['BlueGreenDeploymentConfiguration'], 'BlueGreenDeploymentConfiguration');
  const rollback = object(p['AutoRollbackConfiguration'], 'AutoRollbackConfiguration');
  const tagSet = object(p['Ec2TagSet'], 'Ec2TagSet');
  const terminate = object(
    bg?.['TerminateBlueInstancesOnDeploymentSuccess'],
    'BlueGreenDeploymentConfiguration/TerminateBlueInstancesOnDeploymentSuccess',
  );
  const ready = object(
    bg?.['DeploymentReadyOption'],
    'BlueGreenDeploymentConfiguration/DeploymentReadyOption',
  );
  const green = object(
    bg?.['GreenFleetProvisioningOption'],
    'BlueGreenDeploymentConfiguration/GreenFleetProvisioningOption',
  );
  const names = (value: unknown, path: string) =>
    list(value, path).map((item, i) => ({
      name: optionalString(object(item, `${path}/${i}`) ?? {}, 'Name'),
    }));
  return {
    serviceRoleArn: optionalString(p, 'ServiceRoleArn'),
    ...(p['DeploymentConfigName'] !== undefined
      ? { deploymentConfigName: optionalString(p, 'DeploymentConfigName') }
      : {}),
    ec2TagFilters: tagFilters(p['Ec2TagFilters'], 'Ec2TagFilters'),
    ec2TagSet: tagSet
      ? {
          ec2TagSetList: list(tagSet['Ec2TagSetList'], 'Ec2TagSet/Ec2TagSetList').map((entry, i) =>
            tagFilters(
              object(entry, `Ec2TagSet/Ec2TagSetList/${i}`)?.['Ec2TagGroup'],
              `Ec2TagSet/Ec2TagSetList/${i}/Ec2TagGroup`,
            ),
          ),
        }
      : null,
    autoScalingGroups: stringList(p, 'AutoScalingGroups'),
    deploymentStyle: style
      ? {
          deploymentType: style['DeploymentType'] ?? 'IN_PLACE',
          deploymentOption: style['DeploymentOption'] ?? 'WITHOUT_TRAFFIC_CONTROL',
        }
      : { deploymentType: 'IN_PLACE', deploymentOption: 'WITHOUT_TRAFFIC_CONTROL' },
    loadBalancerInfo: lb
      ? {
          ...(lb['TargetGroupInfoList'] !== undefined
            ? {
                targetGroupInfoList: names(lb['TargetGroupInfoList'], 'LoadBalancerInfo/TargetGroupInfoList'),
              }
            : {}),
          ...(lb['ElbInfoList'] !== undefined
            ? { elbInfoList: names(lb['ElbInfoList'], 'LoadBalancerInfo/ElbInfoList') }
            : {}),
        }
      : null,
    blueGreenDeploymentConfiguration: bg
      ? {
          ...(terminate
            ? {
                terminateBlueInstancesOnDeploymentSuccess: {
                  action: terminate['Action'],
                  ...(terminate['TerminationWaitTimeInMinutes'] !== undefined
                    ? { terminationWaitTimeInMinutes: integer(terminate['TerminationWaitTimeInMinutes']) }
                    : {}),
                },
              }
            : {}),
          ...(ready
            ? {
                deploymentReadyOption: {
                  actionOnTimeout: ready['ActionOnTimeout'],
                  ...(ready['WaitTimeInMinutes'] !== undefined
                    ? { waitTimeInMinutes: integer(ready['WaitTimeInMinutes']) }
                    : {}),
                },
              }
            : {}),
          ...(green ? { greenFleetProvisioningOption: { action: green['Action'] } } : {}),
        }
      : null,
    autoRollbackConfiguration: rollback
      ? {
          enabled: bool(rollback['Enabled']) ?? false,
          events: list(rollback['Events'], 'AutoRollbackConfiguration/Events'),
        }
      : null,
    ...(p['OutdatedInstancesStrategy'] !== undefined
      ? { outdatedInstancesStrategy: optionalString(p, 'OutdatedInstancesStrategy') }
      : {}),
  };
}

function applicationProvider(env: AwsEnvironment): ResourceProvider {
  return {
    type: 'AWS::CodeDeploy::Application',
    attributeNames: [],
    namingProperty: 'ApplicationName',
    defaultDelaySeconds: 1,
    createOnlyProperties: ['ApplicationName', 'ComputePlatform'],
    requiresReplacement: (before, after) => changedAny(before, after, ['ApplicationName', 'ComputePlatform']),
    ref: (physicalId) => physicalId,
    create(request, context) {
      return stabilized(request, context, SERVICE, async () => {
        const name =
          optionalString(request.properties, 'ApplicationName') ?? generatedName(request, { maxLength: 100 });
        const platform = optionalString(request.properties, 'ComputePlatform');
        await codeDeployBackend(env).invoke('CreateApplication', {
          applicationName: name,
          ...(platform !== undefined ? { computePlatform: platform } : {}),
        });
        return { physicalId: name };
      });
    },
    update(request, context) {
      // Only Tags can change in place, and the sandbox keeps no CodeDeploy tags.
      return stabilized(request, context, SERVICE, async () => ({
        physicalId: request.physicalId as string,
      }));
    },
    delete(request, context) {
      return stabilizedDelete(request, context, SERVICE, async () => {
        await codeDeployBackend(env).invoke('DeleteApplication', { applicationName: request.physicalId });
      });
    },
  };
}

function deploymentConfigProvider(env: AwsEnvironment): ResourceProvider {
  const createOnly = [
    'DeploymentConfigName',
    'MinimumHealthyHosts',
    'ComputePlatform',
    'TrafficRoutingConfig',
    'ZonalConfig',
  ];
  return {
    type: 'AWS::CodeDeploy::DeploymentConfig',
    attributeNames: [],
    namingProperty: 'DeploymentConfigName',
    defaultDelaySeconds: 1,
    createOnlyProperties: createOnly,
    requiresReplacement: (before, after) => changedAny(before, after, createOnly),
    ref: (physicalId) => physicalId,
    create(request, context) {
      return stabilized(request, context, SERVICE, async () => {
        const name =
          optionalString(request.properties, 'DeploymentConfigName') ??
          generatedName(request, { maxLength: 100 });
        const minimum = object(request.properties['MinimumHealthyHosts'], 'MinimumHealthyHosts');
        const platform = optionalString(request.properties, 'ComputePlatform');
        await codeDeployBackend(env).invoke('CreateDeploymentConfig', {
          deploymentConfigName: name,
          ...(minimum
            ? { minimumHealthyHosts: { type: minimum['Type'], value: integer(minimum['Value']) } }
            : {}),
          ...(platform !== undefined ? { computePlatform: platform } : {}),
        });
        return { physicalId: name };
      });
    },
    update(request, context) {
      return stabilized(request, context, SERVICE, async () => ({
        physicalId: request.physicalId as string,
      }));
    },
    delete(request, context) {
      return stabilizedDelete(request, context, SERVICE, async () => {
        await codeDeployBackend(env).invoke('DeleteDeploymentConfig', {
          deploymentConfigName: request.physicalId,
        });
      });
    },
  };
}

/**
 * A group whose `Deployment` property names a revision deploys it on create, and the resource completes only once
 * that deployment has (CloudFormation fails the resource if the deployment fails).
 */
async function awaitDeployment(
  env: AwsEnvironment,
  request: ResourceRequest,
  physicalId: string,
): Promise<ProgressEvent> {
  const deploymentId = request.callbackContext?.['deploymentId'] as string;
  const deployment = codeDeployBackend(env).state.deployments.get(deploymentId);
  if (!deployment)
    return { status: 'FAILED', message: `Deployment ${deploymentId} disappeared`, errorCode: 'NotFound' };
  if (ACTIVE_STATUSES.has(deployment.status))
    return {
      status: 'IN_PROGRESS',
      physicalId,
      callbackContext: { deploymentId },
      callbackDelaySeconds: DEPLOYMENT_POLL_SECONDS,
    };
  if (deployment.status === 'Succeeded') return { status: 'SUCCESS', physicalId };
  return {
    status: 'FAILED',
    physicalId,
    message: `Deployment ${deploymentId} ended ${deployment.status}: ${deployment.errorInformation?.message ?? ''}`,
    errorCode: 'GeneralServiceException',
  };
}

function deploymentGroupProvider(env: AwsEnvironment): ResourceProvider {
  const createOnly = ['ApplicationName', 'DeploymentGroupName'];
  return {
    type: 'AWS::CodeDeploy::DeploymentGroup',
    attributeNames: [],
    namingProperty: 'DeploymentGroupName',
    defaultDelaySeconds: 1,
    createOnlyProperties: createOnly,
    requiresReplacement: (before, after) => changedAny(before, after, createOnly),
    ref: (physicalId) => physicalId,
    async create(request, context) {
      if (request.callbackContext?.['deploymentId'])
        return awaitDeployment(env, request, request.physicalId as string);
      let applicationName: string;
      try {
        applicationName = requiredString(request.properties, 'ApplicationName');
      } catch (error) {
        return failedFrom(error, SERVICE);
      }
      const name =
        optionalString(request.properties, 'DeploymentGroupName') ??
        generatedName(request, { maxLength: 100 });
      const backend = codeDeployBackend(env);
      const created = await stabilized(request, { ...context, delaySeconds: 0 }, SERVICE, async () => {
        await backend.invoke('CreateDeploymentGroup', {
          applicationName,
          deploymentGroupName: name,
          ...groupInput(request.properties),
        });
        return { physicalId: name };
      });
      if (created.status !== 'SUCCESS') return created;
      const deploymentProperty = object(request.properties['Deployment'], 'Deployment');
      const rev = deploymentProperty ? revision(deploymentProperty['Revision']) : undefined;
      if (!deploymentProperty || !rev)
        return stabilized(request, context, SERVICE, async () => ({ physicalId: name }));
      try {
        const started = await backend.invoke('CreateDeployment', {
          applicationName,
          deploymentGroupName: name,
          revision: rev,
          ...(deploymentProperty['Description'] !== undefined
            ? { description: String(deploymentProperty['Description']) }
            : {}),
          ...(bool(deploymentProperty['IgnoreApplicationStopFailures']) !== undefined
            ? { ignoreApplicationStopFailures: bool(deploymentProperty['IgnoreApplicationStopFailures']) }
            : {}),
        });
        return {
          status: 'IN_PROGRESS',
          physicalId: name,
          callbackContext: { deploymentId: started['deploymentId'] },
          callbackDelaySeconds: DEPLOYMENT_POLL_SECONDS,
        };
      } catch (error) {
        return { ...failedFrom(error, SERVICE), physicalId: name };
      }
    },
    update(request, context) {
      return stabilized(request, context, SERVICE, async () => {
        const physicalId = request.physicalId as string;
        await codeDeployBackend(env).invoke('UpdateDeploymentGroup', {
          applicationName: requiredString(request.properties, 'ApplicationName'),
          currentDeploymentGroupName: physicalId,
          ...groupInput(request.properties),
        });
        return { physicalId };
      });
    },
    delete(request, context) {
      return stabilizedDelete(request, context, SERVICE, async () => {
        await codeDeployBackend(env).invoke('DeleteDeploymentGroup', {
          applicationName: requiredString(request.properties, 'ApplicationName'),
          deploymentGroupName: request.physicalId,
        });
      });
    },
  };
}

export function codeDeployProviders(env: AwsEnvironment): ResourceProvider[] {
  return [applicationProvider(env), deploymentGroupProvider(env), deploymentConfigProvider(env)];
}
