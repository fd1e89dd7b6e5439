/**
 * uploadFiles against the sandbox's S3 (real SigV4, real multipart, metadata stored and returned), checked
 * with the SDK's own HeadObject/GetObject.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  CreateBucketCommand,
} from '@aws-sdk/client-s3';
import { startSandbox, type RunningSandbox } from '@keyless/sandbox';
import {
  BucketError,
  buildClientConfig,
  FileUploadError,
  InvalidInputError,
  MemoryReporter,
  uploadFiles,
  UploadSourceError,
  type S3Context,
  type UploadFilesOptions,
} from '../src/index';

const root = {
  accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
  secretAccessKey: randomBytes(30).toString('base64url'),
};
let sandbox: RunningSandbox;
const folders: string[] = [];

before(async () => {
  sandbox = await startSandbox({
    port: 0,
    config: { account: { id: '123456789012', region: 'us-east-1' }, rootCredentials: [root] },
  });
});
after(async () => {
  await sandbox.close();
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

function context(
  region = 'us-east-1',
  reporter = new MemoryReporter(),
  s3?: S3Client,
): S3Context & { reporter: MemoryReporter } {
  return {
    credentials: { region, provider: async () => root, endpoints: { default: sandbox.url } },
    env: {},
    reporter,
    ...(s3 ? { clients: { s3 } } : {}),
  };
}

function client(region = 'us-east-1'): S3Client {
  return new S3Client({
    ...buildClientConfig('s3', {
      region,
      endpoints: { default: sandbox.url },
      env: {},
      credentials: async () => root,
    }),
    forcePathStyle: true,
  });
}

async function bucket(): Promise<string> {
  const name = `keyless-upload-${randomBytes(4).toString('hex')}`;
  await client().send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

async function tree(files: Record<string, string | Buffer>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keyless-upload-src-'));
  folders.push(dir);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

async function keys(name: string): Promise<string[]> {
  const listed = await client().send(new ListObjectsV2Command({ Bucket: name }));
  return (listed.Contents ?? []).map((object) => object.Key ?? '').sort();
}

const site = {
  'index.html': '<html>home</html>',
  'about/index.html': '<html>about</html>',
  'css/site.css': 'body{}',
  'js/app.js': 'console.log(1)',
  'js/app.js.map': '{}',
  'img/logo.svg': '<svg/>',
  'data/blob.bin': 'xx',
  'drafts/wip.html': '<html>wip</html>',
};

test('a site: globs, target folder, content types, first-matching cache rule, SSE, storage class, encoding', async () => {
  const name = await bucket();
  const source = await tree(site);
  const reporter = new MemoryReporter();
  const result = await uploadFiles(
    {
      bucket: name,
      sourceFolder: source,
      globs: ['**', '!**/*.map', '!drafts/**'],
      targetFolder: 'web/v1',
      cacheControl: ['**/*.html=no-cache', '**/*=max-age=31536000, immutable'],
      encryption: { type: 'AES256' },
      storageClass: 'STANDARD_IA',
      contentEncoding: 'identity',
      acl: 'private',
    },
    context('us-east-1', reporter),
  );
  assert.deepEqual(
    result.files.map((file) => file.key),
    [
      'web/v1/about/index.html',
      'web/v1/css/site.css',
      'web/v1/data/blob.bin',
      'web/v1/img/logo.svg',
      'web/v1/index.html',
      'web/v1/js/app.js',
    ],
  );
  assert.deepEqual(
    await keys(name),
    result.files.map((file) => file.key),
  );
  assert.equal(
    result.totalBytes,
    Object.entries(site)
      .filter(([path]) => !path.endsWith('.map') && !path.startsWith('drafts/'))
      .reduce((sum, [, text]) => sum + text.length, 0),
  );
  const expected: Record<string, [string, string]> = {
    'web/v1/index.html': ['text/html', 'no-cache'],
    'web/v1/css/site.css': ['text/css', 'max-age=31536000, immutable'],
    'web/v1/js/app.js': ['application/javascript', 'max-age=31536000, immutable'],
    'web/v1/img/logo.svg': ['image/svg+xml', 'max-age=31536000, immutable'],
    'web/v1/data/blob.bin': ['application/octet-stream', 'max-age=31536000, immutable'],
  };
  for (const [key, [contentType, cacheControl]] of Object.entries(expected)) {
    const head = await client().send(new HeadObjectCommand({ Bucket: name, Key: key }));
    assert.equal(head.ContentType, contentType, key);
    assert.equal(head.CacheControl, cacheControl, key);
    assert.equal(head.ServerSideEncryption, 'AES256', key);
    assert.equal(head.StorageClass, 'STANDARD_IA', key);
    assert.equal(head.ContentEncoding, 'identity', key);
    const uploaded = result.files.find((file) => file.key === key)!;
    assert.equal(`"${uploaded.eTag}"`, head.ETag, key);
  }
  assert.match(reporter.text(), /Uploading 6 file\(s\), .* to s3:\/\/keyless-upload-\w+\/web\/v1\//);
});

test('~50 files go up in parallel (bounded), multipart for a large file, empty files too', async () => {
  const name = await bucket();
  const files: Record<string, string | Buffer> = { 'empty.txt': '' };
  for (let index = 0; index < 48; index++)
    files[`batch/${String(index).padStart(2, '0')}.txt`] = `file ${index} `.repeat(2000);
  const large = randomBytes(12 * 1024 * 1024 + 123);
  files['large/archive.zip'] = large;
  const source = await tree(files);
  const s3 = client();
  let inFlight = 0;
  let maxInFlight = 0;
  s3.middlewareStack.add(
    (next) => async (args) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        return await next(args);
      } finally {
        inFlight--;
      }
    },
    { step: 'initialize', name: 'countInFlight' },
  );
  const progress: number[] = [];
  const result = await uploadFiles(
    {
      bucket: name,
      sourceFolder: source,
      concurrency: 8,
      partSize: 5 * 1024 * 1024,
      onProgress: (done) => progress.push(done),
    },
    context('us-east-1', new MemoryReporter(), s3),
  );
  assert.equal(result.files.length, 50);
  assert.equal((await keys(name)).length, 50);
  assert.ok(maxInFlight > 1, `uploads overlapped (max ${maxInFlight} at once)`);
  assert.ok(maxInFlight <= 8 * 2, `bounded by concurrency × parts in flight, saw ${maxInFlight}`);
  assert.deepEqual(
    progress,
    Array.from({ length: 50 }, (_, index) => index + 1),
  );
  const archive = result.files.find((file) => file.key === 'large/archive.zip')!;
  assert.match(archive.eTag ?? '', /-3$/, 'a 12 MiB file in 5 MiB parts is a 3-part multipart upload');
  const body = await (
    await client().send(new GetObjectCommand({ Bucket: name, Key: 'large/archive.zip' }))
  ).Body!.transformToByteArray();
  assert.equal(
    createHash('sha256').update(body).digest('hex'),
    createHash('sha256').update(large).digest('hex'),
  );
  const empty = await client().send(new HeadObjectCommand({ Bucket: name, Key: 'empty.txt' }));
  assert.equal(empty.ContentLength, 0);
});

test('flattenFolders puts every file under the target folder by name; a name clash fails before uploading', async () => {
  const name = await bucket();
  const source = await tree({ 'a/one.txt': '1', 'b/c/two.txt': '2' });
  const result = await uploadFiles(
    { bucket: name, sourceFolder: source, flattenFolders: true, targetFolder: 'flat' },
    context(),
  );
  assert.deepEqual(
    result.files.map((file) => file.key),
    ['flat/one.txt', 'flat/two.txt'],
  );
  const clashing = await tree({ 'a/same.txt': '1', 'b/same.txt': '2' });
  const empty = await bucket();
  await assert.rejects(
    uploadFiles({ bucket: empty, sourceFolder: clashing, flattenFolders: true }, context()),
    (error: unknown) =>
      error instanceof UploadSourceError &&
      /a\/same\.txt and b\/same\.txt would both be uploaded to the key same\.txt/.test(error.message),
  );
  assert.deepEqual(await keys(empty), []);
});

test('a missing bucket fails clearly; createBucket creates it in the region (a constraint outside us-east-1)', async () => {
  const source = await tree({ 'a.txt': 'a' });
  const missing = `keyless-missing-${randomBytes(4).toString('hex')}`;
  await assert.rejects(
    uploadFiles({ bucket: missing, sourceFolder: source }, context()),
    (error: unknown) =>
      error instanceof BucketError &&
      /does not exist/.test(error.message) &&
      /createBucket/.test(error.fix ?? ''),
  );
  const reporter = new MemoryReporter();
  const created = await uploadFiles(
    { bucket: missing, sourceFolder: source, createBucket: true },
    context('eu-west-1', reporter),
  );
  assert.equal(created.bucketCreated, true);
  assert.match(reporter.text(), new RegExp(`Created the bucket ${missing} in eu-west-1`));
  const head = await client('eu-west-1').send(new HeadBucketCommand({ Bucket: missing }));
  assert.equal(head.BucketRegion, 'eu-west-1');
  const again = await uploadFiles(
    { bucket: missing, sourceFolder: source, createBucket: true },
    context('eu-west-1'),
  );
  assert.equal(again.bucketCreated, false, 're-running finds the bucket and does not create it again');
});

test('SSE-C: the customer key is registered as a secret and S3 keeps its MD5; a malformed key is an input error', async () => {
  const name = await bucket();
  const source = await tree({ 'secret.txt': 'classified' });
  const key = randomBytes(32);
  const reporter = new MemoryReporter();
  await uploadFiles(
    { bucket: name, sourceFolder: source, encryption: { type: 'SSE-C', customerKey: key.toString('hex') } },
    context('us-east-1', reporter),
  );
  assert.ok(reporter.secrets.has(key.toString('hex')));
  assert.ok(reporter.secrets.has(key.toString('base64')));
  const head = await client().send(
    new HeadObjectCommand({
      Bucket: name,
      Key: 'secret.txt',
      SSECustomerAlgorithm: 'AES256',
      SSECustomerKey: key.toString('base64'),
    }),
  );
  assert.equal(head.SSECustomerAlgorithm, 'AES256');
  assert.equal(head.SSECustomerKeyMD5, createHash('md5').update(key).digest('base64'));
  await assert.rejects(
    uploadFiles(
      { bucket: name, sourceFolder: source, encryption: { type: 'SSE-C', customerKey: 'abc123' } },
      context(),
    ),
    (error: unknown) => error instanceof InvalidInputError && /64 hexadecimal digits/.test(error.message),
  );
});

test('SSE-KMS with a key id is stored with the object', async () => {
  const name = await bucket();
  const source = await tree({ 'a.txt': 'a' });
  const kmsKeyId = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  await uploadFiles(
    { bucket: name, sourceFolder: source, encryption: { type: 'aws:kms', kmsKeyId } },
    context(),
  );
  const head = await client().send(new HeadObjectCommand({ Bucket: name, Key: 'a.txt' }));
  assert.equal(head.ServerSideEncryption, 'aws:kms');
  assert.equal(head.SSEKMSKeyId, kmsKeyId);
});

test('ACLs: sent with every object; a bucket with ACLs disabled drops an implied ACL but refuses public-read', async () => {
  const name = await bucket();
  const source = await tree({ 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c' });
  const sent: Array<string | undefined> = [];
  const normal = client();
  normal.middlewareStack.add(
    (next) => async (args) => {
      sent.push((args.input as { ACL?: string }).ACL);
      return next(args);
    },
    { step: 'initialize', name: 'recordAcl' },
  );
  await uploadFiles(
    { bucket: name, sourceFolder: source, acl: 'public-read' },
    context('us-east-1', new MemoryReporter(), normal),
  );
  assert.deepEqual(sent.filter(Boolean), ['public-read', 'public-read', 'public-read']);

  // S3's answer for a bucket whose Object Ownership is "bucket owner enforced" (the default since 2023).
  const enforced = client();
  const attempts: Array<string | undefined> = [];
  enforced.middlewareStack.add(
    (next) => async (args) => {
      const acl = (args.input as { ACL?: string; Key?: string }).ACL;
      if ((args.input as { Key?: string }).Key) attempts.push(acl);
      if (acl) {
        throw Object.assign(new Error('The bucket does not allow ACLs'), {
          name: 'AccessControlListNotSupported',
          $metadata: { httpStatusCode: 400 },
        });
      }
      return next(args);
    },
    { step: 'initialize', name: 'ownershipEnforced' },
  );
  const reporter = new MemoryReporter();
  const result = await uploadFiles(
    { bucket: name, sourceFolder: source, acl: 'private', concurrency: 1 },
    context('us-east-1', reporter, enforced),
  );
  assert.equal(result.files.length, 3);
  assert.deepEqual(
    attempts,
    ['private', undefined, undefined, undefined],
    'one refusal, then no ACL is sent',
  );
  assert.equal(
    reporter.lines.filter((line) => line.level === 'warn' && /ACLs disabled/.test(line.message)).length,
    1,
  );
  await assert.rejects(
    uploadFiles(
      { bucket: name, sourceFolder: source, acl: 'public-read' },
      context('us-east-1', new MemoryReporter(), enforced),
    ),
    (error: unknown) =>
      error instanceof FileUploadError &&
      /ACLs disabled .* public-read cannot be applied/.test(error.message),
  );
});

test('a symlink loop in the source folder fails before anything is uploaded', async () => {
  const name = await bucket();
  const source = await tree({ 'docs/a.txt': 'a' });
  await symlink('..', join(source, 'docs', 'loop'));
  await assert.rejects(
    uploadFiles({ bucket: name, sourceFolder: source }, context()),
    (error: unknown) =>
      error instanceof UploadSourceError &&
      /docs\/loop .* points at a folder that contains it/.test(error.message),
  );
  assert.deepEqual(await keys(name), []);
});

test('no matching files is a warning, not an error', async () => {
  const name = await bucket();
  const source = await tree({ 'a.txt': 'a' });
  const reporter = new MemoryReporter();
  const options: UploadFilesOptions = { bucket: name, sourceFolder: source, globs: ['**/*.html'] };
  const result = await uploadFiles(options, context('us-east-1', reporter));
  assert.equal(result.files.length, 0);
  assert.match(reporter.text(), /warn: No files in .* match \*\*\/\*\.html/);
});
