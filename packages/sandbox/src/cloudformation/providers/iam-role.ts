import { checkMaxSessionDuration, compilePolicyOrThrow } from '../../aws/iam-state';
import type { ProviderState, ResourceProvider } from './types';
import {
  changedAny,
  documentText,
  generatedName,
  optionalString,
  PropertyError,
  stabilized,
  stabilizedDelete,
} from './support';

const CREATE_ONLY = ['RoleName', 'Path'] as const;

function maxSessionDuration(properties: Record<string, unknown>): number | undefined {
  const raw = properties['MaxSessionDuration'];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value))
    throw new PropertyError(
      'Property validation failure: [Value of property {/MaxSessionDuration} does not match type {Integer}]',
    );
  return value;
}

/** AWS::IAM::Role — a real IamState role, so the sandbox's STS honours its trust policy. */
export const iamRoleProvider: ResourceProvider = {
  type: 'AWS::IAM::Role',
  attributeNames: ['Arn', 'RoleId'],
  iam: true,
  namingProperty: 'RoleName',
  defaultDelaySeconds: 2,
  createOnlyProperties: CREATE_ONLY,
  requiresReplacement: (before, after) => changedAny(before, after, CREATE_ONLY),
  ref: (physicalId) => physicalId,

  create(request, context) {
    return stabilized(request, context, 'Iam', async () => {
      const { properties } = request;
      const document = properties['AssumeRolePolicyDocument'];
      if (document === undefined)
        throw new PropertyError(
          'Property validation failure: [The property {/AssumeRolePolicyDocument} is required]',
        );
      const role = context.env.iam.createRole({
        name: optionalString(properties, 'RoleName') ?? generatedName(request, { maxLength: 64 }),
        path: optionalString(properties, 'Path'),
        description: optionalString(properties, 'Description'),
        assumeRolePolicyDocument: documentText(document),
        maxSessionDuration: maxSessionDuration(properties),
      });
      context.state.roleInlinePolicies.set(
        role.name,
        (properties['Policies'] as unknown[] | undefined) ?? [],
      );
      attachManagedPolicies(context.state, role.name, properties['ManagedPolicyArns']);
      return { physicalId: role.name, attributes: { Arn: role.arn, RoleId: role.roleId } };
    });
  },

  update(request, context) {
    return stabilized(request, context, 'Iam', async () => {
      const { properties } = request;
      const { iam } = context.env;
      const role = iam.role(request.physicalId as string);
      const max = maxSessionDuration(properties);
      if (max !== undefined) checkMaxSessionDuration(max);
      const document = properties['AssumeRolePolicyDocument'];
      if (document !== undefined) {
        // Everything is validated before anything is assigned, so a refused update leaves the role unchanged.
        const text = documentText(document);
        role.trustPolicy = compilePolicyOrThrow(text);
        role.assumeRolePolicyDocument = text;
      }
      role.maxSessionDuration = max ?? 3600;
      role.description = optionalString(properties, 'Description');
      context.state.roleInlinePolicies.set(
        role.name,
        (properties['Policies'] as unknown[] | undefined) ?? [],
      );
      detachManagedPolicies(context.state, role.name);
      attachManagedPolicies(context.state, role.name, properties['ManagedPolicyArns']);
      return { physicalId: role.name, attributes: { Arn: role.arn, RoleId: role.roleId } };
    });
  },

  delete(request, context) {
    return stabilizedDelete(request, context, 'Iam', async () => {
      const name = request.physicalId as string;
      context.state.roleInlinePolicies.delete(name);
      detachManagedPolicies(context.state, name);
      try {
        context.env.iam.deleteRole(name);
      } catch (error) {
        if ((error as { code?: string }).code !== 'NoSuchEntity') throw error;
      }
    });
  },
};

function attachManagedPolicies(state: ProviderState, roleName: string, arns: unknown): void {
  if (!Array.isArray(arns)) return;
  for (const arn of arns) {
    const policy = [...state.managedPolicies.values()].find((p) => p.arn === arn);
    if (policy && !policy.roles.includes(roleName)) policy.roles.push(roleName);
  }
}

function detachManagedPolicies(state: ProviderState, roleName: string): void {
  for (const policy of state.managedPolicies.values())
    policy.roles = policy.roles.filter((r) => r !== roleName);
}
