import type { IncomingHttpHeaders } from 'node:http';
import { parseS3Address } from './addressing';

/**
 * The S3 API operation a REST request is (PutObject, UploadPart, ListObjectsV2, …), as the SDKs name it, so
 * fault rules and logs can name S3 operations the way they name every other service's.
 */
export function s3OperationName(
  method: string,
  rawUrl: string,
  headers: IncomingHttpHeaders,
  ownHost: string | undefined,
): string {
  const { bucket, key, query } = parseS3Address(rawUrl, headers, ownHost);
  const verb = method.toUpperCase();
  if (bucket === undefined) return verb === 'GET' ? 'ListBuckets' : `${verb}Service`;
  if (key === undefined) {
    switch (verb) {
      case 'PUT':
        return 'CreateBucket';
      case 'HEAD':
        return 'HeadBucket';
      case 'DELETE':
        return 'DeleteBucket';
      case 'POST':
        return query.has('delete') ? 'DeleteObjects' : 'PostBucket';
      default:
        if (query.has('location')) return 'GetBucketLocation';
        if (query.has('versioning')) return 'GetBucketVersioning';
        if (query.has('uploads')) return 'ListMultipartUploads';
        return query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
    }
  }
  const multipart = query.has('uploadId');
  switch (verb) {
    case 'PUT':
      if (headers['x-amz-copy-source'] !== undefined) return multipart ? 'UploadPartCopy' : 'CopyObject';
      return multipart ? 'UploadPart' : 'PutObject';
    case 'GET':
      return multipart ? 'ListParts' : 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    case 'DELETE':
      return multipart ? 'AbortMultipartUpload' : 'DeleteObject';
    case 'POST':
      if (query.has('uploads')) return 'CreateMultipartUpload';
      return multipart ? 'CompleteMultipartUpload' : 'PostObject';
    default:
      return `${verb}Object`;
  }
}
