import { AwsError } from './errors';
import {
  checkMaxSessionDuration,
  compilePolicyOrThrow,
  validationError,
  type OidcProvider,
  type Role,
} from './iam-state';
import { renderQueryResult, type QueryParams } from './query';
import type { AwsEnvironment, AwsReply, AwsService } from './service';
import type { XmlValue } from './xml';

export const IAM_VERSION = '2010-05-08';
export const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';

/**
 * IAM's OIDC-provider and role APIs. Calls must be SigV4-signed by root keys or an issued session; permission
 * policies are NOT evaluated (any authenticated caller may manage IAM) — the sandbox models authentication and
 * trust, not authorization.
 */

function required(params: QueryParams, name: string, field: string): string {
  const value = params.string(name);
  if (value === undefined || value === '') throw validationError(field, undefined, 'Member must not be null');
  return value;
}

function roleXml(role: Role): Record<string, XmlValue | undefined> {
  return {
    Path: role.path,
    RoleName: role.name,
    RoleId: role.roleId,
    Arn: role.arn,
    CreateDate: role.createDate,
    // IAM returns policy documents URL-encoded (RFC 3986); clients decode them.
    AssumeRolePolicyDocument: encodeURIComponent(role.assumeRolePolicyDocument),
    Description: role.description,
    MaxSessionDuration: role.maxSessionDuration,
    RoleLastUsed: {},
  };
}

function providerXml(provider: OidcProvider): Record<string, XmlValue | undefined> {
  return {
    Url: provider.url.replace(/^https:\/\//, ''),
    ClientIDList: provider.clientIds,
    ThumbprintList: provider.thumbprints,
    CreateDate: provider.createDate,
    Tags: [],
  };
}

export function createIamService(env: AwsEnvironment): AwsService {
  const { iam } = env;
  const operations: Record<string, (p: QueryParams) => Record<string, XmlValue | undefined> | undefined> = {
    CreateOpenIDConnectProvider(p) {
      const provider = iam.createProvider({
        url: required(p, 'Url', 'url'),
        clientIds: p.list('ClientIDList') ?? [],
        thumbprints: p.list('ThumbprintList') ?? [],
      });
      return { OpenIDConnectProviderArn: provider.arn, Tags: [] };
    },
    GetOpenIDConnectProvider(p) {
      return providerXml(iam.provider(required(p, 'OpenIDConnectProviderArn', 'openIDConnectProviderArn')));
    },
    ListOpenIDConnectProviders() {
      return { OpenIDConnectProviderList: iam.listProviders().map((provider) => ({ Arn: provider.arn })) };
    },
    DeleteOpenIDConnectProvider(p) {
      iam.deleteProvider(required(p, 'OpenIDConnectProviderArn', 'openIDConnectProviderArn'));
      return undefined;
    },
    AddClientIDToOpenIDConnectProvider(p) {
      const provider = iam.provider(required(p, 'OpenIDConnectProviderArn', 'openIDConnectProviderArn'));
      const clientId = required(p, 'ClientID', 'clientID');
      if (clientId.length > 255)
        throw validationError('clientID', clientId, 'Member must have length less than or equal to 255');
      if (!provider.clientIds.includes(clientId)) {
        if (provider.clientIds.length >= 100)
          throw new AwsError(
            'LimitExceeded',
            'Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100',
            409,
          );
        provider.clientIds.push(clientId);
      }
      return undefined;
    },
    RemoveClientIDFromOpenIDConnectProvider(p) {
      const provider = iam.provider(required(p, 'OpenIDConnectProviderArn', 'openIDConnectProviderArn'));
      const clientId = required(p, 'ClientID', 'clientID');
      provider.clientIds = provider.clientIds.filter((id) => id !== clientId);
      return undefined;
    },
    CreateRole(p) {
      const role = iam.createRole({
        name: required(p, 'RoleName', 'roleName'),
        path: p.string('Path'),
        description: p.string('Description'),
        assumeRolePolicyDocument: required(p, 'AssumeRolePolicyDocument', 'assumeRolePolicyDocument'),
        maxSessionDuration: p.integer('MaxSessionDuration'),
      });
      return { Role: roleXml(role) };
    },
    GetRole(p) {
      return { Role: roleXml(iam.role(required(p, 'RoleName', 'roleName'))) };
    },
    ListRoles(p) {
      return { Roles: iam.listRoles(p.string('PathPrefix') ?? '/').map(roleXml), IsTruncated: false };
    },
    DeleteRole(p) {
      iam.deleteRole(required(p, 'RoleName', 'roleName'));
      return undefined;
    },
    UpdateAssumeRolePolicy(p) {
      const role = iam.role(required(p, 'RoleName', 'roleName'));
      const document = required(p, 'PolicyDocument', 'policyDocument');
      role.trustPolicy = compilePolicyOrThrow(document);
      role.assumeRolePolicyDocument = document;
      return undefined;
    },
    PutRolePolicy(p) {
      iam.putRolePolicy(
        required(p, 'RoleName', 'roleName'),
        required(p, 'PolicyName', 'policyName'),
        required(p, 'PolicyDocument', 'policyDocument'),
      );
      return undefined;
    },
    GetRolePolicy(p) {
      const roleName = required(p, 'RoleName', 'roleName');
      const policyName = required(p, 'PolicyName', 'policyName');
      const document = iam.role(roleName).inlinePolicies.get(policyName);
      if (document === undefined)
        throw new AwsError('NoSuchEntity', `The role policy with name ${policyName} cannot be found.`, 404);
      // IAM returns policy documents URL-encoded.
      return { RoleName: roleName, PolicyName: policyName, PolicyDocument: encodeURIComponent(document) };
    },
    ListRolePolicies(p) {
      const role = iam.role(required(p, 'RoleName', 'roleName'));
      return { PolicyNames: [...role.inlinePolicies.keys()], IsTruncated: false };
    },
    DeleteRolePolicy(p) {
      const role = iam.role(required(p, 'RoleName', 'roleName'));
      const policyName = required(p, 'PolicyName', 'policyName');
      if (!role.inlinePolicies.delete(policyName))
        throw new AwsError('NoSuchEntity', `The role policy with name ${policyName} cannot be found.`, 404);
      return undefined;
    },
    UpdateRole(p) {
      const role = iam.role(required(p, 'RoleName', 'roleName'));
      const max = p.integer('MaxSessionDuration');
      if (max !== undefined) checkMaxSessionDuration(max);
      const description = p.string('Description');
      if (max !== undefined) role.maxSessionDuration = max;
      if (description !== undefined) role.description = description;
      return {};
    },
  };

  return {
    name: 'iam',
    signingName: 'iam',
    protocol: { kind: 'query', xmlns: IAM_XMLNS },
    faultTarget: 'iam',
    handle(call): AwsReply {
      const operation = Object.hasOwn(operations, call.operation) ? operations[call.operation] : undefined;
      if (!operation)
        throw new AwsError(
          'InvalidAction',
          `Could not find operation ${call.operation} for version ${IAM_VERSION}`,
        );
      const result = operation(call.params!);
      return {
        headers: { 'content-type': 'text/xml' },
        body: renderQueryResult(call.operation, IAM_XMLNS, result, call.requestId),
      };
    },
  };
}
