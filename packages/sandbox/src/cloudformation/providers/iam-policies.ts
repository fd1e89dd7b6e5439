import { AwsError } from '../../aws/errors';
import type { ResourceProvider } from './types';
import {
  changedAny,
  generatedName,
  optionalString,
  PropertyError,
  requiredString,
  stabilized,
  stabilizedDelete,
  stringList,
} from './support';

/**
 * AWS::IAM::Policy and AWS::IAM::ManagedPolicy. The sandbox does not evaluate permission policies (it models
 * authentication and trust, not authorization), so these are recorded with their attachments, not enforced.
 */

function requireDocument(properties: Record<string, unknown>): unknown {
  const document = properties['PolicyDocument'];
  if (document === undefined)
    throw new PropertyError('Property validation failure: [The property {/PolicyDocument} is required]');
  return document;
}

export const iamPolicyProvider: ResourceProvider = {
  type: 'AWS::IAM::Policy',
  attributeNames: ['Id'],
  iam: true,
  defaultDelaySeconds: 1,
  createOnlyProperties: [],
  requiresReplacement: () => false,
  ref: (physicalId) => physicalId,

  create(request, context) {
    return stabilized(request, context, 'Iam', async () => {
      const { properties } = request;
      const roles = stringList(properties, 'Roles');
      const users = stringList(properties, 'Users');
      const groups = stringList(properties, 'Groups');
      if (roles.length + users.length + groups.length === 0)
        throw new PropertyError('At least one of [Groups,Roles,Users] must be non-empty.');
      for (const role of roles) context.env.iam.role(role);
      // AWS::IAM::Policy's physical id is generated, e.g. "stack-Polic-1A2B3C4D5E6F".
      const id = generatedName(request, { maxLength: 40, suffixLength: 12 });
      context.state.iamPolicies.set(id, {
        name: requiredString(properties, 'PolicyName'),
        document: requireDocument(properties),
        roles,
        users,
        groups,
      });
      return { physicalId: id, attributes: { Id: id } };
    });
  },

  update(request, context) {
    return stabilized(request, context, 'Iam', async () => {
      const { properties } = request;
      const id = request.physicalId as string;
      const roles = stringList(properties, 'Roles');
      for (const role of roles) context.env.iam.role(role);
      context.state.iamPolicies.set(id, {
        name: requiredString(properties, 'PolicyName'),
        document: requireDocument(properties),
        roles,
        users: stringList(properties, 'Users'),
        groups: stringList(properties, 'Groups'),
      });
      return { physicalId: id, attributes: { Id: id } };
    });
  },

  delete(request, context) {
    return stabilizedDelete(request, context, 'Iam', async () => {
      context.state.iamPolicies.delete(request.physicalId as string);
    });
  },
};

const MANAGED_CREATE_ONLY = ['ManagedPolicyName', 'Path', 'Description'] as const;

export const iamManagedPolicyProvider: ResourceProvider = {
  type: 'AWS::IAM::ManagedPolicy',
  attributeNames: ['PolicyArn', 'PolicyId', 'DefaultVersionId', 'AttachmentCount', 'IsAttachable'],
  iam: true,
  namingProperty: 'ManagedPolicyName',
  defaultDelaySeconds: 1,
  createOnlyProperties: MANAGED_CREATE_ONLY,
  requiresReplacement: (before, after) => changedAny(before, after, MANAGED_CREATE_ONLY),
  // Ref of a managed policy is its ARN.
  ref: (physicalId) => physicalId,

  create(request, context) {
    return stabilized(request, context, 'Iam', async () => {
      const { properties } = request;
      const name =
        optionalString(properties, 'ManagedPolicyName') ?? generatedName(request, { maxLength: 128 });
      const path = optionalString(properties, 'Path') ?? '/';
      const arn = `arn:aws:iam::${context.env.accountId}:policy${path}${name}`;
      if (context.state.managedPolicies.has(arn))
        throw new AwsError(
          'EntityAlreadyExists',
          `A policy called ${name} already exists. Duplicate names are not allowed.`,
          409,
        );
      const roles = stringList(properties, 'Roles');
      for (const role of roles) context.env.iam.role(role);
      context.state.managedPolicies.set(arn, {
        arn,
        name,
        path,
        document: requireDocument(properties),
        roles,
      });
      return { physicalId: arn, attributes: managedAttributes(arn, roles.length) };
    });
  },

  update(request, context) {
    return stabilized(request, context, 'Iam', async () => {
      const arn = request.physicalId as string;
      const policy = context.state.managedPolicies.get(arn);
      if (!policy)
        throw new AwsError('NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`, 404);
      const roles = stringList(request.properties, 'Roles');
      for (const role of roles) context.env.iam.role(role);
      policy.document = requireDocument(request.properties);
      policy.roles = roles;
      return { physicalId: arn, attributes: managedAttributes(arn, roles.length) };
    });
  },

  delete(request, context) {
    return stabilizedDelete(request, context, 'Iam', async () => {
      context.state.managedPolicies.delete(request.physicalId as string);
    });
  },
};

function managedAttributes(arn: string, attachments: number): Record<string, unknown> {
  return {
    PolicyArn: arn,
    PolicyId: `ANPA${Buffer.from(arn).toString('hex').toUpperCase().slice(0, 17)}`,
    DefaultVersionId: 'v1',
    AttachmentCount: attachments,
    IsAttachable: true,
  };
}
