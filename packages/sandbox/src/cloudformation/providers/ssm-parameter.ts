import { randomBytes } from 'node:crypto';
import { AwsError } from '../../aws/errors';
import type { ResourceProvider } from './types';
import {
  changedAny,
  optionalString,
  PropertyError,
  requiredString,
  stabilized,
  stabilizedDelete,
} from './support';

const CREATE_ONLY = ['Name'] as const;
const TYPES = new Set(['String', 'StringList']);

function parameterType(properties: Record<string, unknown>): string {
  const type = requiredString(properties, 'Type');
  // CloudFormation cannot create SecureString parameters.
  if (!TYPES.has(type))
    throw new PropertyError(
      `Property validation failure: [Value of property {/Type} does not match allowed values {String, StringList}]`,
    );
  return type;
}

/** AWS::SSM::Parameter — kept in the CloudFormation service (the sandbox has no SSM endpoint yet). */
export const ssmParameterProvider: ResourceProvider = {
  type: 'AWS::SSM::Parameter',
  attributeNames: ['Type', 'Value'],
  namingProperty: 'Name',
  defaultDelaySeconds: 1,
  createOnlyProperties: CREATE_ONLY,
  requiresReplacement: (before, after) => changedAny(before, after, CREATE_ONLY),
  ref: (physicalId) => physicalId,

  create(request, context) {
    return stabilized(request, context, 'Ssm', async () => {
      const { properties } = request;
      const type = parameterType(properties);
      const value = requiredString(properties, 'Value');
      // Generated parameter names look like "CFN-MyParam-AbC123dEf456".
      const name =
        optionalString(properties, 'Name') ??
        `CFN-${request.logicalId}-${randomBytes(9).toString('base64url').slice(0, 12)}`;
      if (context.state.ssmParameters.has(name))
        throw new AwsError(
          'ParameterAlreadyExists',
          'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
        );
      context.state.ssmParameters.set(name, {
        name,
        type,
        value,
        description: optionalString(properties, 'Description'),
      });
      return { physicalId: name, attributes: { Type: type, Value: value } };
    });
  },

  update(request, context) {
    return stabilized(request, context, 'Ssm', async () => {
      const name = request.physicalId as string;
      const type = parameterType(request.properties);
      const value = requiredString(request.properties, 'Value');
      context.state.ssmParameters.set(name, {
        name,
        type,
        value,
        description: optionalString(request.properties, 'Description'),
      });
      return { physicalId: name, attributes: { Type: type, Value: value } };
    });
  },

  delete(request, context) {
    return stabilizedDelete(request, context, 'Ssm', async () => {
      context.state.ssmParameters.delete(request.physicalId as string);
    });
  },
};
