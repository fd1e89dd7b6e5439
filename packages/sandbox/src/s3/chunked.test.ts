import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { AwsChunkedDecoder, ChunkedEncodingError, decodeAwsChunked } from './chunked';

function frame(chunks: Buffer[], options: { signature?: boolean; trailer?: string } = {}): Buffer {
  const sig = options.signature ? `;chunk-signature=${'a'.repeat(64)}` : '';
  const parts: Buffer[] = [];
  for (const chunk of chunks) {
    parts.push(Buffer.from(`${chunk.length.toString(16)}${sig}\r\n`), chunk, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`0${sig}\r\n`));
  if (options.trailer) parts.push(Buffer.from(`${options.trailer}\r\n`));
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

test('decodes SDK v3 unsigned framing with a checksum trailer', () => {
  const body = frame([Buffer.from('hello '), Buffer.from('world')], {
    trailer: 'x-amz-checksum-crc32:DUoRhQ==',
  });
  const { data, trailers } = decodeAwsChunked(body);
  assert.equal(data.toString(), 'hello world');
  assert.equal(trailers.get('x-amz-checksum-crc32'), 'DUoRhQ==');
});

test('decodes CLI signed framing (chunk-signature extensions)', () => {
  const payload = Buffer.alloc(70_000, 7);
  const { data } = decodeAwsChunked(
    frame([payload.subarray(0, 65_536), payload.subarray(65_536)], { signature: true }),
  );
  assert.deepEqual(data, payload);
});

test('chunk boundaries split at every possible byte offset still decode identically', async () => {
  const payload = Buffer.from('0123456789abcdefghij'.repeat(3));
  const body = frame([payload.subarray(0, 17), payload.subarray(17)], {
    signature: true,
    trailer: 'x-amz-checksum-crc32:AAAAAA==',
  });
  for (let cut = 1; cut < body.length; cut++) {
    const decoder = new AwsChunkedDecoder();
    const out: Buffer[] = [];
    decoder.on('data', (part: Buffer) => out.push(part));
    const done = new Promise((resolve, reject) => decoder.on('end', resolve).on('error', reject));
    Readable.from([body.subarray(0, cut), body.subarray(cut)]).pipe(decoder);
    await done;
    assert.deepEqual(Buffer.concat(out), payload, `cut at ${cut}`);
    assert.equal(decoder.parser.decodedLength, payload.length);
  }
});

test('one byte at a time', async () => {
  const payload = Buffer.from('streamed one byte per read');
  const body = frame([payload]);
  const decoder = new AwsChunkedDecoder();
  const out: Buffer[] = [];
  decoder.on('data', (part: Buffer) => out.push(part));
  const done = new Promise((resolve, reject) => decoder.on('end', resolve).on('error', reject));
  Readable.from([...body].map((byte) => Buffer.from([byte]))).pipe(decoder);
  await done;
  assert.deepEqual(Buffer.concat(out), payload);
});

test('rejects broken framing', () => {
  assert.throws(() => decodeAwsChunked(Buffer.from('zz\r\nabc\r\n0\r\n\r\n')), ChunkedEncodingError);
  assert.throws(() => decodeAwsChunked(Buffer.from('3\r\nabcX\r\n0\r\n\r\n')), ChunkedEncodingError);
  // Truncated inside the data.
  assert.throws(() => decodeAwsChunked(Buffer.from('10\r\nabc')), ChunkedEncodingError);
  // Missing final chunk.
  assert.throws(() => decodeAwsChunked(Buffer.from('3\r\nabc\r\n')), ChunkedEncodingError);
});

test('accepts a body that ends right after the trailer lines', () => {
  const { data } = decodeAwsChunked(Buffer.from('3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n'));
  assert.equal(data.toString(), 'abc');
});
