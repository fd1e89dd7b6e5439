// Upload against moto's S3 (an S3 nobody here wrote), started by the test on a free loopback port.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectAclCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
} from '@aws-sdk/client-s3';
import { buildClientConfig } from '../aws/client-config';
import { bundleS3Client } from './context';
import { BundleUploadError, RevisionNotFoundError } from './errors';
import { contentHashKey, describeS3Revision, sha256OfFile, uploadBundle } from './upload';

const hasMoto = spawnSync('python3', ['-c', 'import moto.server'], { encoding: 'utf8' }).status === 0;
let moto: ChildProcess | undefined;
let endpoint = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function s3() {
  return bundleS3Client(
    buildClientConfig('s3', {
      region: 'us-east-1',
      endpoints: { s3: endpoint },
      env: {},
      credentials: async () => ({ accessKeyId: 'AKIAMOTOTEST', secretAccessKey: 'moto-secret' }),
    }),
    true,
  );
}

before(async () => {
  if (!hasMoto) return;
  const port = await freePort();
  endpoint = `http://127.0.0.1:${port}`;
  moto = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await fetch(`${endpoint}/moto-api/`);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error('moto did not start');
});

const created: string[] = [];

after(() => {
  moto?.kill('SIGTERM');
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

function bundleFile(bytes: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyless-upload-'));
  created.push(dir);
  const path = join(dir, 'bundle.zip');
  writeFileSync(path, randomBytes(bytes));
  return path;
}

test('content-hash keys: prefix, safe application name, 16 hex digits, extension by type', () => {
  const sha = 'ab'.repeat(32);
  assert.equal(contentHashKey('deploy/', 'web app', sha, 'zip'), `deploy/web-app-${'ab'.repeat(8)}.zip`);
  assert.equal(contentHashKey(undefined, 'web', sha, 'tgz'), `web-${'ab'.repeat(8)}.tar.gz`);
});

test(
  'uploads under the content-hash key (multipart, ETag and version recorded) and skips the same content',
  { skip: !hasMoto && 'moto is not installed' },
  async () => {
    const client = s3();
    await client.send(new CreateBucketCommand({ Bucket: 'bundles' }));
    await client.send(
      new PutBucketVersioningCommand({ Bucket: 'bundles', VersioningConfiguration: { Status: 'Enabled' } }),
    );
    const path = bundleFile(20 * 1024 * 1024);
    const sha256 = await sha256OfFile(path);
    const notes: string[] = [];
    const file = { path, sha256, bytes: 20 * 1024 * 1024, bundleType: 'zip' as const };
    const first = await uploadBundle(client, file, {
      bucket: 'bundles',
      prefix: 'apps',
      application: 'web',
      note: (note) => notes.push(note),
    });
    assert.equal(first.uploaded, true);
    assert.equal(first.key, `apps/web-${sha256.slice(0, 16)}.zip`);
    assert.match(first.eTag ?? '', /^[0-9a-f]{32}-3$/, 'a 20 MiB bundle goes up in three 8 MiB parts');
    assert.ok(first.version, 'the version id of a versioned bucket is kept');

    const second = await uploadBundle(client, file, {
      bucket: 'bundles',
      prefix: 'apps',
      application: 'web',
      note: (note) => notes.push(note),
    });
    assert.equal(second.uploaded, false);
    assert.equal(second.eTag, first.eTag);
    assert.equal(second.version, first.version);
    assert.match(notes.at(-1)!, /already in s3:\/\/bundles\/apps\/web-.*not uploading it again/);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'bundles' }));
    assert.equal(listed.KeyCount, 1);
  },
);

test(
  'a given key is uploaded again when its content differs',
  { skip: !hasMoto && 'moto is not installed' },
  async () => {
    const client = s3();
    await client.send(new CreateBucketCommand({ Bucket: 'fixed-key' }));
    const upload = async (bytes: number) => {
      const path = bundleFile(bytes);
      return uploadBundle(
        client,
        { path, sha256: await sha256OfFile(path), bytes, bundleType: 'zip' },
        { bucket: 'fixed-key', key: 'app/latest.zip', application: 'web' },
      );
    };
    const first = await upload(1000);
    const second = await upload(1000);
    assert.equal(first.uploaded, true);
    assert.equal(second.uploaded, true);
    assert.notEqual(first.eTag, second.eTag);
  },
);

test(
  'a missing bucket and a missing revision are told apart, by name',
  { skip: !hasMoto && 'moto is not installed' },
  async () => {
    const client = s3();
    const path = bundleFile(100);
    await assert.rejects(
      uploadBundle(
        client,
        { path, sha256: await sha256OfFile(path), bytes: 100, bundleType: 'zip' },
        { bucket: 'no-such-bucket-here', application: 'web' },
      ),
      (error: unknown) => {
        assert.ok(error instanceof BundleUploadError);
        assert.match(error.message, /The bundle bucket no-such-bucket-here does not exist/);
        return true;
      },
    );
    await client.send(new CreateBucketCommand({ Bucket: 'revisions' }));
    await assert.rejects(describeS3Revision(client, 'revisions', 'web/1.0.zip', 'zip'), (error: unknown) => {
      assert.ok(error instanceof RevisionNotFoundError);
      assert.match(error.message, /s3:\/\/revisions\/web\/1\.0\.zip does not exist/);
      return true;
    });
  },
);

test(
  'a canned ACL is applied to the uploaded bundle (the toolkit filesAcl), and none by default',
  { skip: !hasMoto && 'moto is not installed' },
  async () => {
    const client = s3();
    await client.send(new CreateBucketCommand({ Bucket: 'acl-bundles' }));
    const upload = async (key: string, acl?: 'public-read') => {
      const path = bundleFile(500);
      return uploadBundle(
        client,
        { path, sha256: await sha256OfFile(path), bytes: 500, bundleType: 'zip' },
        { bucket: 'acl-bundles', key, application: 'web', ...(acl ? { acl } : {}) },
      );
    };
    const allUsers = 'http://acs.amazonaws.com/groups/global/AllUsers';
    const readers = async (key: string) =>
      ((await client.send(new GetObjectAclCommand({ Bucket: 'acl-bundles', Key: key }))).Grants ?? [])
        .filter((grant) => grant.Grantee?.URI === allUsers)
        .map((grant) => grant.Permission);
    await upload('public.zip', 'public-read');
    await upload('private.zip');
    assert.deepEqual(await readers('public.zip'), ['READ']);
    assert.deepEqual(await readers('private.zip'), []);
  },
);
