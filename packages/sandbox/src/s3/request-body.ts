import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { authError } from '../aws/errors';
import type { BodyWriteOptions } from './disk-store';
import { AwsChunkedDecoder } from './chunked';
import { MAX_PUT_SIZE, s3Errors } from './errors';

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Whether the body is aws-chunked framed: declared by Content-Encoding or implied by a STREAMING-* hash. */
export function isAwsChunked(headers: IncomingHttpHeaders): boolean {
  const encoding = header(headers, 'content-encoding') ?? '';
  if (encoding.split(',').some((part) => part.trim().toLowerCase() === 'aws-chunked')) return true;
  return (header(headers, 'x-amz-content-sha256') ?? '').startsWith('STREAMING-');
}

/** The Content-Encoding to store: the client's, minus the transport-only `aws-chunked`. */
export function storedContentEncoding(headers: IncomingHttpHeaders): string | undefined {
  const kept = (header(headers, 'content-encoding') ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '' && part.toLowerCase() !== 'aws-chunked');
  return kept.length ? kept.join(', ') : undefined;
}

export interface UploadBody {
  /** The object's bytes, aws-chunked framing already removed. */
  stream: Readable;
  /** Checks the received bytes against Content-MD5, the decoded/declared length and a signed payload hash. */
  write: BodyWriteOptions;
}

/**
 * Prepares a PutObject/UploadPart body for the store. `streamed` bodies come straight from the socket (their
 * signed payload hash, if any, is checked here once all bytes have passed); buffered ones were hashed by SigV4.
 */
export function uploadBody(
  headers: IncomingHttpHeaders,
  source: Readable | Buffer,
  streamed: boolean,
): UploadBody {
  const chunked = isAwsChunked(headers);
  const contentMd5 = header(headers, 'content-md5');
  let expectedMd5: Buffer | undefined;
  if (contentMd5 !== undefined) {
    expectedMd5 = /^[A-Za-z0-9+/]{22}==$/.test(contentMd5.trim())
      ? Buffer.from(contentMd5.trim(), 'base64')
      : undefined;
    if (expectedMd5?.length !== 16) throw s3Errors.invalidDigest(contentMd5);
  }
  const declaredLength = header(headers, chunked ? 'x-amz-decoded-content-length' : 'content-length');
  // S3 needs the decoded length up front to size the object.
  if (chunked && declaredLength === undefined) throw s3Errors.missingContentLength();
  const expectedLength = declaredLength === undefined ? undefined : Number(declaredLength);
  if (expectedLength !== undefined && expectedLength > MAX_PUT_SIZE)
    throw s3Errors.entityTooLarge(expectedLength);
  const payloadHash = header(headers, 'x-amz-content-sha256');
  // A chunked body's hash covers the framing, which the digest never sees; only plain signed bodies are rechecked.
  const signedHash =
    streamed && !chunked && payloadHash && /^[0-9a-f]{64}$/i.test(payloadHash) ? payloadHash : undefined;

  const raw = Buffer.isBuffer(source) ? Readable.from([source]) : source;
  const stream = chunked ? raw.pipe(new AwsChunkedDecoder()) : raw;
  if (chunked) raw.once('error', (error) => stream.destroy(error));
  return {
    stream,
    write: {
      sha256: signedHash !== undefined,
      verify(digest) {
        if (expectedLength !== undefined && Number.isFinite(expectedLength) && digest.size !== expectedLength)
          throw s3Errors.incompleteBody();
        if (signedHash !== undefined && signedHash.toLowerCase() !== digest.sha256Hex)
          throw authError({ kind: 'rest-xml' }, { kind: 'content-sha-mismatch' });
        if (expectedMd5 !== undefined) {
          const actual = Buffer.from(digest.md5Hex, 'hex');
          if (!actual.equals(expectedMd5))
            throw s3Errors.badDigest(expectedMd5.toString('base64'), actual.toString('base64'));
        }
      },
    },
  };
}
