// The AWSCredentials task's own credential inputs: used when no `awsCredentials` connection is given (a
// connection, when set, decides the mode, exactly as for every other task).
import { InvalidInputError, type CredentialOptions } from '@keyless/core';
import { azureDevOpsOidcRequest, credentialOptionsForTask, type TaskInputs } from '../../src';

export const taskAuthModes = [
  'azureManagedIdentity',
  'azureDevOps',
  'github',
  'gitlab',
  'tokenFile',
] as const;

/** Inputs that only mean something without a connection (authMode always has a value: its default). */
export const connectionlessInputs = ['roleArn', 'audience', 'clientId', 'serviceConnectionId', 'tokenFile'];

const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function credentialOptionsFromInputs(inputs: TaskInputs, taskName: string): CredentialOptions {
  return credentialOptionsForTask(inputs, taskName, (base) => {
    const mode = inputs.choice('authMode', taskAuthModes, 'azureManagedIdentity');
    const roleArn = inputs.required(
      'roleArn',
      `for authMode ${mode} (the IAM role whose trust policy admits the token)`,
    );
    switch (mode) {
      case 'azureManagedIdentity':
        return {
          ...base,
          provider: 'azure-managed-identity',
          roleArn,
          audience: inputs.required(
            'audience',
            "for authMode azureManagedIdentity (the Entra application's App ID URI)",
          ),
          ...optional('clientId', inputs.optional('clientId')),
        };
      case 'azureDevOps':
        return {
          ...base,
          provider: 'azure-devops',
          roleArn,
          serviceConnectionId: serviceConnectionId(inputs, taskName),
          ...azureDevOpsOidcRequest(),
        };
      case 'github':
        return { ...base, provider: 'github', roleArn, ...optional('audience', inputs.optional('audience')) };
      case 'gitlab':
        return { ...base, provider: 'gitlab', roleArn };
      case 'tokenFile':
        return {
          ...base,
          provider: 'token-file',
          roleArn,
          tokenFile: inputs.requiredPath('tokenFile', 'for authMode tokenFile'),
        };
    }
  });
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

function serviceConnectionId(inputs: TaskInputs, taskName: string): string {
  const id = inputs.optional('serviceConnectionId');
  if (id === undefined) {
    throw new InvalidInputError(
      `${taskName}: authMode azureDevOps needs the id of the service connection whose OIDC token AWS trusts, and "serviceConnectionId" is empty.`,
      'Better: set "awsCredentials" to an AWS (Keyless) connection with authentication "OIDC: this service connection"; or give serviceConnectionId (a GUID).',
    );
  }
  if (!guid.test(id)) {
    throw new InvalidInputError(
      `${taskName}: the input "serviceConnectionId" is "${id}", which is not a service connection id (a GUID).`,
      "Use the connection's id (Project settings → Service connections → the connection's URL has resourceId=<GUID>), or set awsCredentials to the connection instead.",
    );
  }
  return id;
}
