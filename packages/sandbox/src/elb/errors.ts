import { AwsError } from '../aws/errors';

/**
 * Elastic Load Balancing v2's errors, with the codes the SDK matches (awsQueryError codes) and the messages AWS
 * sends (as quoted in public issue threads: "One or more target groups not found", "The following targets are not
 * in a running state and cannot be registered: 'i-…'", "Instance ID '…' is not valid").
 */
export const elbErrors = {
  loadBalancerNotFound: () => new AwsError('LoadBalancerNotFound', 'One or more load balancers not found'),
  targetGroupNotFound: () => new AwsError('TargetGroupNotFound', 'One or more target groups not found'),
  targetGroupsNotFound: (arns: string[]) =>
    new AwsError('TargetGroupNotFound', `Target groups '${arns.join("', '")}' not found`),
  listenerNotFound: () => new AwsError('ListenerNotFound', 'One or more listeners not found'),
  duplicateLoadBalancerName: (name: string) =>
    new AwsError(
      'DuplicateLoadBalancerName',
      `A load balancer with the same name '${name}' exists, but with different settings`,
    ),
  duplicateTargetGroupName: (name: string) =>
    new AwsError(
      'DuplicateTargetGroupName',
      `A target group with the same name '${name}' exists, but with different settings`,
    ),
  duplicateListener: () =>
    new AwsError('DuplicateListener', 'A listener already exists on this port for this load balancer'),
  targetGroupInUse: (arn: string) =>
    new AwsError('ResourceInUse', `Target group '${arn}' is currently in use by a listener or a rule`),
  instancesDoNotExist: (ids: string[]) =>
    new AwsError('InvalidTarget', `The following instances do not exist: ${quoted(ids)}`),
  instancesNotRunning: (ids: string[]) =>
    new AwsError(
      'InvalidTarget',
      `The following targets are not in a running state and cannot be registered: ${quoted(ids)}`,
    ),
  invalidInstanceId: (id: string) => new AwsError('ValidationError', `Instance ID '${id}' is not valid`),
  validation: (message: string) => new AwsError('ValidationError', message),
};

function quoted(ids: string[]): string {
  return ids.map((id) => `'${id}'`).join(', ');
}
