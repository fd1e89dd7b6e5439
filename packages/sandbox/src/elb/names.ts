import { randomBytes } from 'node:crypto';
import { elbErrors } from './errors';

/** ELB's resource ids: 16 hex digits after the name in every ARN. */
export function newResourceId(): string {
  return randomBytes(8).toString('hex');
}

const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;

/**
 * Load balancer and target group names: at most 32 alphanumerics or hyphens, not starting or ending with a hyphen
 * (and, for load balancers, not starting with "internal-").
 */
export function checkName(kind: 'load balancer' | 'target group', name: string): void {
  if (!NAME.test(name)) {
    const what = kind === 'load balancer' ? 'Load balancer' : 'Target group';
    throw elbErrors.validation(
      `${what} name '${name}' cannot be longer than '32' characters, must contain only alphanumeric characters or hyphens, and must not begin or end with a hyphen`,
    );
  }
  if (kind === 'load balancer' && name.startsWith('internal-'))
    throw elbErrors.validation(`Load balancer name '${name}' cannot begin with 'internal-'`);
}

const INSTANCE_ID = /^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;

export function checkInstanceId(id: string): void {
  if (!INSTANCE_ID.test(id)) throw elbErrors.invalidInstanceId(id);
}

/** The hosted zone ALBs answer from, per region (Route 53 alias targets use it). */
const CANONICAL_HOSTED_ZONES: Record<string, string> = {
  'us-east-1': 'Z35SXDOTRQ7X7K',
  'us-east-2': 'Z3AADJGX6KTTL2',
  'us-west-1': 'Z368ELLRRE2KJ0',
  'us-west-2': 'Z1H1FL5HABSF5',
  'eu-west-1': 'Z32O12XQLNTSW2',
  'eu-central-1': 'Z215JYRZR1TBD5',
  'ap-southeast-2': 'Z1GM3OXH4ZPM65',
};

export function canonicalHostedZoneId(region: string): string {
  return CANONICAL_HOSTED_ZONES[region] ?? 'Z35SXDOTRQ7X7K';
}
