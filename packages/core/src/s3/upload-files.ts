import { createHash } from 'node:crypto';
import { posix, resolve } from 'node:path';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  S3Client,
  type BucketLocationConstraint,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import picomatch from 'picomatch';
import { awsErrorCode, awsErrorMessage, httpStatusOf, isExpiredCredentialsError } from '../aws/aws-errors';
import { buildClientConfig } from '../aws/client-config';
import { call, createEngineBase, type EngineBase, type EngineContext } from '../aws/engine';
import { InvalidInputError } from '../errors';
import { formatBytes } from '../codedeploy/upload';
import { contentTypeFor } from './content-types';
import { uploadFileToS3 } from './file-upload';
import { BucketError, FileUploadError, UploadSourceError } from './errors';
import { selectFiles, type SelectedFile } from './select-files';

export const cannedAcls = [
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
] as const;
export type CannedAcl = (typeof cannedAcls)[number];

export const storageClasses = [
  'STANDARD',
  'STANDARD_IA',
  'REDUCED_REDUNDANCY',
  'INTELLIGENT_TIERING',
  'ONEZONE_IA',
  'GLACIER_IR',
  'GLACIER',
  'DEEP_ARCHIVE',
] as const;
export type StorageClassName = (typeof storageClasses)[number];

/**
 * Server-side encryption: S3-managed keys, KMS (the account's aws/s3 key unless one is named), or a customer
 * key.
 */
export type ServerSideEncryption =
  | { type: 'AES256' }
  | { type: 'aws:kms'; kmsKeyId?: string }
  /** SSE-C: a 256-bit key as 64 hex digits (the AWS Toolkit's format). A secret: it is registered at once. */
  | { type: 'SSE-C'; customerKey: string };

export interface UploadFilesOptions {
  bucket: string;
  /** The folder the patterns are matched in (relative to the context's cwd). */
  sourceFolder: string;
  /** Glob lines (default `**`): see GlobRules. */
  globs?: string[];
  /** Key prefix ("folder") in the bucket. */
  targetFolder?: string;
  /** Drop the files' folders: every key is targetFolder/<file name>. */
  flattenFolders?: boolean;
  /** One content type for every file; default by extension. */
  contentType?: string;
  contentEncoding?: string;
  /** `glob=Cache-Control value` lines; the first whose glob matches a file's path applies. */
  cacheControl?: string[];
  storageClass?: StorageClassName;
  /** Canned ACL sent with every object (the toolkit always sent its default, `private`). */
  acl?: CannedAcl;
  encryption?: ServerSideEncryption;
  /** HeadBucket, then CreateBucket in the region when it does not exist. */
  createBucket?: boolean;
  forcePathStyle?: boolean;
  /** Files uploaded at once (default 8, 1-64). */
  concurrency?: number;
  /** Multipart part size in bytes (default 8 MiB); smaller files go in one PUT. */
  partSize?: number;
  /** Told after each file, for progress bars. */
  onProgress?: (done: number, total: number, file: UploadedObject) => void;
}

export interface UploadedObject {
  /** Relative to the source folder. */
  path: string;
  key: string;
  bytes: number;
  contentType: string;
  cacheControl?: string;
  eTag?: string;
  versionId?: string;
}

export interface UploadFilesResult {
  bucket: string;
  region: string;
  files: UploadedObject[];
  totalBytes: number;
  bucketCreated: boolean;
  seconds: number;
}

export interface S3Context extends EngineContext {
  /** A pre-built client (tests). */
  clients?: { s3?: S3Client };
}

interface CacheControlRule {
  glob: string;
  value: string;
  match: (path: string) => boolean;
}

interface PlannedFile extends SelectedFile {
  key: string;
  contentType: string;
  cacheControl?: string;
}

const defaultPartSize = 8 * 1024 * 1024;
/**
 * Parts in flight across all files (each holds one part-sized buffer: 128 MiB at the default part size), at
 * least 2 and at most 4 per file: a lone large file goes up 4 parts at a time, 8 files at once 2 parts each.
 */
const partsInFlightTotal = 16;

function partsInFlightPerFile(filesAtOnce: number): number {
  return Math.min(4, Math.max(2, Math.floor(partsInFlightTotal / Math.max(1, filesAtOnce))));
}
/** ACLs a bucket with ACLs disabled (Object Ownership "bucket owner enforced") gives every object anyway. */
const aclsImpliedByOwnership = new Set<CannedAcl>(['private', 'bucket-owner-full-control']);

/** Parses `glob=value` lines (first `=` splits), the AWS Toolkit's cacheControl format. */
export function parseCacheControlRules(lines: string[]): CacheControlRule[] {
  const rules: CacheControlRule[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '') continue;
    const at = line.indexOf('=');
    const glob = line.slice(0, Math.max(0, at)).trim();
    const value = line.slice(at + 1).trim();
    if (at < 1 || glob === '' || value === '') {
      throw new InvalidInputError(
        `The cache control line "${line}" is not <glob>=<Cache-Control value>.`,
        'Write one rule per line, e.g. **/*.html=no-cache or **/*.js=max-age=31536000, immutable.',
      );
    }
    rules.push({ glob, value, match: picomatch(glob.replace(/^(\.\/)+/, ''), { dot: true }) });
  }
  return rules;
}

/**
 * The object key for a file: its relative path (or only its name when flattening) under the target folder.
 */
export function objectKeyFor(path: string, targetFolder: string | undefined, flatten: boolean): string {
  const name = flatten ? posix.basename(path) : path;
  const folder = (targetFolder ?? '').replace(/\\/g, '/').trim();
  return folder === '' ? name : posix.join(folder, name);
}

/**
 * Checks the options that need no file system or network (concurrency, cache control lines, the SSE-C key),
 * so a front end can refuse a wrong value before fetching credentials. uploadFiles checks them again.
 */
export function checkUploadOptions(options: UploadFilesOptions): void {
  const concurrency = options.concurrency ?? 8;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new InvalidInputError(
      `The upload concurrency must be a whole number from 1 to 64, not ${concurrency}.`,
      'Use 8 (the default) unless the agent or the network needs fewer.',
    );
  }
  parseCacheControlRules(options.cacheControl ?? []);
  if (options.encryption?.type === 'SSE-C') customerKeyBytes(options.encryption.customerKey);
}

function customerKeyBytes(customerKey: string): Buffer {
  const hex = customerKey.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new InvalidInputError(
      `The SSE-C customer key must be 64 hexadecimal digits (a 256-bit AES key); the one given has ${hex.length} characters${/^[0-9a-fA-F]*$/.test(hex) ? '' : ' and non-hex characters'}.`,
      'Generate one with `openssl rand -hex 32` and keep it in a secret variable.',
    );
  }
  return Buffer.from(hex, 'hex');
}

/**
 * Uploads the files of a folder that the globs select, several at once, with content types, cache control,
 * storage class, ACL and encryption per the options; returns every object written. Symlinks are followed
 * safely (see selectFiles). The bucket is checked (and created if asked) before anything is uploaded.
 */
export async function uploadFiles(options: UploadFilesOptions, ctx: S3Context): Promise<UploadFilesResult> {
  const started = Date.now();
  const { base, clientInput, s3Endpoint } = createEngineBase(ctx);
  const concurrency = options.concurrency ?? 8;
  // The customer key is a secret: registered before a malformed one can be quoted anywhere.
  if (options.encryption?.type === 'SSE-C')
    base.reporter.registerSecret(options.encryption.customerKey.trim());
  checkUploadOptions(options);
  const encryption = encryptionParameters(options.encryption, base);
  const rules = parseCacheControlRules(options.cacheControl ?? []);
  const sourceFolder = resolve(base.cwd, options.sourceFolder);
  const plan = planUploads(await selectFiles(sourceFolder, options.globs ?? ['**']), options, rules);

  const s3 =
    ctx.clients?.s3 ??
    new S3Client({
      ...buildClientConfig('s3', { ...clientInput, requestTimeoutMs: 300_000 }),
      // A custom endpoint (sandbox, LocalStack, MinIO) rarely resolves bucket subdomains.
      forcePathStyle: (options.forcePathStyle ?? false) || s3Endpoint !== undefined,
      // The toolkit's SDK v2 followed a bucket to its region; v3 does only when asked.
      followRegionRedirects: true,
      // A CRC32 of every byte in JavaScript costs more CPU than the upload; SigV4 still covers the payload.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  const bucketCreated = await ensureBucket(s3, options.bucket, options.createBucket ?? false, base);

  // The key a file named "x" would get, minus the "x": the prefix every key starts with.
  const where = `s3://${options.bucket}/${objectKeyFor('x', options.targetFolder, false).slice(0, -1)}`;
  if (where.startsWith(`s3://${options.bucket}//`)) {
    base.reporter.warn(
      `The target folder "${options.targetFolder}" starts with "/", so every key does too (as with the AWS Toolkit); S3 shows them under a folder with an empty name. Remove the leading "/" unless that is intended.`,
    );
  }
  if (plan.length === 0) {
    base.reporter.warn(
      `No files in ${sourceFolder} match ${(options.globs ?? ['**']).join(', ')}; nothing was uploaded.`,
    );
  } else {
    const total = plan.reduce((sum, file) => sum + file.bytes, 0);
    base.reporter.info(
      `Uploading ${plan.length} file(s), ${formatBytes(total)}, from ${sourceFolder} to ${where} (${Math.min(concurrency, plan.length)} at a time).`,
    );
  }

  const shared = {
    sendAcl: options.acl !== undefined,
    partsInFlight: partsInFlightPerFile(Math.min(concurrency, plan.length)),
  };
  const files: UploadedObject[] = new Array(plan.length);
  let next = 0;
  let done = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < plan.length) {
      if (base.signal?.aborted) {
        failure = new FileUploadError(
          `The upload was cancelled after ${done} of ${plan.length} file(s); the bucket holds a partial set.`,
          'Re-run the upload: it writes every selected file again.',
        );
        return;
      }
      const index = next++;
      const file = plan[index]!;
      try {
        const uploaded = await uploadOne(s3, file, options, encryption, shared, base);
        files[index] = uploaded;
        done++;
        base.reporter.info(
          `Uploaded ${file.path} → ${uploaded.key} (${formatBytes(file.bytes)}, ${file.contentType}${file.cacheControl ? `, Cache-Control ${file.cacheControl}` : ''})`,
        );
        options.onProgress?.(done, plan.length, uploaded);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, plan.length) }, () => worker()));
  if (failure !== undefined) throw failure;
  return {
    bucket: options.bucket,
    region: base.region,
    files,
    totalBytes: files.reduce((sum, file) => sum + file.bytes, 0),
    bucketCreated,
    seconds: (Date.now() - started) / 1000,
  };
}

function planUploads(
  selected: SelectedFile[],
  options: UploadFilesOptions,
  rules: CacheControlRule[],
): PlannedFile[] {
  const byKey = new Map<string, string>();
  return selected.map((file) => {
    const key = objectKeyFor(file.path, options.targetFolder, options.flattenFolders ?? false);
    const clash = byKey.get(key);
    if (clash !== undefined) {
      throw new UploadSourceError(
        `${clash} and ${file.path} would both be uploaded to the key ${key}${options.flattenFolders ? ' (flattenFolders drops their folders)' : ''}.`,
        'Rename one of them, exclude one with a "!" pattern line, or turn flattenFolders off.',
      );
    }
    byKey.set(key, file.path);
    const planned: PlannedFile = {
      ...file,
      key,
      contentType: options.contentType ?? contentTypeFor(file.path),
    };
    const cacheControl = rules.find((rule) => rule.match(file.path))?.value;
    if (cacheControl !== undefined) planned.cacheControl = cacheControl;
    return planned;
  });
}

function encryptionParameters(
  encryption: ServerSideEncryption | undefined,
  base: EngineBase,
): Partial<PutObjectCommandInput> {
  if (!encryption) return {};
  switch (encryption.type) {
    case 'AES256':
      return { ServerSideEncryption: 'AES256' };
    case 'aws:kms':
      return {
        ServerSideEncryption: 'aws:kms',
        ...(encryption.kmsKeyId ? { SSEKMSKeyId: encryption.kmsKeyId } : {}),
      };
    case 'SSE-C': {
      const key = customerKeyBytes(encryption.customerKey);
      // The SDK sends the key base64-encoded in a header: that form is a secret too.
      base.reporter.registerSecret(key.toString('base64'));
      return {
        SSECustomerAlgorithm: 'AES256',
        SSECustomerKey: key.toString('base64'),
        SSECustomerKeyMD5: createHash('md5').update(key).digest('base64'),
      };
    }
  }
}

async function uploadOne(
  s3: S3Client,
  file: PlannedFile,
  options: UploadFilesOptions,
  encryption: Partial<PutObjectCommandInput>,
  shared: { sendAcl: boolean; partsInFlight: number },
  base: EngineBase,
): Promise<UploadedObject> {
  const attempt = async () => {
    const params: Omit<PutObjectCommandInput, 'Body' | 'ContentLength'> = {
      Bucket: options.bucket,
      Key: file.key,
      ContentType: file.contentType,
      ...(options.contentEncoding ? { ContentEncoding: options.contentEncoding } : {}),
      ...(file.cacheControl ? { CacheControl: file.cacheControl } : {}),
      ...(options.storageClass ? { StorageClass: options.storageClass } : {}),
      ...(shared.sendAcl && options.acl ? { ACL: options.acl } : {}),
      ...encryption,
    };
    return uploadFileToS3(s3, {
      path: file.absolute,
      bytes: file.bytes,
      params,
      partSize: Math.max(5 * 1024 * 1024, options.partSize ?? defaultPartSize),
      queueSize: shared.partsInFlight,
      signal: base.signal,
    });
  };
  let result: { ETag?: string; VersionId?: string };
  try {
    result = await call(base, attempt);
  } catch (error) {
    if (awsErrorCode(error) === 'AccessControlListNotSupported' && options.acl) {
      if (!aclsImpliedByOwnership.has(options.acl)) {
        throw new FileUploadError(
          `The bucket ${options.bucket} has ACLs disabled (Object Ownership: bucket owner enforced), so the ACL ${options.acl} cannot be applied to ${file.key}.`,
          'Grant access with a bucket policy instead and set the ACL to private (or enable ACLs on the bucket).',
          { cause: error },
        );
      }
      // Files already in flight fail the same way; only the first says so.
      if (shared.sendAcl) {
        shared.sendAcl = false;
        base.reporter.warn(
          `The bucket ${options.bucket} has ACLs disabled (bucket owner enforced); uploading without the ${options.acl} ACL, which the bucket applies to every object anyway.`,
        );
      }
      result = await call(base, attempt).catch((retryError: unknown) => {
        throw explainFileError(retryError, options.bucket, file);
      });
    } else {
      throw explainFileError(error, options.bucket, file);
    }
  }
  const uploaded: UploadedObject = {
    path: file.path,
    key: file.key,
    bytes: file.bytes,
    contentType: file.contentType,
  };
  if (file.cacheControl) uploaded.cacheControl = file.cacheControl;
  const eTag = result.ETag?.replace(/^"|"$/g, '');
  if (eTag) uploaded.eTag = eTag;
  if (result.VersionId && result.VersionId !== 'null') uploaded.versionId = result.VersionId;
  return uploaded;
}

function explainFileError(error: unknown, bucket: string, file: PlannedFile): Error {
  if (error instanceof FileUploadError) return error;
  const code = awsErrorCode(error);
  const status = httpStatusOf(error);
  const target = `s3://${bucket}/${file.key}`;
  if (
    (error as NodeJS.ErrnoException).code === 'ENOENT' ||
    (error as NodeJS.ErrnoException).code === 'EACCES'
  ) {
    return new UploadSourceError(
      `Could not read ${file.absolute} to upload it: ${(error as Error).message}`,
      'Check no earlier step is still writing or deleting files in the source folder.',
      { cause: error },
    );
  }
  if (isExpiredCredentialsError(error)) {
    return new FileUploadError(
      `The AWS session expired while uploading ${target} (${code}), and refreshing it did not help.`,
      'Check the identity provider still issues tokens, or raise the session duration.',
      { cause: error },
    );
  }
  if (code === 'NoSuchBucket') {
    return new FileUploadError(
      `The bucket ${bucket} no longer exists (uploading ${file.key}).`,
      'Re-create it or correct the bucket name.',
      { cause: error },
    );
  }
  if (code === 'AccessDenied' || status === 403) {
    return new FileUploadError(
      `Uploading ${target} was denied (${code ?? 'HTTP 403'}).`,
      `Allow s3:PutObject${file.key.includes('/') ? ' on the key prefix' : ''} for the role (plus s3:PutObjectAcl with an ACL, and kms:GenerateDataKey with a KMS key), and check the bucket policy.`,
      { cause: error },
    );
  }
  if (code?.startsWith('KMS') || /kms/i.test(code ?? '')) {
    return new FileUploadError(
      `S3 could not encrypt ${target} with KMS: ${awsErrorMessage(error)}`,
      "Check the KMS key id exists in the bucket's region and the role may use it (kms:GenerateDataKey, kms:Encrypt).",
      { cause: error },
    );
  }
  return new FileUploadError(
    `Uploading ${file.path} to ${target} failed: ${awsErrorMessage(error) || code || `HTTP ${status}`}`,
    "Check the bucket name, its region and the role's S3 permissions, then re-run.",
    { cause: error },
  );
}

/** HeadBucket; a missing bucket is created when allowed. Returns whether it was created. */
async function ensureBucket(
  s3: S3Client,
  bucket: string,
  create: boolean,
  base: EngineBase,
): Promise<boolean> {
  try {
    await call(base, () => s3.send(new HeadBucketCommand({ Bucket: bucket })));
    return false;
  } catch (error) {
    const status = httpStatusOf(error);
    const code = awsErrorCode(error);
    if (status === 403 || code === 'Forbidden' || code === 'AccessDenied') {
      throw new BucketError(
        `The bucket ${bucket} exists but this role may not use it (HeadBucket 403): it belongs to another account, or the role lacks s3:ListBucket on it.`,
        'Check the bucket name (names are global) and allow s3:ListBucket and s3:PutObject on it for the role.',
        { cause: error },
      );
    }
    if (!(status === 404 || code === 'NotFound' || code === 'NoSuchBucket')) {
      throw new BucketError(
        `Checking the bucket ${bucket} failed: ${awsErrorMessage(error) || code || `HTTP ${status}`}`,
        'Check the bucket name, the region and the S3 endpoint, then re-run.',
        { cause: error },
      );
    }
    if (!create) {
      throw new BucketError(
        `The bucket ${bucket} does not exist (in ${base.region} or anywhere else this role can see).`,
        'Create it first, correct the bucket name, or allow the upload to create it (createBucket: true / --create-bucket).',
        { cause: error },
      );
    }
  }
  try {
    await call(base, () =>
      s3.send(
        new CreateBucketCommand({
          Bucket: bucket,
          // us-east-1 is the default location and S3 refuses it as an explicit constraint.
          ...(base.region === 'us-east-1'
            ? {}
            : { CreateBucketConfiguration: { LocationConstraint: base.region as BucketLocationConstraint } }),
        }),
      ),
    );
  } catch (error) {
    const code = awsErrorCode(error);
    if (code === 'BucketAlreadyOwnedByYou') return false;
    if (code === 'BucketAlreadyExists') {
      throw new BucketError(
        `The bucket name ${bucket} is taken by another AWS account (bucket names are global).`,
        'Choose a more specific name, e.g. with your account id or organisation as a prefix.',
        { cause: error },
      );
    }
    throw new BucketError(
      `Creating the bucket ${bucket} in ${base.region} failed: ${awsErrorMessage(error) || code}`,
      code === 'InvalidBucketName'
        ? 'Bucket names are 3-63 characters of lower-case letters, digits, dots and hyphens.'
        : 'Allow s3:CreateBucket for the role, or create the bucket beforehand.',
      { cause: error },
    );
  }
  base.reporter.info(`Created the bucket ${bucket} in ${base.region}.`);
  return true;
}
