import { randomBytes } from 'node:crypto';
import type { ResourceProvider } from './types';
import { stabilized, stabilizedDelete } from './support';

/**
 * AWS::CloudFormation::WaitConditionHandle — nothing to provision. Its Ref is a presigned S3 URL on AWS; the
 * sandbox hands out one of the same shape (nothing listens there).
 */
export const waitConditionHandleProvider: ResourceProvider = {
  type: 'AWS::CloudFormation::WaitConditionHandle',
  attributeNames: [],
  defaultDelaySeconds: 0,
  createOnlyProperties: [],
  requiresReplacement: () => false,
  ref: (physicalId) => physicalId,

  create(request, context) {
    return stabilized(request, context, 'CloudFormation', async () => {
      const { region, accountId } = context.env;
      const resource = encodeURIComponent(`${request.stackId}/${request.logicalId}`);
      const url =
        `https://cloudformation-waitcondition-${region}.s3.amazonaws.com/${resource}` +
        `?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=${new Date(context.env.clock.now()).toISOString().replace(/[-:]|\.\d{3}/g, '')}` +
        `&X-Amz-SignedHeaders=host&X-Amz-Expires=86399&X-Amz-Credential=AKIA${accountId.slice(0, 4)}EXAMPLE` +
        `%2F${region}%2Fs3%2Faws4_request&X-Amz-Signature=${randomBytes(32).toString('hex')}`;
      return { physicalId: url, attributes: {} };
    });
  },

  update(request, context) {
    return stabilized(request, context, 'CloudFormation', async () => ({
      physicalId: request.physicalId as string,
      attributes: {},
    }));
  },

  delete(request, context) {
    return stabilizedDelete(request, context, 'CloudFormation', async () => undefined);
  },
};
