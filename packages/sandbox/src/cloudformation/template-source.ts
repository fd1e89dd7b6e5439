import { AwsError } from '../aws/errors';
import type { AwsEnvironment } from '../aws/service';

/** TemplateBody's API limit (CreateStack/UpdateStack/ValidateTemplate/CreateChangeSet). */
export const MAX_TEMPLATE_BODY_BYTES = 51_200;
/** Templates passed by TemplateURL. */
export const MAX_TEMPLATE_URL_BYTES = 1_048_576;

const INVALID_URL = 'TemplateURL must be a supported URL.';
// Confirmed (kube-aws#143, serverless#2775): the answer for a missing or unreadable object.
const UNREADABLE = 'TemplateURL must reference a valid S3 object to which you have access.';

/**
 * Which bucket and key a TemplateURL names. Accepted: this sandbox's own endpoint, path style
 * (http://127.0.0.1:<port>/bucket/key, what the AWS CLI builds from --endpoint-url) or virtual-host style
 * (http://bucket.localhost:<port>/key), and AWS's S3 URL forms (https://bucket.s3[.region].amazonaws.com/key,
 * https://s3[.-]region.amazonaws.com/bucket/key), all mapped to the sandbox's S3 store.
 */
export function s3Location(
  templateUrl: string,
  sandboxBaseUrl: string,
): { bucket: string; key: string } | undefined {
  let url: URL;
  try {
    url = new URL(templateUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const base = new URL(sandboxBaseUrl);
  const path = url.pathname.replace(/^\//, '');
  const splitPath = (): { bucket: string; key: string } | undefined => {
    const slash = path.indexOf('/');
    if (slash <= 0 || slash === path.length - 1) return undefined;
    return {
      bucket: decodeURIComponent(path.slice(0, slash)),
      key: decodeURIComponent(path.slice(slash + 1)),
    };
  };
  const isSandboxPort = url.port === base.port;
  if (isSandboxPort && (url.hostname === base.hostname || url.hostname === 'localhost')) return splitPath();
  const virtualLocal = /^(.+)\.localhost$/.exec(url.hostname);
  if (isSandboxPort && virtualLocal) {
    return path ? { bucket: virtualLocal[1] as string, key: decodeURIComponent(path) } : undefined;
  }
  if (/^s3([.-][a-z0-9-]+)?\.amazonaws\.com(\.cn)?$/.test(url.hostname)) return splitPath();
  const virtualAws = /^(.+)\.s3([.-][a-z0-9-]+)?\.amazonaws\.com(\.cn)?$/.exec(url.hostname);
  if (virtualAws)
    return path ? { bucket: virtualAws[1] as string, key: decodeURIComponent(path) } : undefined;
  return undefined;
}

export async function readTemplateUrl(env: AwsEnvironment, templateUrl: string): Promise<string> {
  if (templateUrl.length > 1024) {
    throw new AwsError(
      'ValidationError',
      `1 validation error detected: Value '${templateUrl}' at 'templateURL' failed to satisfy constraint: Member must have length less than or equal to 1024`,
    );
  }
  const location = s3Location(templateUrl, env.baseUrl());
  if (!location) throw new AwsError('ValidationError', INVALID_URL);
  const object = await env.s3.readObject(location.bucket, location.key);
  if (!object) throw new AwsError('ValidationError', UNREADABLE);
  if (object.body.length > MAX_TEMPLATE_URL_BYTES) {
    // Wording as AWS words the size limit ("Template may not exceed 460800 bytes in size." under the old limit).
    throw new AwsError('ValidationError', `Template may not exceed ${MAX_TEMPLATE_URL_BYTES} bytes in size.`);
  }
  return object.body.toString('utf8');
}

export function checkTemplateBody(body: string): void {
  if (Buffer.byteLength(body, 'utf8') > MAX_TEMPLATE_BODY_BYTES) {
    // Confirmed wording (widdix/aws-cf-templates#169, mapbox/cfn-config#16).
    throw new AwsError(
      'ValidationError',
      `1 validation error detected: Value '${body}' at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to ${MAX_TEMPLATE_BODY_BYTES}`,
    );
  }
}
