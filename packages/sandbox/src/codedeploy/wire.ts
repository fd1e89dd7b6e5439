import { AwsError } from '../aws/errors';
import type {
  AutoRollbackConfiguration,
  AutoRollbackEvent,
  BlueGreenConfiguration,
  DeploymentStyle,
  LoadBalancerInfo,
  RevisionLocation,
  TagFilter,
  TargetInstances,
} from './model';

/**
 * Reading CodeDeploy's JSON request bodies. The service validates what clients send (the SDK v3 does not), and
 * answers with the exception AWS uses for each kind of bad input.
 */
export type Input = Record<string, unknown>;

export function asInput(json: unknown): Input {
  return json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as Input) : {};
}

export function optionalString(input: Input, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw serialization(name);
  return value;
}

/** A required member whose absence AWS reports with a dedicated `…RequiredException`. */
export function requiredString(input: Input, name: string, code: string, message: string): string {
  const value = optionalString(input, name);
  if (value === undefined || value === '') throw new AwsError(code, message);
  return value;
}

export function optionalBoolean(input: Input, name: string): boolean | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw serialization(name);
  return value;
}

export function optionalNumber(input: Input, name: string): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number') throw serialization(name);
  return value;
}

export function optionalObject(input: Input, name: string): Input | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw serialization(name);
  return value as Input;
}

export function optionalList(input: Input, name: string): unknown[] | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw serialization(name);
  return value;
}

export function stringList(input: Input, name: string): string[] | undefined {
  const list = optionalList(input, name);
  if (list === undefined) return undefined;
  return list.map((item) => {
    if (typeof item !== 'string') throw serialization(name);
    return item;
  });
}

function serialization(name: string): AwsError {
  return new AwsError('SerializationException', `Unexpected value type for member '${name}'.`);
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], code: string, message: string): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new AwsError(code, message);
}

const BUNDLE_TYPES = ['tar', 'tgz', 'zip', 'YAML', 'JSON'] as const;

/** revision{revisionType S3, s3Location{…}}: the only revision type the sandbox serves (no GitHub, no AppSpecContent). */
export function readRevision(value: unknown): RevisionLocation {
  const revision = asInput(value);
  const type = revision['revisionType'];
  if (type !== 'S3') {
    if (type === undefined)
      throw new AwsError('RevisionRequiredException', 'The revision ID was not specified.');
    throw new AwsError(
      'InvalidRevisionException',
      `Revision type ${String(type)} is not supported by the sandbox.`,
    );
  }
  const s3 = asInput(revision['s3Location']);
  const bucket = s3['bucket'];
  const key = s3['key'];
  if (typeof bucket !== 'string' || bucket === '')
    throw new AwsError('InvalidRevisionException', 'The s3Location bucket must be specified.');
  if (typeof key !== 'string' || key === '')
    throw new AwsError('InvalidRevisionException', 'The s3Location key must be specified.');
  const bundleType = oneOf(
    s3['bundleType'],
    BUNDLE_TYPES,
    'InvalidRevisionException',
    'The bundle type must be one of tar, tgz, zip, YAML or JSON.',
  );
  const version = typeof s3['version'] === 'string' ? s3['version'] : undefined;
  const eTag = typeof s3['eTag'] === 'string' ? s3['eTag'] : undefined;
  return {
    revisionType: 'S3',
    s3Location: {
      bucket,
      key,
      bundleType,
      ...(version !== undefined ? { version } : {}),
      ...(eTag !== undefined ? { eTag } : {}),
    },
  };
}

const TAG_FILTER_TYPES = ['KEY_ONLY', 'VALUE_ONLY', 'KEY_AND_VALUE'] as const;

export function readTagFilters(value: unknown): TagFilter[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw serialization('ec2TagFilters');
  return value.map((item) => {
    const filter = asInput(item);
    const type = oneOf(
      filter['Type'],
      TAG_FILTER_TYPES,
      'InvalidTagFilterException',
      'The tag filter was specified in an invalid format.',
    );
    const key = typeof filter['Key'] === 'string' ? filter['Key'] : undefined;
    const tagValue = typeof filter['Value'] === 'string' ? filter['Value'] : undefined;
    if ((type !== 'VALUE_ONLY' && !key) || (type !== 'KEY_ONLY' && tagValue === undefined))
      throw new AwsError('InvalidTagFilterException', 'The tag filter was specified in an invalid format.');
    return {
      Type: type,
      ...(key !== undefined ? { Key: key } : {}),
      ...(tagValue !== undefined ? { Value: tagValue } : {}),
    };
  });
}

export function readTagSet(value: unknown): { ec2TagSetList: TagFilter[][] } | undefined {
  if (value === undefined || value === null) return undefined;
  const list = asInput(value)['ec2TagSetList'];
  if (!Array.isArray(list)) return { ec2TagSetList: [] };
  return { ec2TagSetList: list.map((group) => readTagFilters(group)) };
}

export function readDeploymentStyle(value: unknown): DeploymentStyle | undefined {
  if (value === undefined || value === null) return undefined;
  const style = asInput(value);
  return {
    deploymentType: oneOf(
      style['deploymentType'] ?? 'IN_PLACE',
      ['IN_PLACE', 'BLUE_GREEN'] as const,
      'InvalidDeploymentStyleException',
      'An invalid deployment style was specified. Valid deployment types are "IN_PLACE" and "BLUE_GREEN." Valid deployment options are "WITH_TRAFFIC_CONTROL" and "WITHOUT_TRAFFIC_CONTROL."',
    ),
    deploymentOption: oneOf(
      style['deploymentOption'] ?? 'WITHOUT_TRAFFIC_CONTROL',
      ['WITH_TRAFFIC_CONTROL', 'WITHOUT_TRAFFIC_CONTROL'] as const,
      'InvalidDeploymentStyleException',
      'An invalid deployment style was specified. Valid deployment types are "IN_PLACE" and "BLUE_GREEN." Valid deployment options are "WITH_TRAFFIC_CONTROL" and "WITHOUT_TRAFFIC_CONTROL."',
    ),
  };
}

function nameList(value: unknown): Array<{ name: string }> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw serialization('loadBalancerInfo');
  return value.map((item) => {
    const name = asInput(item)['name'];
    if (typeof name !== 'string' || name === '')
      throw new AwsError(
        'InvalidLoadBalancerInfoException',
        'An invalid load balancer name, or no load balancer name, was specified.',
      );
    return { name };
  });
}

export function readLoadBalancerInfo(value: unknown): LoadBalancerInfo | undefined {
  if (value === undefined || value === null) return undefined;
  const info = asInput(value);
  if (info['targetGroupPairInfoList'] !== undefined)
    throw new AwsError(
      'InvalidLoadBalancerInfoException',
      'targetGroupPairInfoList applies to ECS deployments only.',
    );
  const elbInfoList = nameList(info['elbInfoList']);
  const targetGroupInfoList = nameList(info['targetGroupInfoList']);
  return {
    ...(elbInfoList ? { elbInfoList } : {}),
    ...(targetGroupInfoList ? { targetGroupInfoList } : {}),
  };
}

const AUTO_ROLLBACK_EVENTS = [
  'DEPLOYMENT_FAILURE',
  'DEPLOYMENT_STOP_ON_ALARM',
  'DEPLOYMENT_STOP_ON_REQUEST',
] as const;

export function readAutoRollback(value: unknown): AutoRollbackConfiguration | undefined {
  if (value === undefined || value === null) return undefined;
  const config = asInput(value);
  const enabled = config['enabled'];
  const events = Array.isArray(config['events'])
    ? config['events'].map((event) =>
        oneOf<AutoRollbackEvent>(
          event,
          AUTO_ROLLBACK_EVENTS,
          'InvalidAutoRollbackConfigException',
          'The automatic rollback configuration was specified in an invalid format. For example, automatic rollback is enabled, but an invalid triggering event type or no event types were listed.',
        ),
      )
    : [];
  if (enabled === true && events.length === 0)
    throw new AwsError(
      'InvalidAutoRollbackConfigException',
      'The automatic rollback configuration was specified in an invalid format. For example, automatic rollback is enabled, but an invalid triggering event type or no event types were listed.',
    );
  return { enabled: enabled === true, events };
}

const INVALID_BLUE_GREEN =
  'The configuration for the blue/green deployment group was provided in an invalid format. For information about deployment configuration format, see CreateDeploymentConfig.';

export function readBlueGreenConfiguration(value: unknown): BlueGreenConfiguration | undefined {
  if (value === undefined || value === null) return undefined;
  const config = asInput(value);
  const result: BlueGreenConfiguration = {};
  const terminate = config['terminateBlueInstancesOnDeploymentSuccess'];
  if (terminate !== undefined && terminate !== null) {
    const t = asInput(terminate);
    const action = oneOf(
      t['action'] ?? 'TERMINATE',
      ['TERMINATE', 'KEEP_ALIVE'] as const,
      'InvalidBlueGreenDeploymentConfigurationException',
      INVALID_BLUE_GREEN,
    );
    const wait = t['terminationWaitTimeInMinutes'];
    if (
      wait !== undefined &&
      (typeof wait !== 'number' || !Number.isInteger(wait) || wait < 0 || wait > 2880)
    )
      throw new AwsError('InvalidBlueGreenDeploymentConfigurationException', INVALID_BLUE_GREEN);
    result.terminateBlueInstancesOnDeploymentSuccess = {
      action,
      terminationWaitTimeInMinutes: typeof wait === 'number' ? wait : 0,
    };
  }
  const ready = config['deploymentReadyOption'];
  if (ready !== undefined && ready !== null) {
    const r = asInput(ready);
    const actionOnTimeout = oneOf(
      r['actionOnTimeout'] ?? 'CONTINUE_DEPLOYMENT',
      ['CONTINUE_DEPLOYMENT', 'STOP_DEPLOYMENT'] as const,
      'InvalidBlueGreenDeploymentConfigurationException',
      INVALID_BLUE_GREEN,
    );
    const wait = r['waitTimeInMinutes'];
    if (
      wait !== undefined &&
      (typeof wait !== 'number' || !Number.isInteger(wait) || wait < 0 || wait > 2880)
    )
      throw new AwsError('InvalidBlueGreenDeploymentConfigurationException', INVALID_BLUE_GREEN);
    // AWS refuses a wait time when the deployment would not wait anyway.
    if (actionOnTimeout === 'CONTINUE_DEPLOYMENT' && typeof wait === 'number' && wait > 0)
      throw new AwsError(
        'InvalidBlueGreenDeploymentConfigurationException',
        'Wait time cannot be specified when action on timeout is CONTINUE_DEPLOYMENT.',
      );
    result.deploymentReadyOption = {
      actionOnTimeout,
      ...(typeof wait === 'number' ? { waitTimeInMinutes: wait } : {}),
    };
  }
  const green = config['greenFleetProvisioningOption'];
  if (green !== undefined && green !== null) {
    const action = oneOf(
      asInput(green)['action'] ?? 'DISCOVER_EXISTING',
      ['DISCOVER_EXISTING', 'COPY_AUTO_SCALING_GROUP'] as const,
      'InvalidBlueGreenDeploymentConfigurationException',
      INVALID_BLUE_GREEN,
    );
    result.greenFleetProvisioningOption = { action };
  }
  return result;
}

export function readTargetInstances(value: unknown): TargetInstances | undefined {
  if (value === undefined || value === null) return undefined;
  const input = asInput(value);
  const tagFilters = readTagFilters(input['tagFilters']);
  const autoScalingGroups = stringList(input, 'autoScalingGroups');
  const ec2TagSet = readTagSet(input['ec2TagSet']);
  if (tagFilters.length > 0 && ec2TagSet)
    throw new AwsError(
      'InvalidTargetInstancesException',
      'The target instance configuration is invalid. Possible causes include: Configuration data for target instances was entered for an in-place deployment. The limit of 10 tags for a tag type was exceeded. The combined length of the tag names exceeded the limit. A specified tag is not currently applied to any instances.',
    );
  return {
    ...(tagFilters.length > 0 ? { tagFilters } : {}),
    ...(autoScalingGroups ? { autoScalingGroups } : {}),
    ...(ec2TagSet ? { ec2TagSet } : {}),
  };
}

/** Opaque paging tokens: the offset of the next page. */
export function pageOf<T>(
  items: T[],
  nextToken: string | undefined,
  pageSize: number,
): { page: T[]; nextToken?: string } {
  let start = 0;
  if (nextToken !== undefined) {
    const decoded = Number(Buffer.from(nextToken, 'base64url').toString('utf8'));
    if (!Number.isInteger(decoded) || decoded < 0)
      throw new AwsError('InvalidNextTokenException', 'The next token was specified in an invalid format.');
    start = decoded;
  }
  const page = items.slice(start, start + pageSize);
  const next =
    start + pageSize < items.length ? Buffer.from(String(start + pageSize)).toString('base64url') : undefined;
  return next === undefined ? { page } : { page, nextToken: next };
}
