import { randomBytes, randomUUID } from 'node:crypto';

/**
 * EC2's long resource ids: a type prefix and 17 lower-case hex digits (`i-0a1b…`, `vpc-…`, `lt-…`). Every
 * sandbox id is random, so ids from one run never collide with another's in logs or shared data dirs.
 */
export function newEc2Id(prefix: string): string {
  return `${prefix}-${randomBytes(9).toString('hex').slice(0, 17)}`;
}

/** Auto Scaling group ARNs embed a UUID before the group name, as AWS's do. */
export function autoScalingGroupArn(region: string, accountId: string, name: string): string {
  return `arn:aws:autoscaling:${region}:${accountId}:autoScalingGroup:${randomUUID()}:autoScalingGroupName/${name}`;
}

/** The availability zones the sandbox reports for its region (`us-east-1a` …), for Fn::GetAZs and placement. */
export function availabilityZones(region: string): string[] {
  return ['a', 'b', 'c'].map((letter) => `${region}${letter}`);
}
