import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Clock } from '../clock';
import { DiskS3Store } from './disk-store';

async function withStore(run: (root: string, store: DiskS3Store) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'keyless-s3-store-'));
  try {
    await run(root, await DiskS3Store.open(root, new Clock()));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('objects, buckets and open uploads survive reopening the store', async () => {
  await withStore(async (root, store) => {
    await store.createBucket('persist', 'eu-west-1');
    await store.putObject('persist', 'a/b c', Buffer.from('kept'), {
      contentType: 'text/plain',
      metadata: { m: '1' },
    });
    const upload = await store.createMultipartUpload('persist', 'big', {});
    await store.uploadPart('persist', 'big', upload.uploadId, 1, Readable.from([Buffer.from('part')]));

    const reopened = await DiskS3Store.open(root, new Clock());
    assert.equal(reopened.bucketRegion('persist'), 'eu-west-1');
    const read = await reopened.readObject('persist', 'a/b c');
    assert.equal(read?.body.toString(), 'kept');
    assert.equal(read?.info.contentType, 'text/plain');
    assert.deepEqual(read?.info.metadata, { m: '1' });
    assert.equal(reopened.requireUpload('persist', 'big', upload.uploadId).parts.get(1)?.size, 4);
  });
});

test('a rejected body leaves no object and no stray files', async () => {
  await withStore(async (root, store) => {
    await store.createBucket('verify', 'us-east-1');
    await assert.rejects(
      store.putObjectStream(
        'verify',
        'k',
        Readable.from([Buffer.from('abc')]),
        {},
        {
          verify: () => {
            throw new Error('vetoed');
          },
        },
      ),
      /vetoed/,
    );
    assert.equal(await store.headObject('verify', 'k'), undefined);
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
    assert.deepEqual(await readdir(join(root, 'buckets', 'verify', 'objects')), []);
  });
});

test('racing writes of one key leave exactly one consistent winner', async () => {
  await withStore(async (root, store) => {
    await store.createBucket('race', 'us-east-1');
    const bodies = Array.from({ length: 20 }, (_, i) => Buffer.alloc(1000 + i, i));
    await Promise.all(bodies.map((body) => store.putObject('race', 'same', body)));
    const read = await store.readObject('race', 'same');
    assert.ok(read);
    assert.equal(read.body.length, read.info.size);
    assert.ok(read.body.equals(bodies[read.info.size - 1000] as Buffer));
    // One metadata file and one data file remain.
    assert.equal((await readdir(join(root, 'buckets', 'race', 'objects'))).length, 2);
    const reopened = await DiskS3Store.open(root, new Clock());
    assert.equal((await reopened.headObject('race', 'same'))?.etag, read.info.etag);
  });
});

test('an open read keeps its version while the key is overwritten and deleted', async () => {
  await withStore(async (_root, store) => {
    await store.createBucket('reads', 'us-east-1');
    await store.putObject('reads', 'k', Buffer.from('first'));
    const { handle } = await store.openObject('reads', 'k');
    await store.putObject('reads', 'k', Buffer.from('second'));
    await store.deleteObject('reads', 'k');
    assert.equal((await handle.readFile()).toString(), 'first');
    await handle.close();
  });
});
