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

/** Region, session duration, session name and pipeline variables: what every credential mode shares. */
export type CommonCredentialOptions = Omit<CredentialOptions, 'provider'>;

/**
 * Where this task's AWS credentials come from, decided explicitly and in this order: the `awsCredentials`
 * service connection (its scheme and authMode name the mode); without one, the `AWS.*` pipeline variables an
 * earlier step set (the blog's script, or our AWSCredentials task); otherwise a clear error. There is never an
 * implicit guess such as the SDK's default chain: a misconfigured pipeline fails here, saying what to set.
 * A task with its own credential inputs (AWSCredentials) passes `withoutConnection`, which then replaces the
 * `AWS.*` variables.
 */
export function credentialOptionsForTask(
  inputs: TaskInputs,
  taskName: string,
  withoutConnection?: (base: CommonCredentialOptions) => CredentialOptions,
): CredentialOptions {
  const stepDuration = inputs.integer('sessionDuration', { min: 900, max: 43200 });
  const base = commonOptions(inputs, stepDuration);
  const connectionId = inputs.optional('awsCredentials');
  if (connectionId !== undefined) {
    // The step's own sessionDuration beats the connection's, as its regionName does; the connection's beats
    // the pipeline-wide aws.rolecredential.maxduration and the default.
    return { ...base, ...fromServiceConnection(connectionId, taskName, base, stepDuration) };
  }
  if (withoutConnection) return withoutConnection(base);

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
function commonOptions(inputs: TaskInputs, stepDuration: number | undefined): CommonCredentialOptions {
  const variables = readPipelineVariables();
  const durationVariable = tl.getVariable('aws.rolecredential.maxduration');
  const durationSeconds =
    stepDuration ??
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
  stepDuration: number | undefined,
): CredentialOptions {
  const scheme = tl.getEndpointAuthorizationScheme(id, true);
  if (scheme === undefined) {
    throw new ServiceConnectionError(
      `${taskName}: the service connection "${id}" in "awsCredentials" is not available to this job.`,
      'Check the connection exists in Project settings → Service connections and that this pipeline is allowed to use it.',
    );
  }
  const parameter = (key: string): string | undefined => endpointParameter(id, key);
  const region = base.region ?? parameter('region');
  const durationSeconds =
    stepDuration ?? connectionDuration(parameter('sessionDuration'), id) ?? base.durationSeconds;
  const common = { region, durationSeconds, sessionName: base.sessionName ?? parameter('roleSessionName') };

  if (/^UsernamePassword$/i.test(scheme)) {
    // The AWS Toolkit's own "AWS" connection with its "Use OIDC" box ticked: no keys, an Azure DevOps OIDC
    // token for this connection traded for its role — the same as our oidcServiceConnection mode.
    if (/^true$/i.test(parameter('useOIDC') ?? '')) {
      return {
        ...common,
        provider: 'azure-devops',
        roleArn: parameter('assumeRoleArn') ?? parameter('roleArn'),
        serviceConnectionId: id,
        ...azureDevOpsOidcRequest(),
      };
    }
    return {
      ...common,
      provider: 'access-keys',
      accessKeyId: parameter('username'),
      secretAccessKey: parameter('password'),
      sessionToken: parameter('sessionToken'),
      roleArn: parameter('roleArn') ?? parameter('assumeRoleArn'),
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
        ...azureDevOpsOidcRequest(),
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

/**
 * Where and with what the job asks Azure DevOps for an OIDC token: System.OidcRequestUri and System.AccessToken
 * (or the SystemVssConnection token, so classic pipelines need no "allow scripts to access the OAuth token").
 */
export function azureDevOpsOidcRequest(): { oidcRequestUri?: string; systemAccessToken?: string } {
  return {
    oidcRequestUri: tl.getVariable('System.OidcRequestUri'),
    // The connection first: task-lib's getVariable debug-prints the value of the secret variable it returns.
    systemAccessToken:
      endpointParameter('SYSTEMVSSCONNECTION', 'AccessToken') ?? tl.getVariable('System.AccessToken'),
  };
}

/**
 * One authorization parameter of a service connection, read from the endpoint's JSON: task-lib's
 * getEndpointAuthorizationParameter writes every value it returns to the debug log, secret ones included.
 */
function endpointParameter(id: string, key: string): string | undefined {
  const authorization = tl.getEndpointAuthorization(id, true);
  const parameters = authorization?.parameters ?? {};
  const name = Object.keys(parameters).find((candidate) => candidate.toLowerCase() === key.toLowerCase());
  const value = (
    authorization
      ? name === undefined
        ? undefined
        : parameters[name]
      : tl.getEndpointAuthorizationParameter(id, key, true)
  )?.trim();
  if (value !== undefined && value !== '') return value;
  // Non-secret settings (mode, role, audience, region) may be endpoint data rather than authorization
  // parameters: the agent masks every authorization parameter, and a role ARN or region masked in every log
  // line helps nobody. Data is not secret, so task-lib's debug print of it is harmless.
  if (id === 'SYSTEMVSSCONNECTION') return undefined;
  const data = tl.getEndpointDataParameter(id, key, true)?.trim();
  return data === undefined || data === '' ? undefined : data;
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

/**
 * The `AWS.*` variables. A public one (the blog's script sets them without issecret) is read straight from the
 * environment: tl.getVariable debug-prints every value it returns, and a public secret key would reach the log
 * unmasked. Secret ones are not in the environment, so they come from task-lib's vault (the agent masks those).
 */
export function readPipelineVariables(): Record<string, string | undefined> {
  const variables: Record<string, string | undefined> = {};
  for (const name of pipelineCredentialVariables) {
    const publicValue = process.env[name.replace(/\./g, '_').toUpperCase()];
    const value = (publicValue || tl.getVariable(name))?.trim();
    if (value) variables[name] = value;
  }
  return variables;
}
