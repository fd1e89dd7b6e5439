// `keyless s3 upload`: the S3Upload task's options as flags, against the sandbox, as a real process.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  cleanEnv,
  leakedSecrets,
  managedIdentityArgs,
  runCli,
  startTestSandbox,
  type TestSandbox,
} from './support';

let t: TestSandbox;
const outputs: string[] = [];
const source = mkdtempSync(join(tmpdir(), 'keyless-cli-s3-'));

before(async () => {
  t = await startTestSandbox();
  mkdirSync(join(source, 'site', 'css'), { recursive: true });
  writeFileSync(join(source, 'site', 'index.html'), '<html></html>');
  writeFileSync(join(source, 'site', 'css', 'main.css'), 'body{}');
  writeFileSync(join(source, 'notes.md'), '# not uploaded');
});
after(async () => {
  await t.sandbox.close();
  rmSync(source, { recursive: true, force: true });
});

test('uploads the selected files, prints one s3:// URI per object, and sets the metadata', async () => {
  const bucket = `keyless-cli-${randomBytes(4).toString('hex')}`;
  const result = await runCli(
    [
      's3',
      'upload',
      '--bucket',
      bucket,
      '--source',
      join(source, 'site'),
      '--glob',
      '**/*.html',
      '**/*.css',
      '--target-folder',
      'v2',
      '--cache-control',
      '**/*.html=no-cache',
      '--sse',
      'AES256',
      '--create-bucket',
      ...managedIdentityArgs(t),
    ],
    { env: cleanEnv() },
  );
  outputs.push(result.stdout, result.stderr);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout.trim().split('\n'), [
    `s3://${bucket}/v2/css/main.css`,
    `s3://${bucket}/v2/index.html`,
  ]);
  assert.match(result.stderr, /Uploaded 2 file\(s\) to s3:\/\/keyless-cli-\w+ in/);
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: t.url,
    forcePathStyle: true,
    credentials: t.root,
  });
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'v2/index.html' }));
  assert.equal(head.ContentType, 'text/html');
  assert.equal(head.CacheControl, 'no-cache');
  assert.equal(head.ServerSideEncryption, 'AES256');
});

test('usage errors name the flag (exit 2); SSE-C takes its key from the environment only', async () => {
  const missing = await runCli(['s3', 'upload', '--source', source, ...managedIdentityArgs(t)]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--bucket is required/);
  const acl = await runCli(['s3', 'upload', '--bucket', 'b', '--acl', 'open', ...managedIdentityArgs(t)]);
  assert.equal(acl.code, 2);
  assert.match(acl.stderr, /--acl must be one of private, public-read/);
  const ssec = await runCli(['s3', 'upload', '--bucket', 'b', '--sse', 'SSE-C', ...managedIdentityArgs(t)]);
  assert.equal(ssec.code, 2);
  assert.match(ssec.stderr, /KEYLESS_SSE_CUSTOMER_KEY, which is not set/);
  const unknown = await runCli(['s3', 'sync']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown subcommand "sync"; use upload/);
  outputs.push(missing.stderr, acl.stderr, ssec.stderr, unknown.stderr);
});

test('no secret appears in the output of any s3 run', () => {
  assert.deepEqual(leakedSecrets([...outputs, ...t.logs], t.secrets), []);
});
