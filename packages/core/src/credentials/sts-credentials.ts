import type { Credentials } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { Reporter } from '../report/reporter';
import { StsUnavailableError } from './errors';

/**
 * Converts STS `Credentials` into an SDK identity, registering all three parts as secrets before anything
 * else sees them.
 */
export function toCredentialIdentity(
  credentials: Credentials | undefined,
  assumedRoleArn: string | undefined,
  reporter: Reporter,
): AwsCredentialIdentity {
  reporter.registerSecret(credentials?.AccessKeyId);
  reporter.registerSecret(credentials?.SecretAccessKey);
  reporter.registerSecret(credentials?.SessionToken);
  if (
    !credentials?.AccessKeyId ||
    !credentials.SecretAccessKey ||
    !credentials.SessionToken ||
    !credentials.Expiration
  ) {
    throw new StsUnavailableError(
      'STS answered without complete credentials (access key, secret key, session token and expiration).',
      'Check the STS endpoint setting points at AWS STS (or a faithful emulator).',
    );
  }
  const accountId = assumedRoleArn ? /^arn:[^:]+:sts::(\d{12}):/.exec(assumedRoleArn)?.[1] : undefined;
  return {
    accessKeyId: credentials.AccessKeyId,
    secretAccessKey: credentials.SecretAccessKey,
    sessionToken: credentials.SessionToken,
    expiration: credentials.Expiration,
    ...(accountId ? { accountId } : {}),
  };
}

/** Throws if someone asks an unsigned-call STS client for credentials: it must never look for ambient ones. */
export async function noAmbientCredentials(): Promise<AwsCredentialIdentity> {
  throw new StsUnavailableError(
    'Internal: the STS client for AssumeRoleWithWebIdentity asked for credentials; that call is unsigned.',
    'Report this as a keyless bug.',
  );
}
