import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { multipartEtag, quotedMd5, unquoteEtag } from './etag';
import { planCompletion, type StoredPart } from './multipart';

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

test('multipart ETag is md5 of the binary part md5s plus the part count', () => {
  const parts = [Buffer.alloc(10, 1), Buffer.alloc(20, 2), Buffer.alloc(5, 3)];
  const expected = createHash('md5')
    .update(Buffer.concat(parts.map((part) => createHash('md5').update(part).digest())))
    .digest('hex');
  assert.equal(multipartEtag(parts.map(md5)), `"${expected}-3"`);
});

test('a value computed independently (Python hashlib): two parts of "a" * 5 MiB and "b"', () => {
  const a = Buffer.alloc(5 * 1024 * 1024, 'a');
  const b = Buffer.from('b');
  // Cross-checked with: python3 -c 'import hashlib;print(hashlib.md5(hashlib.md5(b"a"*5242880).digest()+hashlib.md5(b"b").digest()).hexdigest())'
  assert.equal(multipartEtag([md5(a), md5(b)]), '"e5a8c5272b26fc10581a21089559b006-2"');
});

test('quoting round trip', () => {
  assert.equal(quotedMd5('abc'), '"abc"');
  assert.equal(unquoteEtag('"abc"'), 'abc');
  assert.equal(unquoteEtag('abc'), 'abc');
});

function stored(...sizes: number[]): Map<number, StoredPart> {
  return new Map(
    sizes.map((size, i) => [
      i + 1,
      { partNumber: i + 1, size, md5: md5(Buffer.from(String(i))), lastModified: new Date() },
    ]),
  );
}
const etagOf = (i: number) => `"${md5(Buffer.from(String(i)))}"`;
const MiB = 1024 * 1024;

test('planCompletion: order, presence, ETag match and minimum part size', () => {
  const parts = stored(5 * MiB, 5 * MiB, 1);
  const plan = planCompletion(
    'u',
    parts,
    [1, 2, 3].map((n) => ({ partNumber: n, etag: etagOf(n - 1) })),
  );
  assert.equal(plan.size, 10 * MiB + 1);
  assert.match(plan.etag, /^"[0-9a-f]{32}-3"$/);
  assert.throws(
    () =>
      planCompletion('u', parts, [
        { partNumber: 2, etag: etagOf(1) },
        { partNumber: 1, etag: etagOf(0) },
      ]),
    { name: 'InvalidPartOrder' },
  );
  assert.throws(() => planCompletion('u', parts, [{ partNumber: 1, etag: '"00"' }]), { name: 'InvalidPart' });
  assert.throws(() => planCompletion('u', parts, [{ partNumber: 4, etag: etagOf(3) }]), {
    name: 'InvalidPart',
  });
  const small = stored(1, 5 * MiB);
  assert.throws(
    () =>
      planCompletion('u', small, [
        { partNumber: 1, etag: etagOf(0) },
        { partNumber: 2, etag: etagOf(1) },
      ]),
    { name: 'EntityTooSmall' },
  );
  // A single small part is fine: it is the last one. Unquoted ETags are accepted too.
  assert.equal(planCompletion('u', small, [{ partNumber: 1, etag: unquoteEtag(etagOf(0)) }]).size, 1);
});
