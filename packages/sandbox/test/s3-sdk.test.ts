import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { startSandbox, type RunningSandbox } from '../src/index';
import { ROOT_KEYS } from './support';

const MiB = 1024 * 1024;
const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

let sandbox: RunningSandbox;
let s3: S3Client;

before(async () => {
  sandbox = await startSandbox({ port: 0, config: { rootCredentials: [ROOT_KEYS] } });
  s3 = new S3Client({
    endpoint: sandbox.url,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: ROOT_KEYS,
    maxAttempts: 1,
  });
});

after(async () => {
  s3.destroy();
  await sandbox.close();
});

/** Asserts the call fails with an S3 error of this code and HTTP status. */
async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
  status: number,
): Promise<S3ServiceException> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof S3ServiceException, `expected an S3 error, got ${String(error)}`);
    assert.equal(error.name, code);
    assert.equal(error.$metadata.httpStatusCode, status);
    return error;
  }
  assert.fail(`expected ${code}`);
}

async function bytesOf(body: unknown): Promise<Buffer> {
  return Buffer.from(await (body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

let bucketCounter = 0;
async function newBucket(): Promise<string> {
  const name = `test-bucket-${process.pid}-${++bucketCounter}`;
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

describe('buckets', () => {
  test('create, head, list, location, delete', async () => {
    const bucket = await newBucket();
    const head = await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    assert.equal(head.BucketRegion, 'us-east-1');
    const list = await s3.send(new ListBucketsCommand({}));
    assert.ok(list.Buckets?.some((b) => b.Name === bucket && b.CreationDate instanceof Date));
    const location = await s3.send(new GetBucketLocationCommand({ Bucket: bucket }));
    assert.equal(location.LocationConstraint ?? undefined, undefined);
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    await rejectsWith(s3.send(new HeadBucketCommand({ Bucket: bucket })), 'NotFound', 404);
    await rejectsWith(s3.send(new DeleteBucketCommand({ Bucket: bucket })), 'NoSuchBucket', 404);
  });

  test('us-east-1 re-create is a no-op; other regions answer BucketAlreadyOwnedByYou', async () => {
    const bucket = await newBucket();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const eu = new S3Client({
      endpoint: sandbox.url,
      forcePathStyle: true,
      region: 'eu-west-1',
      credentials: ROOT_KEYS,
    });
    const euBucket = `eu-${bucket}`;
    await eu.send(
      new CreateBucketCommand({
        Bucket: euBucket,
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      }),
    );
    const location = await eu.send(new GetBucketLocationCommand({ Bucket: euBucket }));
    assert.equal(location.LocationConstraint, 'eu-west-1');
    await rejectsWith(
      eu.send(
        new CreateBucketCommand({
          Bucket: euBucket,
          CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
        }),
      ),
      'BucketAlreadyOwnedByYou',
      409,
    );
    eu.destroy();
  });

  test('invalid names', async () => {
    for (const name of [
      'ab',
      'UpperCase',
      'has_underscore',
      '-leading',
      'a..b',
      '192.168.1.1',
      'x'.repeat(64),
    ]) {
      const error = await rejectsWith(
        s3.send(new CreateBucketCommand({ Bucket: name })),
        'InvalidBucketName',
        400,
      );
      assert.equal(error.message, 'The specified bucket is not valid.');
    }
  });

  test('DeleteBucket on a non-empty bucket is BucketNotEmpty (409)', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
    const error = await rejectsWith(
      s3.send(new DeleteBucketCommand({ Bucket: bucket })),
      'BucketNotEmpty',
      409,
    );
    assert.equal(error.message, 'The bucket you tried to delete is not empty');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  });
});

describe('objects', () => {
  let bucket: string;
  before(async () => {
    bucket = await newBucket();
  });

  test('put and get with metadata and representation headers', async () => {
    const body = Buffer.from('hello, sandbox');
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'docs/readme.txt',
        Body: body,
        ContentType: 'text/plain',
        CacheControl: 'max-age=60',
        ContentEncoding: 'identity',
        Metadata: { owner: 'keyless', build: '42' },
        ContentMD5: createHash('md5').update(body).digest('base64'),
      }),
    );
    assert.equal(put.ETag, `"${md5(body)}"`);
    assert.equal(put.ServerSideEncryption, 'AES256');
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'docs/readme.txt' }));
    assert.deepEqual(await bytesOf(got.Body), body);
    assert.equal(got.ContentType, 'text/plain');
    assert.equal(got.ContentLength, body.length);
    assert.equal(got.CacheControl, 'max-age=60');
    assert.equal(got.ContentEncoding, 'identity');
    assert.deepEqual(got.Metadata, { owner: 'keyless', build: '42' });
    assert.equal(got.ETag, put.ETag);
    assert.ok(got.LastModified instanceof Date && Math.abs(got.LastModified.getTime() - Date.now()) < 60_000);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'docs/readme.txt' }));
    assert.equal(head.ContentLength, body.length);
    assert.equal(head.ETag, put.ETag);
    assert.deepEqual(head.Metadata, { owner: 'keyless', build: '42' });
  });

  test('stream bodies arrive aws-chunked and are stored decoded', async () => {
    const payload = randomBytes(3 * MiB + 17);
    const pieces = [payload.subarray(0, 1000), payload.subarray(1000, 2 * MiB), payload.subarray(2 * MiB)];
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'streamed.bin',
        Body: Readable.from(pieces),
        ContentLength: payload.length,
      }),
    );
    assert.equal(put.ETag, `"${md5(payload)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'streamed.bin' }));
    assert.deepEqual(await bytesOf(got.Body), payload);
    assert.equal(got.ContentEncoding, undefined, 'aws-chunked is transport only and is not stored');
  });

  test('raw aws-chunked request with a short decoded length is IncompleteBody', async () => {
    // Rewrite the request after serialization and before signing, so the signature covers the bad framing.
    const client = new S3Client({
      endpoint: sandbox.url,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: ROOT_KEYS,
      maxAttempts: 1,
    });
    client.middlewareStack.add(
      (next) => async (args) => {
        const req = (args as { request: { headers: Record<string, string>; body: unknown } }).request;
        req.headers['content-encoding'] = 'aws-chunked';
        req.headers['x-amz-decoded-content-length'] = '10';
        req.headers['x-amz-content-sha256'] = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
        req.body = Buffer.from('3\r\nabc\r\n0\r\n\r\n');
        req.headers['content-length'] = String((req.body as Buffer).length);
        delete req.headers['content-md5'];
        return next(args);
      },
      { step: 'build', priority: 'low', name: 'rewriteBody' },
    );
    await rejectsWith(
      client.send(new PutObjectCommand({ Bucket: bucket, Key: 'short', Body: 'abc' })),
      'IncompleteBody',
      400,
    );
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'short' })), 'NotFound', 404);
    client.destroy();
  });

  test('a streamed body whose signed payload hash does not match is XAmzContentSHA256Mismatch', async () => {
    const client = new S3Client({
      endpoint: sandbox.url,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: ROOT_KEYS,
      maxAttempts: 1,
    });
    client.middlewareStack.add(
      (next) => async (args) => {
        const req = (args as { request: { headers: Record<string, string> } }).request;
        req.headers['x-amz-content-sha256'] = createHash('sha256').update('something else').digest('hex');
        return next(args);
      },
      { step: 'build', priority: 'low', name: 'wrongPayloadHash' },
    );
    await rejectsWith(
      client.send(new PutObjectCommand({ Bucket: bucket, Key: 'sha', Body: Buffer.from('payload') })),
      'XAmzContentSHA256Mismatch',
      400,
    );
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sha' })), 'NotFound', 404);
    client.destroy();
  });

  test('Content-MD5 mismatch is BadDigest; malformed is InvalidDigest', async () => {
    await rejectsWith(
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'md5',
          Body: 'abc',
          ContentMD5: createHash('md5').update('xyz').digest('base64'),
        }),
      ),
      'BadDigest',
      400,
    );
    await rejectsWith(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'md5', Body: 'abc', ContentMD5: 'nope' })),
      'InvalidDigest',
      400,
    );
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'md5' })), 'NotFound', 404);
  });

  test('range reads', async () => {
    const data = Buffer.from('0123456789');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'range', Body: data }));
    const cases: Array<[string, string, string]> = [
      ['bytes=2-5', '2345', 'bytes 2-5/10'],
      ['bytes=7-', '789', 'bytes 7-9/10'],
      ['bytes=-3', '789', 'bytes 7-9/10'],
      ['bytes=8-100', '89', 'bytes 8-9/10'],
    ];
    for (const [range, body, contentRange] of cases) {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: range }));
      assert.equal(got.$metadata.httpStatusCode, 206);
      assert.equal((await bytesOf(got.Body)).toString(), body);
      assert.equal(got.ContentRange, contentRange);
      assert.equal(got.ContentLength, body.length);
    }
    const error = await rejectsWith(
      s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=10-' })),
      'InvalidRange',
      416,
    );
    assert.equal(error.message, 'The requested range is not satisfiable');
  });

  test('conditional GET', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'c' }));
    await rejectsWith(
      s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfMatch: '"0000"' })),
      'PreconditionFailed',
      412,
    );
    const notModified = await s3
      .send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfNoneMatch: put.ETag }))
      .then(
        () => undefined,
        (error: S3ServiceException) => error.$metadata.httpStatusCode,
      );
    assert.equal(notModified, 304);
    const ok = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfMatch: put.ETag }));
    assert.equal((await bytesOf(ok.Body)).toString(), 'c');
  });

  test('missing keys: NoSuchKey with S3 wording, HEAD 404 bodiless (NotFound), delete idempotent', async () => {
    const error = await rejectsWith(
      s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'absent' })),
      'NoSuchKey',
      404,
    );
    assert.equal(error.message, 'The specified key does not exist.');
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'absent' })), 'NotFound', 404);
    const noBucket = await rejectsWith(
      s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket-here', Key: 'k' })),
      'NoSuchBucket',
      404,
    );
    assert.equal(noBucket.message, 'The specified bucket does not exist');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'absent' }));
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'absent' }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
  });

  test('HEAD error responses carry no body on the wire', async () => {
    const url = new URL(`${sandbox.url}/${bucket}/absent`);
    // Unsigned: S3 answers 403 AccessDenied, and for HEAD without a body.
    const { status, body } = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const req = httpRequest(
        url,
        {
          method: 'HEAD',
          headers: {
            authorization:
              'AWS4-HMAC-SHA256 Credential=x/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00',
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.ok(status >= 400);
    assert.equal(body.length, 0);
  });

  test('keys with odd characters round-trip and list', async () => {
    const oddKeys = [
      'with space.txt',
      'plus+sign',
      'ünïcødé/日本語',
      'emoji-😀',
      'a//double',
      'q?x=1&y#z',
      'quote\'"<>',
      '%41percent',
    ];
    for (const key of oddKeys) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal((await bytesOf(got.Body)).toString(), key, key);
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    for (const key of oddKeys)
      assert.ok(
        listed.Contents?.some((o) => o.Key === key),
        `listed ${key}`,
      );
    const encoded = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, EncodingType: 'url', Prefix: 'with ' }),
    );
    assert.equal(encoded.EncodingType, 'url');
    assert.equal(encoded.Contents?.[0]?.Key, 'with+space.txt');
  });

  test('CopyObject copies bytes and metadata', async () => {
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'copy-src', Body: 'copied', Metadata: { a: '1' } }),
    );
    const copy = await s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'copy dst', CopySource: `${bucket}/copy-src` }),
    );
    assert.equal(copy.CopyObjectResult?.ETag, `"${md5(Buffer.from('copied'))}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy dst' }));
    assert.equal((await bytesOf(got.Body)).toString(), 'copied');
    assert.deepEqual(got.Metadata, { a: '1' });
    await rejectsWith(
      s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-src', CopySource: `${bucket}/copy-src` })),
      'InvalidRequest',
      400,
    );
  });

  test('DeleteObjects', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'multi/1', Body: '1' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'multi/2 & <3>', Body: '2' }));
    const result = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: [{ Key: 'multi/1' }, { Key: 'multi/2 & <3>' }] },
      }),
    );
    assert.deepEqual(result.Deleted?.map((d) => d.Key).sort(), ['multi/1', 'multi/2 & <3>']);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'multi/' }));
    assert.equal(left.KeyCount, 0);
  });
});

describe('listing', () => {
  let bucket: string;
  const keys = [
    ...Array.from({ length: 25 }, (_, i) => `logs/2024/${String(i).padStart(3, '0')}.log`),
    'logs/readme',
    'top-a',
    'top-b',
    'x/y/z',
  ];
  before(async () => {
    bucket = await newBucket();
    await Promise.all(
      keys.map((key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }))),
    );
  });

  test('paginateListObjectsV2 visits every key once, in order', async () => {
    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 7 }, { Bucket: bucket })) {
      pages++;
      assert.ok((page.KeyCount ?? 0) <= 7);
      assert.equal(page.MaxKeys, 7);
      seen.push(...(page.Contents ?? []).map((o) => o.Key as string));
    }
    assert.deepEqual(seen, [...keys].sort());
    assert.equal(pages, Math.ceil(keys.length / 7));
  });

  test('delimiter and prefix produce CommonPrefixes', async () => {
    const top = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/' }));
    assert.deepEqual(
      top.CommonPrefixes?.map((p) => p.Prefix),
      ['logs/', 'x/'],
    );
    assert.deepEqual(
      top.Contents?.map((o) => o.Key),
      ['top-a', 'top-b'],
    );
    assert.equal(top.KeyCount, 4);
    const logs = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'logs/', Delimiter: '/' }));
    assert.deepEqual(
      logs.CommonPrefixes?.map((p) => p.Prefix),
      ['logs/2024/'],
    );
    assert.deepEqual(
      logs.Contents?.map((o) => o.Key),
      ['logs/readme'],
    );
  });

  test('start-after, max-keys and truncation', async () => {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, StartAfter: 'logs/readme', MaxKeys: 2 }),
    );
    assert.deepEqual(
      page.Contents?.map((o) => o.Key),
      ['top-a', 'top-b'],
    );
    assert.equal(page.IsTruncated, true);
    const rest = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: page.NextContinuationToken }),
    );
    assert.deepEqual(
      rest.Contents?.map((o) => o.Key),
      ['x/y/z'],
    );
    assert.equal(rest.IsTruncated, false);
    await rejectsWith(
      s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: 'bogus!' })),
      'InvalidArgument',
      400,
    );
  });

  test('ListObjects (v1) with marker', async () => {
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: bucket, Marker: 'top-a' }));
    assert.deepEqual(
      v1.Contents?.map((o) => o.Key),
      ['top-b', 'x/y/z'],
    );
    assert.equal(v1.IsTruncated, false);
  });

  test('listing a missing bucket is NoSuchBucket', async () => {
    await rejectsWith(
      s3.send(new ListObjectsV2Command({ Bucket: 'missing-bucket-xyz' })),
      'NoSuchBucket',
      404,
    );
  });
});

describe('multipart', () => {
  let bucket: string;
  before(async () => {
    bucket = await newBucket();
  });

  test('lib-storage Upload of 12 MiB in 5 MiB parts: ETag -3, bytes identical', async () => {
    const payload = randomBytes(12 * MiB);
    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: 'big/bundle.zip', Body: Readable.from([payload]) },
      partSize: 5 * MiB,
      queueSize: 3,
    });
    const result = await upload.done();
    const partMd5s = [0, 1, 2].map((i) =>
      createHash('md5')
        .update(payload.subarray(i * 5 * MiB, Math.min((i + 1) * 5 * MiB, payload.length)))
        .digest(),
    );
    const expected = `"${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex')}-3"`;
    assert.equal(result.ETag, expected);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big/bundle.zip' }));
    assert.equal(head.ContentLength, payload.length);
    assert.equal(head.ETag, expected);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big/bundle.zip' }));
    assert.deepEqual(await bytesOf(got.Body), payload);
  });

  test('low-level: list parts and uploads, EntityTooSmall, InvalidPart, InvalidPartOrder, NoSuchUpload, abort', async () => {
    const key = 'low level';
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'application/zip' }),
    );
    assert.ok(UploadId);
    const p1 = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        PartNumber: 1,
        Body: Buffer.alloc(1024, 1),
      }),
    );
    const p2 = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 2, Body: Buffer.alloc(10, 2) }),
    );
    assert.equal(p1.ETag, `"${md5(Buffer.alloc(1024, 1))}"`);

    const parts = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }));
    assert.deepEqual(
      parts.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]),
      [
        [1, 1024, p1.ETag],
        [2, 10, p2.ETag],
      ],
    );
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.ok(uploads.Uploads?.some((u) => u.UploadId === UploadId && u.Key === key));

    const complete = (Parts: Array<{ PartNumber: number; ETag: string | undefined }>) =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts },
        }),
      );
    const tooSmall = await rejectsWith(
      complete([
        { PartNumber: 1, ETag: p1.ETag },
        { PartNumber: 2, ETag: p2.ETag },
      ]),
      'EntityTooSmall',
      400,
    );
    assert.equal(tooSmall.message, 'Your proposed upload is smaller than the minimum allowed object size.');
    await rejectsWith(complete([{ PartNumber: 1, ETag: p2.ETag }]), 'InvalidPart', 400);
    await rejectsWith(
      complete([
        { PartNumber: 2, ETag: p2.ETag },
        { PartNumber: 1, ETag: p1.ETag },
      ]),
      'InvalidPartOrder',
      400,
    );

    // A lone small part is allowed (it is the last part).
    const done = await complete([{ PartNumber: 1, ETag: p1.ETag }]);
    const expected = `"${createHash('md5')
      .update(createHash('md5').update(Buffer.alloc(1024, 1)).digest())
      .digest('hex')}-1"`;
    assert.equal(done.ETag, expected);
    assert.equal(done.Location, `${sandbox.url}/${bucket}/low%20level`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(head.ContentType, 'application/zip');
    assert.equal(head.ContentLength, 1024);
    await rejectsWith(complete([{ PartNumber: 1, ETag: p1.ETag }]), 'NoSuchUpload', 404);

    const second = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const aborted = await s3.send(
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: second.UploadId }),
    );
    assert.equal(aborted.$metadata.httpStatusCode, 204);
    await rejectsWith(
      s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: second.UploadId,
          PartNumber: 1,
          Body: 'x',
        }),
      ),
      'NoSuchUpload',
      404,
    );
  });
});

describe('virtual-host addressing', () => {
  test('bucket.localhost resolves to the bucket', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'vh/key one', Body: 'vhost' }));
    const port = new URL(sandbox.url).port;
    // Connect to 127.0.0.1 but name the bucket in Host, as a virtual-host client would.
    const vhost = new S3Client({
      endpoint: `http://localhost:${port}`,
      region: 'us-east-1',
      credentials: ROOT_KEYS,
      maxAttempts: 1,
    });
    vhost.middlewareStack.add(
      (next) => async (args) => {
        const req = (args as { request: { hostname: string; headers: Record<string, string> } }).request;
        req.headers['host'] = `${req.hostname}:${port}`;
        req.hostname = '127.0.0.1';
        return next(args);
      },
      { step: 'build', priority: 'low', name: 'connectToLoopback' },
    );
    const got = await vhost.send(new GetObjectCommand({ Bucket: bucket, Key: 'vh/key one' }));
    assert.equal((await bytesOf(got.Body)).toString(), 'vhost');
    const listed = await vhost.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.deepEqual(
      listed.Contents?.map((o) => o.Key),
      ['vh/key one'],
    );
    vhost.destroy();
  });
});
