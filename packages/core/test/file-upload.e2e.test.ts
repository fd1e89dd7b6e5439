/**
 * uploadFileToS3 (the uploader behind uploadBundle and uploadFiles) against the sandbox's S3: parts read into
 * reused buffers arrive intact and in order, with and without the SDK's part checksums; a failed or cancelled
 * multipart upload is aborted, leaving no object and no parts behind.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { startSandbox, type RunningSandbox } from '@keyless/sandbox';
import { FileChangedDuringUploadError, uploadFileToS3 } from '../src/s3/file-upload';

const root = {
  accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
  secretAccessKey: randomBytes(30).toString('base64url'),
};
const bucket = 'file-upload-tests';
const MiB = 1024 * 1024;
let sandbox: RunningSandbox;
let dir: string;

function client(checksums: 'WHEN_REQUIRED' | 'WHEN_SUPPORTED'): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: sandbox.url,
    credentials: root,
    forcePathStyle: true,
    requestChecksumCalculation: checksums,
  });
}

async function file(name: string, bytes: number): Promise<{ path: string; content: Buffer }> {
  const path = join(dir, name);
  const content = randomBytes(bytes);
  await writeFile(path, content);
  return { path, content };
}

async function stored(s3: S3Client, key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

async function openUploads(s3: S3Client): Promise<number> {
  return (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.length ?? 0;
}

before(async () => {
  sandbox = await startSandbox({ port: 0, config: { rootCredentials: [root] } });
  dir = await mkdtemp(join(tmpdir(), 'keyless-file-upload-'));
  const s3 = client('WHEN_REQUIRED');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  s3.destroy();
});
after(async () => {
  await sandbox.close();
  await rm(dir, { recursive: true, force: true });
});

for (const checksums of ['WHEN_REQUIRED', 'WHEN_SUPPORTED'] as const) {
  test(`multipart (${checksums}): 5 parts through 2 reused buffers arrive intact, in order, with metadata`, async () => {
    const s3 = client(checksums);
    // 21 MiB in 5 MiB parts: four full parts and a 1 MiB tail, so a buffer is reused with a shorter slice.
    const { path, content } = await file(`multipart-${checksums}.zip`, 21 * MiB);
    const key = `multipart/${checksums}.zip`;
    const result = await uploadFileToS3(s3, {
      path,
      bytes: content.length,
      params: { Bucket: bucket, Key: key, ContentType: 'application/zip', Metadata: { note: 'five-parts' } },
      partSize: 5 * MiB,
      queueSize: 2,
    });
    assert.match(result.ETag ?? '', /-5"?$/, 'a five-part multipart ETag');
    assert.ok((await stored(s3, key)).equals(content), 'the bytes stored are the file, in order');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(head.ContentType, 'application/zip');
    assert.equal(head.Metadata?.note, 'five-parts');
    s3.destroy();
  });
}

test('a file no larger than a part is one PutObject (an empty file too)', async () => {
  const s3 = client('WHEN_REQUIRED');
  for (const bytes of [0, 3 * MiB]) {
    const { path, content } = await file(`single-${bytes}.bin`, bytes);
    const result = await uploadFileToS3(s3, {
      path,
      bytes,
      params: { Bucket: bucket, Key: `single/${bytes}` },
      partSize: 5 * MiB,
      queueSize: 4,
    });
    assert.match(result.ETag ?? '', /^"?[0-9a-f]{32}"?$/, 'a plain (single PUT) ETag');
    assert.ok((await stored(s3, `single/${bytes}`)).equals(content));
  }
  s3.destroy();
});

test('a file that shrank under the upload fails by name and leaves no object and no parts', async () => {
  const s3 = client('WHEN_REQUIRED');
  const { path } = await file('shrunk.bin', 12 * MiB);
  const before = await openUploads(s3);
  await assert.rejects(
    uploadFileToS3(s3, {
      path,
      // As if the file had been 16 MiB when its size was taken: the last part cannot be read.
      bytes: 16 * MiB,
      params: { Bucket: bucket, Key: 'shrunk.bin' },
      partSize: 5 * MiB,
      queueSize: 2,
    }),
    (error: unknown) =>
      error instanceof FileChangedDuringUploadError && error.message.includes('shrunk.bin became shorter'),
  );
  assert.equal(await openUploads(s3), before, 'the multipart upload was aborted');
  await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'shrunk.bin' })));
  s3.destroy();
});

test('an upload cancelled after its first part stops there and aborts its multipart upload', async () => {
  const s3 = client('WHEN_REQUIRED');
  const { path, content } = await file('cancelled.bin', 30 * MiB);
  const before = await openUploads(s3);
  const stop = new AbortController();
  const sentParts: number[] = [];
  // Cancel as the first part's answer arrives: the upload exists and holds a part.
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const output = await next(args);
      if (context.commandName === 'UploadPartCommand') {
        sentParts.push((args.input as { PartNumber: number }).PartNumber);
        stop.abort();
      }
      return output;
    },
    { step: 'initialize', name: 'cancelAfterFirstPart' },
  );
  await assert.rejects(
    uploadFileToS3(s3, {
      path,
      bytes: content.length,
      params: { Bucket: bucket, Key: 'cancelled.bin' },
      partSize: 5 * MiB,
      queueSize: 1,
      signal: stop.signal,
    }),
  );
  assert.deepEqual(sentParts, [1], 'no part is sent after the cancel');
  assert.equal(await openUploads(s3), before, 'the multipart upload was aborted');
  await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cancelled.bin' })));
  s3.destroy();
});
