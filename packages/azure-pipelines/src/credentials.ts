import { KeylessError, type CredentialOptions } from '@keyless/core';
import type { TaskInputs } from './inputs';
import { tl } from './task-lib';

/** The service-endpoint type this extension contributes (not `AWS`, so it coexists with the AWS Toolkit). */
export const endpointTypeName = 'KeylessAWS';

/** The `authMode` values of the endpoint's `None` scheme (endpoint auth schemes are a closed set, see README). */
export const authModes = ['oidcServiceConnection', 'azureManagedIdentity', 'ec2InstanceProfile'] as const;
export type AuthMode = (typeof authModes)[number];

const pipelineCredentialVariables = [
  'AWS.AccessKeyID',
  'AWS.SecretAccessKey',
  'AWS.SessionToken',
  'AWS.Region',
  'AWS.AssumeRoleArn',
  'AWS.ExternalId',
  'AWS.RoleSessionName',
] as const;

export class ServiceConnectionError extends KeylessError {
  readonly code = 'ServiceConnection';
}

export class NoCredentialsConfiguredError extends KeylessError {
  readonly code = 'NoCredentialsConfigured';
}

/**
 * Where this task's AWS credentials come from, decided explicitly and in this order: the `awsCredentials`
 * service connection (its scheme and authMode name the mode); without one, the `AWS.*` pipeline variables an
 * earlier step set (the blog's script, or our AWSCredentials task); otherwise a clear error. There is never an
 * implicit guess such as the SDK's default chain: a misconfigured pipeline fails here, saying what to set.
 */
export function credentialOptionsForTask(inputs: TaskInputs, taskName: string): CredentialOptions {
  const base = commonOptions(inputs);
  const connectionId = inputs.optional('awsCredentials');
  if (connectionId !== undefined) return { ...base, ...fromServiceConnection(connectionId, taskName, base) };

  const variables = readPipelineVariables();
  if (variables['AWS.AccessKeyID'] !== undefined || variables['AWS.SecretAccessKey'] !== undefined) {
    return {
      ...base,
      provider: 'pipeline-variables',
      pipelineVariables: variables,
      roleArn: variables['AWS.AssumeRoleArn'],
      externalId: variables['AWS.ExternalId'],
      sessionName: base.sessionName ?? variables['AWS.RoleSessionName'],
      region: base.region ?? variables['AWS.Region'],
    };
  }
  throw new NoCredentialsConfiguredError(
    `${taskName}: no AWS credentials: the "awsCredentials" input names no service connection and no earlier step set the AWS.AccessKeyID variable.`,
    `Set awsCredentials to a service connection of type "AWS (Keyless)", or run AWSCredentials@1 before this step.`,
  );
}

/** Region, session duration and endpoint settings every task shares. */
function commonOptions(inputs: TaskInputs): Omit<CredentialOptions, 'provider'> {
  const variables = readPipelineVariables();
  const durationVariable = tl.getVariable('aws.rolecredential.maxduration');
  const durationSeconds =
    inputs.integer('sessionDuration', { min: 900, max: 43200 }) ??
    (durationVariable && /^\d+$/.test(durationVariable.trim()) ? Number(durationVariable.trim()) : undefined);
  return {
    region: inputs.optional('regionName')?.toLowerCase() ?? variables['AWS.Region'],
    durationSeconds: durationSeconds ?? 3600,
    sessionName: inputs.optional('roleSessionName'),
    pipelineVariables: variables,
  };
}

function fromServiceConnection(
  id: string,
  taskName: string,
  base: Omit<CredentialOptions, 'provider'>,
): CredentialOptions {
  const scheme = tl.getEndpointAuthorizationScheme(id, true);
  if (scheme === undefined) {
    throw new ServiceConnectionError(
      `${taskName}: the service connection "${id}" in "awsCredentials" is not available to this job.`,
      'Check the connection exists in Project settings → Service connections and that this pipeline is allowed to use it.',
    );
  }
  const parameter = (key: string): string | undefined => {
    const value = tl.getEndpointAuthorizationParameter(id, key, true)?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const region = base.region ?? parameter('region');
  const durationSeconds = connectionDuration(parameter('sessionDuration'), id) ?? base.durationSeconds;
  const common = { region, durationSeconds, sessionName: base.sessionName ?? parameter('roleSessionName') };

  if (/^UsernamePassword$/i.test(scheme)) {
    return {
      ...common,
      provider: 'access-keys',
      accessKeyId: parameter('username'),
      secretAccessKey: parameter('password'),
      sessionToken: parameter('sessionToken'),
      roleArn: parameter('assumeRoleArn'),
      externalId: parameter('externalId'),
    };
  }
  if (!/^None$/i.test(scheme)) {
    throw new ServiceConnectionError(
      `${taskName}: the service connection "${id}" uses the authentication scheme "${scheme}", which is not one of this extension's.`,
      `Use a service connection of type "AWS (Keyless)" (${endpointTypeName}).`,
    );
  }
  const mode = parameter('authMode');
  const roleArn = parameter('roleArn');
  switch (mode?.toLowerCase()) {
    case 'oidcserviceconnection':
      return {
        ...common,
        provider: 'azure-devops',
        roleArn,
        serviceConnectionId: id,
        oidcRequestUri: tl.getVariable('System.OidcRequestUri'),
        systemAccessToken:
          tl.getVariable('System.AccessToken') ??
          tl.getEndpointAuthorizationParameter('SYSTEMVSSCONNECTION', 'AccessToken', true),
      };
    case 'azuremanagedidentity':
      return {
        ...common,
        provider: 'azure-managed-identity',
        roleArn,
        audience: parameter('audience'),
        clientId: parameter('clientId'),
      };
    case 'ec2instanceprofile':
      return { ...common, provider: 'ec2-instance-metadata' };
    default:
      throw new ServiceConnectionError(
        `${taskName}: the service connection "${id}" has authMode "${mode ?? ''}", which is not one of: ${authModes.join(', ')}.`,
        'Edit the service connection and choose how the agent obtains credentials.',
      );
  }
}

function connectionDuration(value: string | undefined, id: string): number | undefined {
  if (value === undefined) return undefined;
  const seconds = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(seconds >= 900 && seconds <= 43200)) {
    throw new ServiceConnectionError(
      `The service connection "${id}" has sessionDuration "${value}"; it must be 900-43200 seconds.`,
      'Edit the service connection (3600 is the usual value).',
    );
  }
  return seconds;
}

/** The `AWS.*` variables, read through task-lib so secret ones (not exported to the environment) are found too. */
export function readPipelineVariables(): Record<string, string | undefined> {
  const variables: Record<string, string | undefined> = {};
  for (const name of pipelineCredentialVariables) {
    const value = tl.getVariable(name)?.trim();
    if (value) variables[name] = value;
  }
  return variables;
}
