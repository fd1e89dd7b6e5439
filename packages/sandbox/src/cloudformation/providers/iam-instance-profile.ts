import { randomBytes } from 'node:crypto';
import { AwsError } from '../../aws/errors';
import type { ResourceProvider } from './types';
import {
  changedAny,
  generatedName,
  optionalString,
  stabilized,
  stabilizedDelete,
  stringList,
} from './support';

const CREATE_ONLY = ['InstanceProfileName', 'Path'] as const;

/** AWS::IAM::InstanceProfile — recorded with its roles (EC2 instances of a later issue look them up). */
export const iamInstanceProfileProvider: ResourceProvider = {
  type: 'AWS::IAM::InstanceProfile',
  attributeNames: ['Arn'],
  iam: true,
  namingProperty: 'InstanceProfileName',
  defaultDelaySeconds: 2,
  createOnlyProperties: CREATE_ONLY,
  requiresReplacement: (before, after) => changedAny(before, after, CREATE_ONLY),
  ref: (physicalId) => physicalId,

  create(request, context) {
    return stabilized(request, context, 'Iam', async () => {
      const { properties } = request;
      const name =
        optionalString(properties, 'InstanceProfileName') ?? generatedName(request, { maxLength: 128 });
      if (context.state.instanceProfiles.has(name.toLowerCase()))
        throw new AwsError('EntityAlreadyExists', `Instance Profile ${name} already exists.`, 409);
      const roles = stringList(properties, 'Roles');
      for (const role of roles) context.env.iam.role(role);
      const path = optionalString(properties, 'Path') ?? '/';
      const arn = `arn:aws:iam::${context.env.accountId}:instance-profile${path}${name}`;
      const id = 'AIPA' + randomBytes(9).toString('hex').toUpperCase().slice(0, 17);
      context.state.instanceProfiles.set(name.toLowerCase(), { name, arn, path, roles, id });
      return { physicalId: name, attributes: { Arn: arn } };
    });
  },

  update(request, context) {
    return stabilized(request, context, 'Iam', async () => {
      const name = request.physicalId as string;
      const profile = context.state.instanceProfiles.get(name.toLowerCase());
      if (!profile) throw new AwsError('NoSuchEntity', `Instance Profile ${name} cannot be found.`, 404);
      const roles = stringList(request.properties, 'Roles');
      for (const role of roles) context.env.iam.role(role);
      profile.roles = roles;
      return { physicalId: name, attributes: { Arn: profile.arn } };
    });
  },

  delete(request, context) {
    return stabilizedDelete(request, context, 'Iam', async () => {
      context.state.instanceProfiles.delete((request.physicalId as string).toLowerCase());
    });
  },
};
