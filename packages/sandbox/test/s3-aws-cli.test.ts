import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type RunningSandbox } from '../src/index';
import { ROOT_KEYS } from './support';

// The real AWS CLI (v1, botocore) against the sandbox's S3: a client nobody here wrote.
const hasAws = spawnSync('sh', ['-c', 'command -v aws']).status === 0;
const skip = hasAws ? false : 'the AWS CLI (`aws`) is not installed; install it to run these tests';

let sandbox: RunningSandbox;
let workDir: string;

before(async () => {
  if (!hasAws) return;
  sandbox = await startSandbox({ port: 0, config: { rootCredentials: [ROOT_KEYS] } });
  workDir = await mkdtemp(join(tmpdir(), 'keyless-s3-cli-'));
});

after(async () => {
  if (!hasAws) return;
  await sandbox.close();
  await rm(workDir, { recursive: true, force: true });
});

function aws(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'aws',
      ['--endpoint-url', sandbox.url, ...args],
      {
        env: {
          PATH: process.env['PATH'],
          HOME: workDir,
          AWS_CONFIG_FILE: '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          AWS_ACCESS_KEY_ID: ROOT_KEYS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: ROOT_KEYS.secretAccessKey,
          AWS_DEFAULT_REGION: 'us-east-1',
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_MAX_ATTEMPTS: '1',
        },
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function ok(...args: string[]): Promise<string> {
  const result = await aws(...args);
  assert.equal(result.code, 0, `aws ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

test('aws s3 mb / cp (multipart) up and down / ls / rm / head-object', { skip }, async () => {
  const bucket = `cli-bucket-${process.pid}`;
  assert.match(await ok('s3', 'mb', `s3://${bucket}`), new RegExp(`make_bucket: ${bucket}`));

  // ~20 MB: above the CLI's 8 MB multipart threshold, so this is CreateMultipartUpload + 3 parts + Complete.
  const payload = Buffer.concat([randomBytes(10 * 1024 * 1024), Buffer.alloc(10 * 1024 * 1024 + 12345, 'k')]);
  const source = join(workDir, 'bundle with space.zip');
  await writeFile(source, payload);
  await ok('s3', 'cp', source, `s3://${bucket}/releases/v1/bundle with space.zip`);
  await ok('s3', 'cp', join(workDir, 'bundle with space.zip'), `s3://${bucket}/releases/small+plus.txt`);

  const head = JSON.parse(
    await ok('s3api', 'head-object', '--bucket', bucket, '--key', 'releases/v1/bundle with space.zip'),
  ) as { ContentLength: number; ETag: string };
  assert.equal(head.ContentLength, payload.length);
  assert.match(head.ETag, /^"[0-9a-f]{32}-3"$/);
  const partMd5s = [0, 1, 2].map((i) =>
    createHash('md5')
      .update(payload.subarray(i * 8 * 1024 * 1024, (i + 1) * 8 * 1024 * 1024))
      .digest(),
  );
  assert.equal(head.ETag, `"${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex')}-3"`);

  const target = join(workDir, 'downloaded.zip');
  await ok('s3', 'cp', `s3://${bucket}/releases/v1/bundle with space.zip`, target);
  const downloaded = await readFile(target);
  assert.equal(downloaded.length, payload.length);
  assert.ok(downloaded.equals(payload), 'downloaded bytes are identical');

  const top = await ok('s3', 'ls', `s3://${bucket}/releases/`);
  assert.match(top, /PRE v1\//);
  assert.match(top, /small\+plus\.txt/);
  const recursive = await ok('s3', 'ls', '--recursive', `s3://${bucket}`);
  assert.match(recursive, /releases\/v1\/bundle with space\.zip/);
  assert.match(await ok('s3', 'ls'), new RegExp(bucket));

  assert.match(await ok('s3', 'rm', `s3://${bucket}/releases/small+plus.txt`), /delete: s3:\/\//);
  const missing = await aws('s3api', 'head-object', '--bucket', bucket, '--key', 'releases/small+plus.txt');
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /\(404\)|Not Found/);

  const notEmpty = await aws('s3', 'rb', `s3://${bucket}`);
  assert.notEqual(notEmpty.code, 0);
  assert.match(notEmpty.stderr, /BucketNotEmpty/);
  await ok('s3', 'rm', '--recursive', `s3://${bucket}`);
  await ok('s3', 'rb', `s3://${bucket}`);
  const gone = await aws('s3', 'ls', `s3://${bucket}`);
  assert.match(gone.stderr, /NoSuchBucket/);
});

test('aws s3api errors come back with S3 codes', { skip }, async () => {
  const result = await aws(
    's3api',
    'get-object',
    '--bucket',
    'no-such-bucket-cli',
    '--key',
    'k',
    join(workDir, 'out'),
  );
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /NoSuchBucket/);
  assert.match(result.stderr, /The specified bucket does not exist/);
});
