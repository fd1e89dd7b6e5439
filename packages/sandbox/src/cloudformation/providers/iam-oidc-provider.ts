import type { ResourceProvider } from './types';
import { changedAny, requiredString, stabilized, stabilizedDelete, stringList } from './support';

const CREATE_ONLY = ['Url'] as const;

/**
 * AWS::IAM::OIDCProvider — a real IamState provider: a stack can create the very OIDC trust that the sandbox's
 * STS enforces for AssumeRoleWithWebIdentity.
 */
export const iamOidcProviderProvider: ResourceProvider = {
  type: 'AWS::IAM::OIDCProvider',
  attributeNames: ['Arn'],
  defaultDelaySeconds: 1,
  createOnlyProperties: CREATE_ONLY,
  requiresReplacement: (before, after) => changedAny(before, after, CREATE_ONLY),
  ref: (physicalId) => physicalId,

  create(request, context) {
    return stabilized(request, context, 'Iam', async () => {
      const provider = context.env.iam.createProvider({
        url: requiredString(request.properties, 'Url'),
        clientIds: stringList(request.properties, 'ClientIdList'),
        thumbprints: stringList(request.properties, 'ThumbprintList'),
      });
      return { physicalId: provider.arn, attributes: { Arn: provider.arn } };
    });
  },

  update(request, context) {
    return stabilized(request, context, 'Iam', async () => {
      const provider = context.env.iam.provider(request.physicalId as string);
      provider.clientIds = [...new Set(stringList(request.properties, 'ClientIdList'))];
      provider.thumbprints = stringList(request.properties, 'ThumbprintList');
      return { physicalId: provider.arn, attributes: { Arn: provider.arn } };
    });
  },

  delete(request, context) {
    return stabilizedDelete(request, context, 'Iam', async () => {
      const arn = request.physicalId as string;
      if (context.env.iam.listProviders().some((p) => p.arn === arn)) context.env.iam.deleteProvider(arn);
    });
  },
};
