import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { HttpRequest, SourceData } from '@smithy/types';
import { canonicalQuery, canonicalUri, verifySigV4, type KeyLookup, type WireRequest } from './sigv4';

function toBytes(data: SourceData): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** The SDK signer's hash interface, over node:crypto (the SDK's own @aws-crypto package is not installed here). */
class Sha256 {
  private hash: Hash | Hmac;
  private readonly secret: Uint8Array | undefined;
  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : toBytes(secret);
    this.hash = this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    if (typeof data === 'string') this.hash.update(data);
    else if (ArrayBuffer.isView(data))
      this.hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    else this.hash.update(new Uint8Array(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
}

// Official AWS SigV4 test suite (aws-sig-v4-test-suite): credentials, scope and time shared by every vector.
const SUITE_KEY = 'AKIDEXAMPLE';
const SUITE_SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const SUITE_NOW = Date.UTC(2015, 7, 30, 12, 36, 0);
const SUITE_SCOPE = `${SUITE_KEY}/20150830/us-east-1/service/aws4_request`;

function suiteLookup(id: string): KeyLookup<string> {
  return id === SUITE_KEY
    ? { status: 'active', secretAccessKey: SUITE_SECRET, principal: 'suite' }
    : undefined;
}

function suiteRequest(
  method: string,
  rawUrl: string,
  headers: Array<[string, string]>,
  signedHeaders: string,
  signature: string,
  body = '',
): WireRequest {
  const rawHeaders = [
    ...headers.flat(),
    'Authorization',
    `AWS4-HMAC-SHA256 Credential=${SUITE_SCOPE}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  ];
  return { method, rawUrl, rawHeaders, body: Buffer.from(body) };
}

const BASE_HEADERS: Array<[string, string]> = [
  ['Host', 'example.amazonaws.com'],
  ['X-Amz-Date', '20150830T123600Z'],
];

const VECTORS: Array<{ name: string; request: WireRequest }> = [
  {
    name: 'get-vanilla',
    request: suiteRequest(
      'GET',
      '/',
      BASE_HEADERS,
      'host;x-amz-date',
      '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    ),
  },
  {
    name: 'post-vanilla',
    request: suiteRequest(
      'POST',
      '/',
      BASE_HEADERS,
      'host;x-amz-date',
      '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
    ),
  },
  {
    name: 'get-vanilla-query-order-key-case',
    request: suiteRequest(
      'GET',
      '/?Param2=value2&Param1=value1',
      BASE_HEADERS,
      'host;x-amz-date',
      'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
    ),
  },
  {
    name: 'post-x-www-form-urlencoded',
    request: suiteRequest(
      'POST',
      '/',
      [['Content-Type', 'application/x-www-form-urlencoded'], ...BASE_HEADERS],
      'content-type;host;x-amz-date',
      'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
      'Param1=value1',
    ),
  },
  {
    name: 'get-utf8',
    request: suiteRequest(
      'GET',
      '/ሴ',
      BASE_HEADERS,
      'host;x-amz-date',
      '8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85',
    ),
  },
  {
    name: 'get-space',
    request: suiteRequest(
      'GET',
      '/example space/',
      BASE_HEADERS,
      'host;x-amz-date',
      '652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741',
    ),
  },
  {
    name: 'get-slash (normalized)',
    request: suiteRequest(
      'GET',
      '//',
      BASE_HEADERS,
      'host;x-amz-date',
      '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    ),
  },
  {
    name: 'get-relative-relative (normalized)',
    request: suiteRequest(
      'GET',
      '/example1/example2/../..',
      BASE_HEADERS,
      'host;x-amz-date',
      '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    ),
  },
  {
    name: 'get-header-key-duplicate',
    request: suiteRequest(
      'GET',
      '/',
      [...BASE_HEADERS, ['My-Header1', 'value2'], ['My-Header1', 'value2'], ['My-Header1', 'value1']],
      'host;my-header1;x-amz-date',
      'c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea',
    ),
  },
];

for (const vector of VECTORS) {
  test(`SigV4 test suite: ${vector.name} verifies`, () => {
    const result = verifySigV4(vector.request, {
      nowMs: SUITE_NOW,
      signingName: 'service',
      uriEscapePath: true,
      lookupKey: suiteLookup,
    });
    assert.deepEqual(result, { ok: true, principal: 'suite', accessKeyId: SUITE_KEY, region: 'us-east-1' });
  });
}

test('SigV4 test suite: a changed byte anywhere fails as bad-signature', () => {
  const vanilla = VECTORS[3]!.request;
  const tampered = { ...vanilla, body: Buffer.from('Param1=value2') };
  const result = verifySigV4(tampered, {
    nowMs: SUITE_NOW,
    signingName: 'service',
    uriEscapePath: true,
    lookupKey: suiteLookup,
  });
  assert.deepEqual(result, { ok: false, failure: { kind: 'bad-signature' } });
});

test('canonical URI and query follow the SigV4 encoding rules', () => {
  assert.equal(canonicalUri('/a%20b/./c/../d', true), '/a%2520b/d');
  assert.equal(canonicalUri('/bucket/a%20b', false), '/bucket/a%20b');
  assert.equal(canonicalQuery('b=2&a=2&a=1&uploads'), 'a=1&a=2&b=2&uploads=');
  assert.equal(canonicalQuery('k=a+b&x=%7e'), 'k=a%2Bb&x=~');
});

test('skew beyond 15 minutes is refused in AWS wording, both directions', () => {
  const request = VECTORS[0]!.request;
  const late = verifySigV4(request, {
    nowMs: SUITE_NOW + 16 * 60_000,
    signingName: 'service',
    uriEscapePath: true,
    lookupKey: suiteLookup,
  });
  assert.deepEqual(late, {
    ok: false,
    failure: {
      kind: 'skewed',
      direction: 'past',
      requestTime: '20150830T123600Z',
      now: '20150830T125200Z',
      boundary: '20150830T123700Z',
    },
  });
  const early = verifySigV4(request, {
    nowMs: SUITE_NOW - 16 * 60_000,
    signingName: 'service',
    uriEscapePath: true,
    lookupKey: suiteLookup,
  });
  assert.equal(!early.ok && early.failure.kind, 'skewed');
});

test('unknown keys, expired sessions, wrong service scope and missing auth are told apart', () => {
  const request = VECTORS[0]!.request;
  const base = { nowMs: SUITE_NOW, signingName: 'service', uriEscapePath: true };
  assert.deepEqual(verifySigV4(request, { ...base, lookupKey: () => undefined }), {
    ok: false,
    failure: { kind: 'unknown-key' },
  });
  assert.deepEqual(verifySigV4(request, { ...base, lookupKey: () => ({ status: 'expired' }) }), {
    ok: false,
    failure: { kind: 'expired-token' },
  });
  const wrongService = verifySigV4(request, { ...base, signingName: 'sts', lookupKey: suiteLookup });
  assert.equal(!wrongService.ok && wrongService.failure.kind, 'wrong-scope');
  const unsigned = { ...request, rawHeaders: request.rawHeaders.slice(0, 4) };
  assert.deepEqual(verifySigV4(unsigned, { ...base, lookupKey: suiteLookup }), {
    ok: false,
    failure: { kind: 'missing' },
  });
});

/** Captures the exact request the SDK would put on the wire, signed by the SDK's own signer. */
async function sdkSignedGetCallerIdentity(credentials: {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}): Promise<WireRequest> {
  let captured: HttpRequest | undefined;
  const client = new STSClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:4566',
    credentials,
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: HttpRequest) => {
        captured = request;
        throw new Error('captured');
      },
    },
  });
  await assert.rejects(client.send(new GetCallerIdentityCommand({})), /captured/);
  return toWire(captured!);
}

function toWire(request: HttpRequest): WireRequest {
  const query = new URLSearchParams(request.query as Record<string, string>).toString().replace(/\+/g, '%20');
  const rawHeaders = Object.entries(request.headers).flat();
  if (!('host' in request.headers))
    rawHeaders.push('host', `${request.hostname}${request.port ? `:${request.port}` : ''}`);
  const body = request.body === undefined ? Buffer.alloc(0) : Buffer.from(request.body as string);
  return { method: request.method, rawUrl: request.path + (query ? `?${query}` : ''), rawHeaders, body };
}

test('a request signed by the AWS SDK v3 (with a session token) verifies; a wrong secret or token does not', async () => {
  const credentials = {
    accessKeyId: 'ASIAEXAMPLESESSION01',
    secretAccessKey: 'secret/with+chars',
    sessionToken: 'token-123',
  };
  const wire = await sdkSignedGetCallerIdentity(credentials);
  const lookup =
    (secret: string, token: string): VerifyLookup =>
    () => ({ status: 'active', secretAccessKey: secret, sessionToken: token, principal: 'session' });
  const options = { nowMs: Date.now(), signingName: 'sts', uriEscapePath: true };
  assert.equal(
    verifySigV4(wire, {
      ...options,
      lookupKey: lookup(credentials.secretAccessKey, credentials.sessionToken),
    }).ok,
    true,
  );
  assert.deepEqual(verifySigV4(wire, { ...options, lookupKey: lookup('other', credentials.sessionToken) }), {
    ok: false,
    failure: { kind: 'bad-signature' },
  });
  assert.deepEqual(
    verifySigV4(wire, { ...options, lookupKey: lookup(credentials.secretAccessKey, 'other') }),
    { ok: false, failure: { kind: 'invalid-token' } },
  );
});
type VerifyLookup = (id: string) => KeyLookup<string>;

test('presigned (query) requests from the SDK signer verify, expire, and ignore the body for S3', async () => {
  const signer = new SignatureV4({
    service: 's3',
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDPRESIGN', secretAccessKey: 'presign-secret' },
    sha256: Sha256,
    uriEscapePath: false,
  });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 4566,
      path: '/bucket/some%20key.zip',
      query: {},
      headers: { host: '127.0.0.1:4566', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    },
    { expiresIn: 60, signingDate: new Date(SUITE_NOW) },
  );
  // As @aws-sdk/s3-request-presigner does: S3 presigned URLs always sign UNSIGNED-PAYLOAD.
  const wire = toWire(presigned as HttpRequest);
  assert.match(wire.rawUrl, /X-Amz-Signature=/);
  const lookupKey = (): KeyLookup<string> => ({
    status: 'active',
    secretAccessKey: 'presign-secret',
    principal: 'root',
  });
  const options = { signingName: 's3', uriEscapePath: false, lookupKey };
  assert.equal(verifySigV4(wire, { ...options, nowMs: SUITE_NOW + 30_000 }).ok, true);
  assert.deepEqual(verifySigV4(wire, { ...options, nowMs: SUITE_NOW + 61_000 }), {
    ok: false,
    failure: { kind: 'presign-expired' },
  });
});

test('UNSIGNED-PAYLOAD and STREAMING-* hashes are taken as declared; a wrong hex hash is a content mismatch', async () => {
  const signer = new SignatureV4({
    service: 's3',
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDS3', secretAccessKey: 's3-secret' },
    sha256: Sha256,
    uriEscapePath: false,
  });
  const lookupKey = (): KeyLookup<string> => ({
    status: 'active',
    secretAccessKey: 's3-secret',
    principal: 'root',
  });
  const options = { signingName: 's3', uriEscapePath: false, lookupKey, nowMs: SUITE_NOW };
  for (const declared of ['UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER']) {
    const signed = await signer.sign(
      {
        method: 'PUT',
        protocol: 'http:',
        hostname: '127.0.0.1',
        path: '/b/k',
        query: {},
        headers: { host: '127.0.0.1', 'x-amz-content-sha256': declared },
        body: 'data',
      },
      { signingDate: new Date(SUITE_NOW) },
    );
    assert.equal(
      verifySigV4({ ...toWire(signed as HttpRequest), body: Buffer.from('anything') }, options).ok,
      true,
      declared,
    );
  }
  const wrongHash = await signer.sign(
    {
      method: 'PUT',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: '/b/k',
      query: {},
      headers: { host: '127.0.0.1', 'x-amz-content-sha256': 'a'.repeat(64) },
      body: 'data',
    },
    { signingDate: new Date(SUITE_NOW) },
  );
  assert.deepEqual(verifySigV4(toWire(wrongHash as HttpRequest), options), {
    ok: false,
    failure: { kind: 'content-sha-mismatch' },
  });
});
