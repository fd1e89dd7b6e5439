import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { InvalidInputError } from '../errors';
import type { Reporter } from '../report/reporter';

export interface StaticKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A provider for fixed keys; registers them as secrets at once, before any use. */
export function staticKeysProvider(keys: StaticKeys, reporter: Reporter): AwsCredentialIdentityProvider {
  reporter.registerSecret(keys.accessKeyId);
  reporter.registerSecret(keys.secretAccessKey);
  reporter.registerSecret(keys.sessionToken);
  const identity: AwsCredentialIdentity = {
    accessKeyId: keys.accessKeyId,
    secretAccessKey: keys.secretAccessKey,
    ...(keys.sessionToken ? { sessionToken: keys.sessionToken } : {}),
  };
  return () => Promise.resolve(identity);
}

/** The Azure Pipelines variables the AWS blog (and the AWS Toolkit) use, and their env forms in scripts. */
const pipelineKeyVariables = {
  accessKeyId: { variable: 'AWS.AccessKeyID', env: 'AWS_ACCESSKEYID' },
  secretAccessKey: { variable: 'AWS.SecretAccessKey', env: 'AWS_SECRETACCESSKEY' },
  sessionToken: { variable: 'AWS.SessionToken', env: 'AWS_SESSIONTOKEN' },
} as const;

/**
 * Keys from pipeline variables: `AWS.AccessKeyID`, `AWS.SecretAccessKey`, `AWS.SessionToken` as given by the
 * front end, else their env forms. Secret variables are not exported to env by Azure Pipelines, which is the
 * usual reason one is missing.
 */
export function readPipelineVariableKeys(
  pipelineVariables: Record<string, string | undefined> | undefined,
  env: NodeJS.ProcessEnv,
  reporter: Reporter,
): StaticKeys {
  const read = (name: keyof typeof pipelineKeyVariables): string | undefined => {
    const { variable, env: envName } = pipelineKeyVariables[name];
    const value = (pipelineVariables?.[variable] ?? env[envName])?.trim();
    reporter.registerSecret(value);
    return value || undefined;
  };
  // Read (and register) all three before complaining about any, so none can leak through the error path.
  const values = {
    accessKeyId: read('accessKeyId'),
    secretAccessKey: read('secretAccessKey'),
    sessionToken: read('sessionToken'),
  };
  const required = (name: 'accessKeyId' | 'secretAccessKey'): string => {
    const value = values[name];
    if (value) return value;
    const { variable, env: envName } = pipelineKeyVariables[name];
    throw new InvalidInputError(
      `The pipeline variable ${variable} is not set (nor env ${envName}).`,
      `Set ${variable} in an earlier step (##vso[task.setvariable variable=${variable};issecret=true]); secret variables reach scripts only when mapped: env: ${envName}: $(${variable}).`,
    );
  };
  return {
    accessKeyId: required('accessKeyId'),
    secretAccessKey: required('secretAccessKey'),
    sessionToken: values.sessionToken,
  };
}
