import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  type ObjectCannedACL,
  type S3Client,
} from '@aws-sdk/client-s3';
import { awsErrorCode, awsErrorMessage, httpStatusOf, isExpiredCredentialsError } from '../aws/aws-errors';
import { uploadFileToS3 } from '../s3/file-upload';
import type { BundleType } from './bundle';
import { BundleUploadError, RevisionNotFoundError } from './errors';

/** An S3 revision as CodeDeploy's CreateDeployment takes it. */
export interface S3Revision {
  bucket: string;
  key: string;
  bundleType: BundleType;
  /** Unquoted; the agent compares it with the object's ETag. */
  eTag?: string;
  version?: string;
}

export interface UploadedBundle extends S3Revision {
  bytes: number;
  /** false when the same content was already there. */
  uploaded: boolean;
}

export interface BundleFile {
  path: string;
  sha256: string;
  bytes: number;
  bundleType: BundleType;
}

export interface UploadOptions {
  bucket: string;
  /** Exact key; default `<prefix>/<application>-<sha256 first 16>.<ext>`. */
  key?: string;
  prefix?: string;
  application: string;
  /** Told what happened (uploaded, skipped). */
  note?: (message: string) => void;
  /**
   * Canned ACL for the uploaded object (e.g. bucket-owner-full-control for another account's bucket). An
   * object skipped because the same content is already there keeps the ACL it was uploaded with.
   */
  acl?: ObjectCannedACL;
  /** Multipart tuning (defaults: 8 MiB parts or larger for huge files, 4 in parallel). */
  partSize?: number;
  queueSize?: number;
}

const extensionOf: Record<BundleType, string> = { zip: 'zip', tar: 'tar', tgz: 'tar.gz' };
/** Object metadata holding the bundle's SHA-256, so a re-run can tell the same content is already there. */
const shaMetadata = 'keyless-sha256';
const minPartSize = 8 * 1024 * 1024;
/** S3 allows 10,000 parts; stay well inside it. */
const maxParts = 9_000;

/** Same content, same key: `<prefix>/<application>-<first 16 hex of sha256>.<ext>`. */
export function contentHashKey(
  prefix: string | undefined,
  application: string,
  sha256: string,
  bundleType: BundleType,
): string {
  const safeApplication = application.replace(/[^A-Za-z0-9._-]/g, '-');
  const name = `${safeApplication}-${sha256.slice(0, 16)}.${extensionOf[bundleType]}`;
  const cleanPrefix = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  return cleanPrefix ? `${cleanPrefix}/${name}` : name;
}

/** Streams a file through SHA-256 (for archives uploaded as they are). */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function unquote(eTag: string | undefined): string | undefined {
  return eTag?.replace(/^"|"$/g, '');
}

/**
 * Uploads a bundle under a content-hash key (or the given key), skipping the upload when an object with the
 * same SHA-256 is already there. Multipart with parallel parts; ETag and VersionId are returned for the
 * revision so the agent deploys exactly these bytes.
 */
export async function uploadBundle(
  s3: S3Client,
  file: BundleFile,
  options: UploadOptions,
): Promise<UploadedBundle> {
  const { bucket } = options;
  const key =
    options.key ?? contentHashKey(options.prefix, options.application, file.sha256, file.bundleType);
  const existing = await headIfPresent(s3, bucket, key);
  const sameContent =
    existing &&
    (existing.Metadata?.[shaMetadata] === file.sha256 ||
      (options.key === undefined &&
        existing.Metadata?.[shaMetadata] === undefined &&
        existing.ContentLength === file.bytes));
  if (existing && sameContent) {
    options.note?.(`Bundle already in s3://${bucket}/${key} (same SHA-256); not uploading it again.`);
    return {
      bucket,
      key,
      bundleType: file.bundleType,
      ...revisionIdentity(existing.ETag, existing.VersionId),
      bytes: file.bytes,
      uploaded: false,
    };
  }
  const partSize = Math.max(options.partSize ?? minPartSize, Math.ceil(file.bytes / maxParts));
  const started = Date.now();
  let result: { ETag?: string; VersionId?: string };
  try {
    // Parts are read from the file into reused buffers (see uploadFileToS3); a bundle fitting one part is one PUT.
    result = await uploadFileToS3(s3, {
      path: file.path,
      bytes: file.bytes,
      params: {
        Bucket: bucket,
        Key: key,
        ContentType: file.bundleType === 'zip' ? 'application/zip' : 'application/x-tar',
        Metadata: { [shaMetadata]: file.sha256 },
        ...(options.acl ? { ACL: options.acl } : {}),
      },
      partSize,
      queueSize: options.queueSize ?? 4,
    });
  } catch (error) {
    // The answer of the last request (PutObject, CompleteMultipartUpload) can be lost after S3 stored the
    // object; a retried Complete then fails with NoSuchUpload. The object's SHA-256 tells.
    const landed = await headIfPresent(s3, bucket, key).catch(() => undefined);
    if (landed?.Metadata?.[shaMetadata] !== file.sha256) throw explainUploadError(error, bucket, key);
    options.note?.(
      `The upload's answer was lost (${awsErrorMessage(error)}), but s3://${bucket}/${key} holds this bundle (same SHA-256).`,
    );
    result = {
      ...(landed.ETag ? { ETag: landed.ETag } : {}),
      ...(landed.VersionId ? { VersionId: landed.VersionId } : {}),
    };
  }
  let identity = revisionIdentity(result.ETag, result.VersionId);
  if (!identity.eTag) {
    const head = await headIfPresent(s3, bucket, key);
    identity = revisionIdentity(head?.ETag, head?.VersionId);
  }
  const seconds = Math.max(0.001, (Date.now() - started) / 1000);
  options.note?.(
    `Uploaded the bundle to s3://${bucket}/${key} (${formatBytes(file.bytes)} in ${seconds.toFixed(1)} s${identity.version ? `, version ${identity.version}` : ''}).`,
  );
  return { bucket, key, bundleType: file.bundleType, ...identity, bytes: file.bytes, uploaded: true };
}

function revisionIdentity(
  eTag: string | undefined,
  version: string | undefined,
): { eTag?: string; version?: string } {
  const identity: { eTag?: string; version?: string } = {};
  const unquoted = unquote(eTag);
  if (unquoted) identity.eTag = unquoted;
  // Unversioned buckets report "null"; CodeDeploy must not be given it as a version.
  if (version && version !== 'null') identity.version = version;
  return identity;
}

async function headIfPresent(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<HeadObjectCommandOutput | undefined> {
  try {
    return await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  } catch (error) {
    // HEAD errors have no body: a 404 is "no such key" or "no such bucket"; the upload tells them apart.
    if (httpStatusOf(error) === 404) return undefined;
    throw explainUploadError(error, bucket, key);
  }
}

/**
 * An existing S3 revision (--s3-bucket/--s3-key): its ETag and version, or a clear error when it is missing
 * or unreadable. CodeDeploy itself would only find out on the instances, minutes later.
 */
export async function describeS3Revision(
  s3: S3Client,
  bucket: string,
  key: string,
  bundleType: BundleType,
): Promise<S3Revision> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { bucket, key, bundleType, ...revisionIdentity(head.ETag, head.VersionId) };
  } catch (error) {
    const status = httpStatusOf(error);
    if (status === 404) {
      throw new RevisionNotFoundError(
        `The revision s3://${bucket}/${key} does not exist (or the bucket does not), so the instances could not download it.`,
        'Upload the bundle first or correct --s3-bucket/--s3-key (keys are case-sensitive).',
        { cause: error },
      );
    }
    if (status === 403) {
      throw new RevisionNotFoundError(
        `Reading s3://${bucket}/${key} was denied to the deploy role (HeadObject 403).`,
        "Allow s3:GetObject (and s3:GetObjectVersion) on the bundle for the deploy role and the instances' profile.",
        { cause: error },
      );
    }
    throw explainUploadError(error, bucket, key);
  }
}

export function explainUploadError(error: unknown, bucket: string, key: string): Error {
  if (error instanceof BundleUploadError || error instanceof RevisionNotFoundError) return error;
  const code = awsErrorCode(error);
  const status = httpStatusOf(error);
  if (isExpiredCredentialsError(error)) {
    return new BundleUploadError(
      `The AWS session expired while uploading s3://${bucket}/${key} (${code}).`,
      'Re-run; if uploads are long, raise the session duration (--duration) or check the identity provider still issues tokens.',
      { cause: error },
    );
  }
  if (code === 'NoSuchBucket' || (status === 404 && code !== 'NotFound' && code !== 'NoSuchKey')) {
    return new BundleUploadError(
      `The bundle bucket ${bucket} does not exist (uploading ${key}).`,
      "Create the bucket first (in the deployment's region), or correct --bucket.",
      { cause: error },
    );
  }
  if (code === 'AccessDenied' || status === 403) {
    return new BundleUploadError(
      `Access to s3://${bucket}/${key} was denied to the deploy role.`,
      'Allow s3:PutObject, s3:GetObject and s3:ListBucket on the bucket for the deploy role (and check the bucket policy).',
      { cause: error },
    );
  }
  return new BundleUploadError(
    `Uploading the bundle to s3://${bucket}/${key} failed: ${awsErrorMessage(error) || code || `HTTP ${status}`}`,
    'Check the bucket name, its region and the S3 permissions of the deploy role, then re-run.',
    { cause: error },
  );
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** The size of a file, for archives uploaded as they are. */
export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}
