import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { AwsError } from '../aws/errors';
import type { AwsCall, AwsEnvironment, AwsReply, AwsService } from '../aws/service';
import { parseS3Address, type S3Address } from './addressing';
import { ChunkedEncodingError } from './chunked';
import type { DiskS3Store, ObjectWriteOptions, StoredObject } from './disk-store';
import { unquoteEtag } from './etag';
import { MAX_PUT_SIZE, s3Errors } from './errors';
import { decodeContinuationToken, encodeContinuationToken, listPage, urlEncodeKey } from './list';
import { isValidPartNumber } from './multipart';
import { parseQuery } from './addressing';
import { storedContentEncoding, uploadBody } from './request-body';
import {
  parseCompleteMultipartUpload,
  parseCreateBucketConfiguration,
  renderS3Document,
  type S3XmlNode,
} from './xml';

/** Headers S3 stores with an object and returns on GET/HEAD exactly as given. */
const STORED_HEADERS = [
  'cache-control',
  'content-disposition',
  'content-language',
  'expires',
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-server-side-encryption-bucket-key-enabled',
  'x-amz-server-side-encryption-customer-algorithm',
  'x-amz-server-side-encryption-customer-key-md5',
  'x-amz-website-redirect-location',
];
/** Query parameters that override response headers on GET (used by presigned download links). */
const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};
/** Subresources this sandbox does not model; S3 would answer them, so say so rather than misroute them. */
const BUCKET_GET_LISTING_PARAMS = new Set([
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'marker',
  'continuation-token',
  'start-after',
  'encoding-type',
  'fetch-owner',
  'x-id',
]);
const DEFAULT_MAX_KEYS = 1000;
const XML = { 'content-type': 'application/xml' };

/** Query parameter names that select a subresource; SDK v3's `x-id=<Operation>` marker selects nothing. */
function subresources(query: Map<string, string>): string[] {
  return [...query.keys()].filter((name) => name !== 'x-id');
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The region in the request's SigV4 credential scope (header or presigned query). */
function signingRegion(call: AwsCall): string | undefined {
  const auth = header(call.headers, 'authorization') ?? '';
  const scope =
    /Credential=([^,\s]+)/.exec(auth)?.[1] ??
    parseQuery(call.wire.rawUrl.split('?')[1] ?? '').get('X-Amz-Credential');
  return scope?.split('/')[2];
}

function objectHeaders(object: StoredObject): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': object.contentType,
    etag: object.etag,
    'last-modified': object.lastModified.toUTCString(),
    'accept-ranges': 'bytes',
    // Since January 2023 S3 encrypts every object with SSE-S3 unless told otherwise, and says so.
    'x-amz-server-side-encryption': 'AES256',
    ...object.headers,
  };
  for (const [name, value] of Object.entries(object.metadata)) headers[`x-amz-meta-${name}`] = value;
  const parts = /-(\d+)"$/.exec(object.etag)?.[1];
  if (parts) headers['x-amz-mp-parts-count'] = parts;
  return headers;
}

function writeOptions(headers: IncomingHttpHeaders): ObjectWriteOptions {
  const metadata: Record<string, string> = {};
  const stored: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(',') : value;
    if (name.startsWith('x-amz-meta-')) metadata[name.slice('x-amz-meta-'.length)] = text;
    else if (STORED_HEADERS.includes(name)) stored[name] = text;
  }
  const encoding = storedContentEncoding(headers);
  if (encoding) stored['content-encoding'] = encoding;
  const storageClass = header(headers, 'x-amz-storage-class');
  // S3 reports a storage class on GET/HEAD only when it is not STANDARD.
  if (storageClass && storageClass !== 'STANDARD') stored['x-amz-storage-class'] = storageClass;
  return { contentType: header(headers, 'content-type'), metadata, headers: stored };
}

/** The SSE headers S3 echoes on writes: the ones stored with the object, else its SSE-S3 default. */
function encryptionHeaders(stored: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = { 'x-amz-server-side-encryption': 'AES256' };
  for (const [name, value] of Object.entries(stored ?? {})) {
    if (name.startsWith('x-amz-server-side-encryption')) out[name] = value;
  }
  return out;
}

type ByteRange = { start: number; end: number };

/**
 * `Range: bytes=a-b | a- | -n`. Syntactically invalid or multi-range headers are ignored (whole object, 200),
 * as S3 does; a satisfiable-looking range beyond the object is InvalidRange (416).
 */
function parseRange(value: string | undefined, size: number): ByteRange | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) throw s3Errors.invalidRange(value, size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) throw s3Errors.invalidRange(value, size);
  return { start, end };
}

function etagMatches(condition: string, etag: string): boolean {
  return condition
    .split(',')
    .map((item) => item.trim())
    .some((item) => item === '*' || unquoteEtag(item) === unquoteEtag(etag));
}

/** If-Match / If-Unmodified-Since → 412; If-None-Match / If-Modified-Since → 304, in RFC 7232 order. */
function checkPreconditions(headers: IncomingHttpHeaders, object: StoredObject): AwsReply | undefined {
  const ifMatch = header(headers, 'if-match');
  const ifNoneMatch = header(headers, 'if-none-match');
  const ifModifiedSince = Date.parse(header(headers, 'if-modified-since') ?? '');
  const ifUnmodifiedSince = Date.parse(header(headers, 'if-unmodified-since') ?? '');
  const modified = object.lastModified.getTime();
  if (ifMatch !== undefined && !etagMatches(ifMatch, object.etag))
    throw s3Errors.preconditionFailed('If-Match');
  if (ifMatch === undefined && !Number.isNaN(ifUnmodifiedSince) && modified > ifUnmodifiedSince)
    throw s3Errors.preconditionFailed('If-Unmodified-Since');
  const notModified = {
    status: 304,
    headers: { etag: object.etag, 'last-modified': object.lastModified.toUTCString() },
    body: '',
  };
  if (ifNoneMatch !== undefined) return etagMatches(ifNoneMatch, object.etag) ? notModified : undefined;
  if (!Number.isNaN(ifModifiedSince) && modified <= ifModifiedSince) return notModified;
  return undefined;
}

function parseMaxKeys(value: string | undefined, name: string): number {
  if (value === undefined) return DEFAULT_MAX_KEYS;
  if (!/^-?\d+$/.test(value) || Math.abs(Number(value)) > 2_147_483_647)
    throw s3Errors.invalidArgument(`Provided ${name} not an integer or within integer range`, name, value);
  const n = Number(value);
  if (n < 0)
    throw s3Errors.invalidArgument(
      `Argument ${name} must be an integer between 0 and 2147483647`,
      name,
      value,
    );
  return Math.min(n, DEFAULT_MAX_KEYS);
}

/** Parses `x-amz-copy-source: [/]bucket/key[?versionId=…]` (URL-encoded). */
function parseCopySource(value: string): { bucket: string; key: string } {
  const withoutVersion = value.split('?')[0] ?? '';
  let decoded: string;
  try {
    decoded = decodeURIComponent(withoutVersion);
  } catch {
    decoded = withoutVersion;
  }
  const path = decoded.startsWith('/') ? decoded.slice(1) : decoded;
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1)
    throw s3Errors.invalidArgument('Invalid copy source object key', 'x-amz-copy-source', value);
  return { bucket: path.slice(0, slash), key: path.slice(slash + 1) };
}

/**
 * S3 over REST-XML: path-style and virtual-host addressing, streamed uploads (aws-chunked decoded), multipart,
 * listing, and S3's own error codes. The heavy lifting (files, atomic commits) is the DiskS3Store's.
 */
export function createS3Service(env: AwsEnvironment): AwsService {
  const store = env.s3 as DiskS3Store;
  const ownerId = createHash('sha256').update(`keyless-sandbox:${env.accountId}`).digest('hex');
  const owner = { ID: ownerId, DisplayName: 'sandbox' };
  const ownHost = () => {
    try {
      return new URL(env.baseUrl()).host;
    } catch {
      return undefined;
    }
  };

  async function handle(call: AwsCall): Promise<AwsReply> {
    const method = call.wire.method.toUpperCase();
    const address = parseS3Address(call.wire.rawUrl, call.headers, ownHost());
    if (address.bucket === undefined) {
      if (method === 'GET') return listBuckets();
      throw s3Errors.methodNotAllowed(method, 'SERVICE');
    }
    if (address.key === undefined) return bucketOperation(call, method, address.bucket, address);
    return objectOperation(call, method, address.bucket, address.key, address);
  }

  function listBuckets(): AwsReply {
    const buckets = store.listBuckets().map((bucket) => ({
      Name: bucket.name,
      CreationDate: bucket.creationDate,
      BucketRegion: bucket.region,
    }));
    return {
      headers: XML,
      body: renderS3Document('ListAllMyBucketsResult', { Owner: owner, Buckets: { Bucket: buckets } }),
    };
  }

  async function bucketOperation(
    call: AwsCall,
    method: string,
    bucket: string,
    address: S3Address,
  ): Promise<AwsReply> {
    const query = address.query;
    switch (method) {
      case 'PUT':
        if (subresources(query).length > 0)
          throw s3Errors.notImplemented(`?${subresources(query).join('&')}`);
        return createBucket(call, bucket);
      case 'HEAD':
        if (!store.bucketExists(bucket)) throw s3Errors.noSuchBucket(bucket);
        return {
          headers: {
            'x-amz-bucket-region': store.bucketRegion(bucket) ?? env.region,
            'x-amz-access-point-alias': 'false',
          },
          body: '',
        };
      case 'DELETE':
        if (subresources(query).length > 0)
          throw s3Errors.notImplemented(`?${subresources(query).join('&')}`);
        await store.deleteBucket(bucket);
        return { status: 204, body: '' };
      case 'POST':
        if (query.has('delete')) return deleteObjects(call, bucket);
        throw s3Errors.methodNotAllowed(method, 'BUCKET');
      case 'GET': {
        if (!store.bucketExists(bucket)) throw s3Errors.noSuchBucket(bucket);
        if (query.has('location')) {
          const region = store.bucketRegion(bucket);
          return {
            headers: XML,
            body: renderS3Document('LocationConstraint', {}).replace(
              '</LocationConstraint>',
              `${region === 'us-east-1' ? '' : (region ?? '')}</LocationConstraint>`,
            ),
          };
        }
        if (query.has('versioning'))
          return { headers: XML, body: renderS3Document('VersioningConfiguration', {}) };
        if (query.has('uploads')) return listMultipartUploads(bucket, query);
        const unknown = [...query.keys()].filter((name) => !BUCKET_GET_LISTING_PARAMS.has(name));
        if (unknown.length > 0) throw s3Errors.notImplemented(`?${unknown.join('&')}`);
        return query.get('list-type') === '2' ? listObjectsV2(bucket, query) : listObjectsV1(bucket, query);
      }
      default:
        throw s3Errors.methodNotAllowed(method, 'BUCKET');
    }
  }

  async function createBucket(call: AwsCall, bucket: string): Promise<AwsReply> {
    const constraint = parseCreateBucketConfiguration(call.wire.body);
    const requestRegion = signingRegion(call) ?? env.region;
    const region = constraint === 'EU' ? 'eu-west-1' : (constraint ?? 'us-east-1');
    if (constraint === 'us-east-1') throw s3Errors.invalidLocationConstraint();
    if (region !== requestRegion) {
      throw new AwsError(
        'IllegalLocationConstraintException',
        `The ${constraint === undefined ? 'unspecified' : constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`,
        400,
      );
    }
    try {
      await store.createBucket(bucket, region);
    } catch (error) {
      // us-east-1 keeps a legacy rule: re-creating a bucket you own there succeeds (200) instead of 409.
      if (!(error instanceof AwsError && error.code === 'BucketAlreadyOwnedByYou' && region === 'us-east-1'))
        throw error;
    }
    return { headers: { location: `/${bucket}` }, body: '' };
  }

  function listObjectsV2(bucket: string, query: Map<string, string>): AwsReply {
    const encodeUrl = readEncodingType(query);
    const enc = (text: string | undefined) =>
      text === undefined ? undefined : encodeUrl ? urlEncodeKey(text) : text;
    const prefix = query.get('prefix') ?? '';
    const delimiter = query.get('delimiter') || undefined;
    const maxKeys = parseMaxKeys(query.get('max-keys'), 'max-keys');
    const token = query.get('continuation-token');
    const startAfter = query.get('start-after');
    let after = startAfter || undefined;
    if (token !== undefined) {
      after = decodeContinuationToken(token);
      if (after === undefined)
        throw s3Errors.invalidArgument(
          'The continuation token provided is incorrect',
          'continuation-token',
          token,
        );
    }
    const page = listPage(store.sortedKeys(bucket), { prefix, delimiter, maxKeys, after });
    const body = renderS3Document('ListBucketResult', {
      Name: bucket,
      Prefix: enc(prefix),
      NextContinuationToken:
        page.isTruncated && page.lastEntry !== undefined
          ? encodeContinuationToken(page.lastEntry)
          : undefined,
      KeyCount: page.keys.length + page.commonPrefixes.length,
      MaxKeys: maxKeys,
      Delimiter: enc(delimiter),
      IsTruncated: page.isTruncated,
      Contents: page.keys.map((key) => contentsEntry(bucket, key, enc, query.get('fetch-owner') === 'true')),
      CommonPrefixes: page.commonPrefixes.map((common) => ({ Prefix: enc(common) })),
      EncodingType: encodeUrl ? 'url' : undefined,
      ContinuationToken: token,
      StartAfter: enc(startAfter),
    });
    return { headers: XML, body };
  }

  function listObjectsV1(bucket: string, query: Map<string, string>): AwsReply {
    const encodeUrl = readEncodingType(query);
    const enc = (text: string | undefined) =>
      text === undefined ? undefined : encodeUrl ? urlEncodeKey(text) : text;
    const prefix = query.get('prefix') ?? '';
    const delimiter = query.get('delimiter') || undefined;
    const maxKeys = parseMaxKeys(query.get('max-keys'), 'max-keys');
    const marker = query.get('marker') ?? '';
    const page = listPage(store.sortedKeys(bucket), {
      prefix,
      delimiter,
      maxKeys,
      after: marker || undefined,
    });
    const body = renderS3Document('ListBucketResult', {
      Name: bucket,
      Prefix: enc(prefix),
      Marker: enc(marker),
      // S3 returns NextMarker only with a delimiter; without one clients continue from the last key.
      NextMarker: page.isTruncated && delimiter !== undefined ? enc(page.lastEntry) : undefined,
      MaxKeys: maxKeys,
      Delimiter: enc(delimiter),
      IsTruncated: page.isTruncated,
      Contents: page.keys.map((key) => contentsEntry(bucket, key, enc, true)),
      CommonPrefixes: page.commonPrefixes.map((common) => ({ Prefix: enc(common) })),
      EncodingType: encodeUrl ? 'url' : undefined,
    });
    return { headers: XML, body };
  }

  function readEncodingType(query: Map<string, string>): boolean {
    const value = query.get('encoding-type');
    if (value === undefined) return false;
    if (value !== 'url')
      throw s3Errors.invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', value);
    return true;
  }

  function contentsEntry(
    bucket: string,
    key: string,
    enc: (text: string) => string | undefined,
    withOwner: boolean,
  ): S3XmlNode {
    const info = store.objectInfo(bucket, key) as StoredObject;
    return {
      Key: enc(key),
      LastModified: info.lastModified,
      ETag: info.etag,
      Size: info.size,
      Owner: withOwner ? owner : undefined,
      StorageClass: info.headers['x-amz-storage-class'] ?? 'STANDARD',
    };
  }

  async function deleteObjects(call: AwsCall, bucket: string): Promise<AwsReply> {
    if (!store.bucketExists(bucket)) throw s3Errors.noSuchBucket(bucket);
    const text = call.wire.body.toString('utf8');
    const quiet = /<Quiet>\s*true\s*<\/Quiet>/i.test(text);
    const keys = [...text.matchAll(/<Object>[\s\S]*?<Key>([\s\S]*?)<\/Key>[\s\S]*?<\/Object>/g)].map((m) =>
      (m[1] as string)
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'")
        .replace(/&#x([0-9a-fA-F]+);/g, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
        .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
        .replace(/&amp;/g, '&'),
    );
    if (!/<Delete[\s>]/.test(text) || keys.length === 0 || keys.length > 1000) throw s3Errors.malformedXml();
    for (const key of keys) await store.deleteObject(bucket, key);
    return {
      headers: XML,
      body: renderS3Document('DeleteResult', {
        Deleted: quiet ? undefined : keys.map((key) => ({ Key: key })),
      }),
    };
  }

  function listMultipartUploads(bucket: string, query: Map<string, string>): AwsReply {
    const prefix = query.get('prefix') ?? '';
    const maxUploads = parseMaxKeys(query.get('max-uploads'), 'max-uploads');
    const uploads = store.listMultipartUploads(bucket).filter((upload) => upload.key.startsWith(prefix));
    const shown = uploads.slice(0, maxUploads);
    const last = shown[shown.length - 1];
    return {
      headers: XML,
      body: renderS3Document('ListMultipartUploadsResult', {
        Bucket: bucket,
        KeyMarker: '',
        UploadIdMarker: '',
        NextKeyMarker: last?.key ?? '',
        NextUploadIdMarker: last?.uploadId ?? '',
        Prefix: prefix || undefined,
        MaxUploads: maxUploads,
        IsTruncated: uploads.length > shown.length,
        Upload: shown.map((upload) => ({
          Key: upload.key,
          UploadId: upload.uploadId,
          Initiator: owner,
          Owner: owner,
          StorageClass: 'STANDARD',
          Initiated: upload.initiated,
        })),
      }),
    };
  }

  async function objectOperation(
    call: AwsCall,
    method: string,
    bucket: string,
    key: string,
    address: S3Address,
  ): Promise<AwsReply> {
    const query = address.query;
    const uploadId = query.get('uploadId');
    switch (method) {
      case 'GET':
        if (uploadId !== undefined) return listParts(bucket, key, uploadId, query);
        return getObject(call, bucket, key, query, true);
      case 'HEAD':
        return getObject(call, bucket, key, query, false);
      case 'PUT':
        if (header(call.headers, 'x-amz-copy-source') !== undefined) {
          if (uploadId !== undefined) throw s3Errors.notImplemented('x-amz-copy-source (UploadPartCopy)');
          return copyObject(call, bucket, key);
        }
        if (uploadId !== undefined || query.has('partNumber')) return uploadPart(call, bucket, key, query);
        if (subresources(query).length > 0)
          throw s3Errors.notImplemented(`?${subresources(query).join('&')}`);
        return putObject(call, bucket, key);
      case 'DELETE':
        if (uploadId !== undefined) {
          store.requireUpload(bucket, key, uploadId);
          await store.abortMultipartUpload(bucket, key, uploadId);
          return { status: 204, body: '' };
        }
        await store.deleteObject(bucket, key);
        return { status: 204, body: '' };
      case 'POST':
        if (query.has('uploads')) {
          const upload = await store.createMultipartUpload(bucket, key, writeOptions(call.headers));
          return {
            headers: { ...XML, ...encryptionHeaders(upload.options.headers) },
            body: renderS3Document('InitiateMultipartUploadResult', {
              Bucket: bucket,
              Key: key,
              UploadId: upload.uploadId,
            }),
          };
        }
        if (uploadId !== undefined) return completeMultipartUpload(call, bucket, key, uploadId);
        throw s3Errors.methodNotAllowed(method, 'OBJECT');
      default:
        throw s3Errors.methodNotAllowed(method, 'OBJECT');
    }
  }

  function body(call: AwsCall): { source: Readable | Buffer; streamed: boolean } {
    return call.bodyStream
      ? { source: call.bodyStream, streamed: true }
      : { source: call.wire.body, streamed: false };
  }

  async function receive<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof ChunkedEncodingError) throw s3Errors.incompleteBody().withDetail(error.message);
      throw error;
    }
  }

  async function putObject(call: AwsCall, bucket: string, key: string): Promise<AwsReply> {
    if (!store.bucketExists(bucket)) throw s3Errors.noSuchBucket(bucket);
    const { source, streamed } = body(call);
    const upload = uploadBody(call.headers, source, streamed);
    const object = await receive(() =>
      store.putObjectStream(bucket, key, upload.stream, writeOptions(call.headers), upload.write),
    );
    return { headers: { etag: object.etag, ...encryptionHeaders(object.headers) }, body: '' };
  }

  async function uploadPart(
    call: AwsCall,
    bucket: string,
    key: string,
    query: Map<string, string>,
  ): Promise<AwsReply> {
    const partText = query.get('partNumber') ?? '';
    const uploadId = query.get('uploadId') ?? '';
    if (!isValidPartNumber(partText))
      throw s3Errors.invalidArgument(
        'Part number must be an integer between 1 and 10000, inclusive',
        'partNumber',
        partText,
      );
    const upload = store.requireUpload(bucket, key, uploadId);
    const { source, streamed } = body(call);
    const received = uploadBody(call.headers, source, streamed);
    const part = await receive(() =>
      store.uploadPart(bucket, key, uploadId, Number(partText), received.stream, received.write),
    );
    return { headers: { etag: `"${part.md5}"`, ...encryptionHeaders(upload.options.headers) }, body: '' };
  }

  async function completeMultipartUpload(
    call: AwsCall,
    bucket: string,
    key: string,
    uploadId: string,
  ): Promise<AwsReply> {
    store.requireUpload(bucket, key, uploadId);
    const requested = parseCompleteMultipartUpload(call.wire.body);
    const { object } = await store.completeMultipartUpload(bucket, key, uploadId, requested);
    const location = `${env.baseUrl()}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
    return {
      headers: { ...XML, ...encryptionHeaders(object.headers) },
      body: renderS3Document('CompleteMultipartUploadResult', {
        Location: location,
        Bucket: bucket,
        Key: key,
        ETag: object.etag,
      }),
    };
  }

  function listParts(bucket: string, key: string, uploadId: string, query: Map<string, string>): AwsReply {
    const upload = store.requireUpload(bucket, key, uploadId);
    const maxParts = parseMaxKeys(query.get('max-parts'), 'max-parts');
    const marker = Number(query.get('part-number-marker') ?? '0') || 0;
    const all = [...upload.parts.values()]
      .filter((part) => part.partNumber > marker)
      .sort((a, b) => a.partNumber - b.partNumber);
    const shown = all.slice(0, maxParts);
    return {
      headers: XML,
      body: renderS3Document('ListPartsResult', {
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        PartNumberMarker: marker,
        NextPartNumberMarker: shown[shown.length - 1]?.partNumber ?? 0,
        MaxParts: maxParts,
        IsTruncated: all.length > shown.length,
        Part: shown.map((part) => ({
          PartNumber: part.partNumber,
          LastModified: part.lastModified,
          ETag: `"${part.md5}"`,
          Size: part.size,
        })),
        Initiator: owner,
        Owner: owner,
        StorageClass: 'STANDARD',
      }),
    };
  }

  async function getObject(
    call: AwsCall,
    bucket: string,
    key: string,
    query: Map<string, string>,
    withBody: boolean,
  ): Promise<AwsReply> {
    const info = store.statObject(bucket, key);
    const notModified = checkPreconditions(call.headers, info);
    if (notModified) return notModified;
    const range = parseRange(header(call.headers, 'range'), info.size);
    const headers = objectHeaders(info);
    for (const [param, name] of Object.entries(RESPONSE_OVERRIDES)) {
      const value = query.get(param);
      if (value !== undefined) headers[name] = value;
    }
    const length = range ? range.end - range.start + 1 : info.size;
    headers['content-length'] = String(length);
    if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${info.size}`;
    const status = range ? 206 : 200;
    if (!withBody || length === 0) return { status, headers, body: '' };
    const { info: opened, handle } = await store.openObject(bucket, key);
    if (opened.etag !== info.etag) {
      // Overwritten between stat and open: describe the version actually being sent.
      await handle.close();
      return getObject(call, bucket, key, query, withBody);
    }
    const stream = handle.createReadStream({ start: range?.start ?? 0, end: range?.end ?? info.size - 1 });
    return { status, headers, body: stream };
  }

  async function copyObject(call: AwsCall, bucket: string, key: string): Promise<AwsReply> {
    const source = parseCopySource(header(call.headers, 'x-amz-copy-source') as string);
    if (!store.bucketExists(bucket)) throw s3Errors.noSuchBucket(bucket);
    const sourceInfo = store.statObject(source.bucket, source.key);
    if (sourceInfo.size > MAX_PUT_SIZE)
      throw s3Errors.invalidRequest(
        'The specified copy source is larger than the maximum allowable size for a copy source: 5368709120',
      );
    const replace = (header(call.headers, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase() === 'REPLACE';
    if (!replace && source.bucket === bucket && source.key === key)
      throw s3Errors.invalidRequest(
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      );
    const object = await store.copyObject(
      source,
      { bucket, key },
      replace ? writeOptions(call.headers) : undefined,
    );
    return {
      headers: { ...XML, ...encryptionHeaders(object.headers) },
      body: renderS3Document('CopyObjectResult', { LastModified: object.lastModified, ETag: object.etag }),
    };
  }

  return {
    name: 's3',
    signingName: 's3',
    protocol: { kind: 'rest-xml' },
    handle,
    streamsRequestBody(request) {
      // Only object uploads are streamed; every other S3 body is small XML the handlers parse whole.
      if ((request.method ?? '').toUpperCase() !== 'PUT') return false;
      if (request.headers['x-amz-copy-source'] !== undefined) return false;
      const address = parseS3Address(request.url ?? '/', request.headers, ownHost());
      if (address.bucket === undefined || address.key === undefined) return false;
      const names = subresources(address.query);
      return (
        names.length === 0 ||
        (address.query.has('partNumber') && address.query.has('uploadId') && names.length === 2)
      );
    },
  };
}
