import type { ResourceProvider } from './types';
import { changedAny, generatedName, optionalString, stabilized, stabilizedDelete } from './support';

const CREATE_ONLY = ['BucketName', 'ObjectLockEnabled'] as const;

/** AWS::S3::Bucket — a real bucket in the sandbox's S3 store, so templates and bundles can be put in it. */
export const s3BucketProvider: ResourceProvider = {
  type: 'AWS::S3::Bucket',
  attributeNames: ['Arn', 'DomainName', 'DualStackDomainName', 'RegionalDomainName', 'WebsiteURL'],
  namingProperty: 'BucketName',
  defaultDelaySeconds: 2,
  createOnlyProperties: CREATE_ONLY,
  requiresReplacement: (before, after) => changedAny(before, after, CREATE_ONLY),
  ref: (physicalId) => physicalId,

  create(request, context) {
    return stabilized(request, context, 'S3', async () => {
      // Generated bucket names are lower case with a 12-character suffix, at most 63 characters.
      const name =
        optionalString(request.properties, 'BucketName') ??
        generatedName(request, { maxLength: 63, suffixLength: 12, lowerCase: true });
      const { env } = context;
      await env.s3.createBucket(name, env.region);
      return { physicalId: name, attributes: bucketAttributes(name, env.region) };
    });
  },

  async update(request, context) {
    // Every updatable property (tags, versioning, website, policies …) is recorded in the stack, not modelled by S3.
    const name = request.physicalId as string;
    return stabilized(request, context, 'S3', async () => ({
      physicalId: name,
      attributes: bucketAttributes(name, context.env.region),
    }));
  },

  delete(request, context) {
    return stabilizedDelete(request, context, 'S3', async () => {
      const name = request.physicalId as string;
      // Already gone counts as deleted, as CloudFormation's handlers treat NotFound on delete.
      if (!context.env.s3.bucketExists(name)) return;
      await context.env.s3.deleteBucket(name);
    });
  },
};

function bucketAttributes(name: string, region: string): Record<string, unknown> {
  return {
    Arn: `arn:aws:s3:::${name}`,
    DomainName: `${name}.s3.amazonaws.com`,
    DualStackDomainName: `${name}.s3.dualstack.${region}.amazonaws.com`,
    RegionalDomainName: `${name}.s3.${region}.amazonaws.com`,
    WebsiteURL: `http://${name}.s3-website-${region}.amazonaws.com`,
  };
}
