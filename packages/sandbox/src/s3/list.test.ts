import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareKeys } from './key-order';
import { decodeContinuationToken, encodeContinuationToken, listPage, urlEncodeKey } from './list';
import { parseS3Address, virtualHostBucket } from './addressing';

const keys = ['a/1', 'a/2', 'a/b/3', 'b', 'c/1', 'c/2', 'd'].sort(compareKeys);

function walk(query: { prefix?: string; delimiter?: string; maxKeys: number }) {
  const seen: string[] = [];
  let after: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = listPage(keys, {
      prefix: query.prefix ?? '',
      delimiter: query.delimiter,
      maxKeys: query.maxKeys,
      after,
    });
    seen.push(...page.keys, ...page.commonPrefixes.map((p) => `[${p}]`));
    if (!page.isTruncated) return { seen, pages: pages + 1 };
    after = decodeContinuationToken(encodeContinuationToken(page.lastEntry as string));
  }
  throw new Error('did not terminate');
}

test('paging through every key, any page size, returns each exactly once in order', () => {
  for (let size = 1; size <= 8; size++)
    assert.deepEqual(walk({ maxKeys: size }).seen, keys, `page size ${size}`);
  assert.equal(walk({ maxKeys: 2 }).pages, 4);
});

test('delimiter rolls keys into common prefixes that count once and never repeat across pages', () => {
  const expected = ['[a/]', 'b', '[c/]', 'd'];
  for (let size = 1; size <= 5; size++) {
    const { seen } = walk({ delimiter: '/', maxKeys: size });
    assert.deepEqual([...seen].sort(), [...expected].sort(), `page size ${size}`);
  }
  assert.deepEqual(walk({ prefix: 'a/', delimiter: '/', maxKeys: 1000 }).seen, ['a/1', 'a/2', '[a/b/]']);
});

test('truncation is reported only when more entries remain', () => {
  const exact = listPage(keys, { prefix: '', delimiter: undefined, maxKeys: keys.length, after: undefined });
  assert.equal(exact.isTruncated, false);
  const zero = listPage(keys, { prefix: '', delimiter: undefined, maxKeys: 0, after: undefined });
  assert.deepEqual(zero.keys, []);
  assert.equal(zero.isTruncated, false);
});

test('start-after and prefix', () => {
  assert.deepEqual(listPage(keys, { prefix: 'c/', delimiter: undefined, maxKeys: 10, after: 'c/1' }).keys, [
    'c/2',
  ]);
  assert.deepEqual(listPage(keys, { prefix: 'c/', delimiter: undefined, maxKeys: 10, after: 'a' }).keys, [
    'c/1',
    'c/2',
  ]);
  assert.deepEqual(
    listPage(keys, { prefix: 'zz', delimiter: undefined, maxKeys: 10, after: undefined }).keys,
    [],
  );
});

test('keys sort by UTF-8 bytes, as S3 lists them', () => {
  // U+FF61 is 0xEF 0xBD 0xA1 in UTF-8; U+1F600 is 0xF0 …: UTF-16 order would put the emoji first.
  assert.deepEqual(['\u{1F600}', '\uFF61'].sort(compareKeys), ['\uFF61', '\u{1F600}']);
});

test('continuation tokens are opaque and validated', () => {
  assert.equal(decodeContinuationToken(encodeContinuationToken('a b/ü')), 'a b/ü');
  assert.equal(decodeContinuationToken('not a token!'), undefined);
  assert.equal(decodeContinuationToken(Buffer.from('other').toString('base64')), undefined);
});

test('encoding-type=url encodes like a form (space as +, + as %2B, / kept, UTF-8 bytes)', () => {
  assert.equal(urlEncodeKey('a b+c/ü&=.txt'), 'a+b%2Bc/%C3%BC%26%3D.txt');
  assert.equal(decodeURIComponent(urlEncodeKey('x y').replace(/\+/g, ' ')), 'x y');
});

test('addressing: path style, virtual host and odd keys', () => {
  const path = parseS3Address(
    '/bucket/dir/a%20b%2Bc/%C3%BC?list-type=2&prefix=a%2Bb',
    { host: '127.0.0.1:4566' },
    '127.0.0.1:4566',
  );
  assert.equal(path.bucket, 'bucket');
  assert.equal(path.key, 'dir/a b+c/ü');
  assert.equal(path.query.get('prefix'), 'a+b');
  assert.equal(parseS3Address('/bucket/', { host: 'localhost:1' }, undefined).key, undefined);
  assert.equal(parseS3Address('/bucket//lead', { host: 'localhost:1' }, undefined).key, '/lead');
  const vhost = parseS3Address('/k%2Fx', { host: 'my.bucket.localhost:4566' }, '127.0.0.1:4566');
  assert.deepEqual([vhost.bucket, vhost.key, vhost.style], ['my.bucket', 'k/x', 'virtual-host']);
  assert.equal(virtualHostBucket('b1.127.0.0.1:9', '127.0.0.1:9'), 'b1');
  assert.equal(virtualHostBucket('b2.s3.us-east-1.amazonaws.com', undefined), 'b2');
  assert.equal(virtualHostBucket('127.0.0.1:9', '127.0.0.1:9'), undefined);
  assert.equal(virtualHostBucket('localhost:9', undefined), undefined);
});
