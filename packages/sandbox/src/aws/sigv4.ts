import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AuthFailure } from './errors';

// Hand-written on purpose: the SDK's signer signs *client* requests from a structured HttpRequest; a server must
// rebuild the canonical request from the raw wire bytes (raw path, raw query, raw header list) and compare.

/** A request as it arrived on the wire. */
export interface WireRequest {
  method: string;
  /** Path plus query exactly as sent (node's `request.url`). */
  rawUrl: string;
  /** Node's alternating name/value list, preserving duplicates and order. */
  rawHeaders: string[];
  body: Buffer;
  /**
   * The body is being streamed to the handler and is not in `body`: the declared payload hash is signed as
   * given, and the handler verifies it against the bytes it receives.
   */
  bodyStreamed?: boolean;
}

/** What a key id resolves to. `expired` lets the caller answer ExpiredToken rather than InvalidClientTokenId. */
export type KeyLookup<P> =
  | { status: 'active'; secretAccessKey: string; sessionToken?: string; principal: P }
  | { status: 'expired' }
  | undefined;

export interface VerifyOptions<P> {
  /** Real milliseconds since the epoch. */
  nowMs: number;
  /** The signing name the target service expects in the credential scope (sts, iam, s3, …). */
  signingName: string;
  /** S3 signs the path as sent; every other service normalizes it and URI-encodes it again. */
  uriEscapePath: boolean;
  lookupKey(accessKeyId: string): KeyLookup<P>;
}

export type VerifyResult<P> =
  { ok: true; principal: P; accessKeyId: string; region: string } | { ok: false; failure: AuthFailure };

export const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 15 * 60 * 1000;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function splitUrl(rawUrl: string): { rawPath: string; rawQuery: string } {
  const q = rawUrl.indexOf('?');
  return q < 0
    ? { rawPath: rawUrl, rawQuery: '' }
    : { rawPath: rawUrl.slice(0, q), rawQuery: rawUrl.slice(q + 1) };
}

function headerValues(rawHeaders: string[], lowerName: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === lowerName) values.push(rawHeaders[i + 1] as string);
  }
  return values;
}

function firstHeader(rawHeaders: string[], lowerName: string): string | undefined {
  return headerValues(rawHeaders, lowerName)[0];
}

/** Percent-decodes without treating '+' as a space (SigV4 semantics). */
function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function rawQueryParams(rawQuery: string): Array<[string, string]> {
  if (!rawQuery) return [];
  return rawQuery
    .split('&')
    .filter((pair) => pair.length > 0)
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0
        ? [percentDecode(pair), '']
        : [percentDecode(pair.slice(0, eq)), percentDecode(pair.slice(eq + 1))];
    });
}

/** RFC 3986 encoding as SigV4 defines it: everything but A-Z a-z 0-9 - _ . ~ (and '/' when asked). */
export function uriEncode(text: string, keepSlash = false): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(ch) || (keepSlash && ch === '/')) out += ch;
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function normalizePath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const joined = '/' + segments.join('/');
  return path.endsWith('/') && joined !== '/' ? joined + '/' : joined;
}

export function canonicalUri(rawPath: string, uriEscapePath: boolean): string {
  if (!uriEscapePath) return rawPath || '/';
  return uriEncode(normalizePath(rawPath || '/'), true);
}

export function canonicalQuery(rawQuery: string, exclude?: string): string {
  return rawQueryParams(rawQuery)
    .filter(([name]) => name !== exclude)
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

export function canonicalHeaders(rawHeaders: string[], signedHeaders: string[]): string | undefined {
  let out = '';
  for (const name of signedHeaders) {
    const values = headerValues(rawHeaders, name);
    if (values.length === 0) return undefined;
    out += `${name}:${values.map(canonicalHeaderValue).join(',')}\n`;
  }
  return out;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function canonicalRequest(parts: {
  method: string;
  uri: string;
  query: string;
  headers: string;
  signedHeaders: string;
  payloadHash: string;
}): string {
  return [parts.method, parts.uri, parts.query, parts.headers, parts.signedHeaders, parts.payloadHash].join(
    '\n',
  );
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
}

// Deriving the signing key costs four HMACs; one key serves a secret for a whole day, region and service.
const signingKeyCache = new Map<string, Buffer>();
const SIGNING_KEY_CACHE_LIMIT = 10_000;

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const cacheKey = `${secret}\n${date}\n${region}\n${service}`;
  const cached = signingKeyCache.get(cacheKey);
  if (cached) return cached;
  const kDate = createHmac('sha256', 'AWS4' + secret)
    .update(date)
    .digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update(service).digest();
  const key = createHmac('sha256', kService).update('aws4_request').digest();
  if (signingKeyCache.size >= SIGNING_KEY_CACHE_LIMIT) signingKeyCache.clear();
  signingKeyCache.set(cacheKey, key);
  return key;
}

export function signatureFor(key: Buffer, toSign: string): string {
  return createHmac('sha256', key).update(toSign).digest('hex');
}

/** Whether the request carries SigV4 authentication at all (header or presigned query). */
export function hasSigV4(request: Pick<WireRequest, 'rawUrl' | 'rawHeaders'>): boolean {
  const auth = firstHeader(request.rawHeaders, 'authorization');
  if (auth !== undefined && auth.trimStart().startsWith(ALGORITHM)) return true;
  const { rawQuery } = splitUrl(request.rawUrl);
  return /(^|&)X-Amz-Algorithm=/i.test(rawQuery);
}

interface ParsedAuth {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string | undefined;
  sessionToken: string | undefined;
  presigned: { expiresSeconds: number } | undefined;
}

type ParseResult = { ok: true; auth: ParsedAuth } | { ok: false; failure: AuthFailure };

function incomplete(detail: string): ParseResult {
  return { ok: false, failure: { kind: 'incomplete', detail } };
}

function parseCredential(
  credential: string,
): Omit<ParsedAuth, 'signedHeaders' | 'signature' | 'amzDate' | 'sessionToken' | 'presigned'> | undefined {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts.some((p) => p === '')) return undefined;
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  return { accessKeyId, date, region, service, terminator };
}

function parseHeaderAuth(header: string, rawHeaders: string[]): ParseResult {
  const rest = header.trim().slice(ALGORITHM.length).trim();
  const fields = new Map<string, string>();
  for (const piece of rest.split(',')) {
    const item = piece.trim();
    if (!item) continue;
    const eq = item.indexOf('=');
    if (eq < 0)
      return incomplete(`'${item}' not a valid key=value pair (missing equal-sign) in Authorization header`);
    fields.set(item.slice(0, eq).trim(), item.slice(eq + 1).trim());
  }
  for (const required of ['Credential', 'Signature', 'SignedHeaders']) {
    if (!fields.has(required)) return incomplete(`Authorization header requires '${required}' parameter.`);
  }
  const credential = parseCredential(fields.get('Credential') as string);
  if (!credential) return incomplete('Authorization header requires a valid Credential parameter.');
  let amzDate = firstHeader(rawHeaders, 'x-amz-date');
  if (amzDate === undefined) {
    const date = firstHeader(rawHeaders, 'date');
    if (date !== undefined && !Number.isNaN(Date.parse(date))) amzDate = toAmzDate(new Date(date));
  }
  if (amzDate === undefined) {
    return incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  return {
    ok: true,
    auth: {
      ...credential,
      signedHeaders: (fields.get('SignedHeaders') as string).split(';').map((h) => h.trim().toLowerCase()),
      signature: fields.get('Signature') as string,
      amzDate,
      sessionToken: firstHeader(rawHeaders, 'x-amz-security-token'),
      presigned: undefined,
    },
  };
}

function parseQueryAuth(rawQuery: string): ParseResult {
  const params = new Map(rawQueryParams(rawQuery));
  const get = (name: string) => params.get(name);
  if (get('X-Amz-Algorithm') !== ALGORITHM) return incomplete(`X-Amz-Algorithm only supports "${ALGORITHM}"`);
  for (const required of ['X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'X-Amz-Date']) {
    if (!params.has(required))
      return incomplete(`Query-string authentication requires the ${required} parameter.`);
  }
  const credential = parseCredential(get('X-Amz-Credential') as string);
  if (!credential)
    return incomplete('Query-string authentication requires a valid X-Amz-Credential parameter.');
  const expires = Number(get('X-Amz-Expires') ?? '900');
  if (!Number.isInteger(expires) || expires < 1 || expires > 604800) {
    return incomplete('X-Amz-Expires must be between 1 and 604800 seconds.');
  }
  return {
    ok: true,
    auth: {
      ...credential,
      signedHeaders: (get('X-Amz-SignedHeaders') as string).split(';').map((h) => h.trim().toLowerCase()),
      signature: get('X-Amz-Signature') as string,
      amzDate: get('X-Amz-Date'),
      sessionToken: get('X-Amz-Security-Token'),
      presigned: { expiresSeconds: expires },
    },
  };
}

export function toAmzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

function safeEqualText(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** The payload hash the client must have signed (UNSIGNED-PAYLOAD / STREAMING-* are taken literally). */
function payloadHash(
  request: WireRequest,
  auth: ParsedAuth,
  rawQuery: string,
  uriEscapePath: boolean,
): string | AuthFailure {
  const declared =
    firstHeader(request.rawHeaders, 'x-amz-content-sha256') ??
    (auth.presigned ? new Map(rawQueryParams(rawQuery)).get('X-Amz-Content-Sha256') : undefined);
  if (declared !== undefined) {
    if (declared === 'UNSIGNED-PAYLOAD' || declared.startsWith('STREAMING-')) return declared;
    if (request.bodyStreamed) return declared;
    const actual = request.body.length === 0 ? EMPTY_SHA256 : sha256Hex(request.body);
    if (declared.toLowerCase() !== actual) return { kind: 'content-sha-mismatch' };
    return declared;
  }
  // Presigned S3 URLs never sign a payload; presigned requests to other services sign the (usually empty) body.
  if (auth.presigned && !uriEscapePath) return 'UNSIGNED-PAYLOAD';
  return request.body.length === 0 ? EMPTY_SHA256 : sha256Hex(request.body);
}

export function verifySigV4<P>(request: WireRequest, options: VerifyOptions<P>): VerifyResult<P> {
  const { rawPath, rawQuery } = splitUrl(request.rawUrl);
  const header = firstHeader(request.rawHeaders, 'authorization');
  let parsed: ParseResult;
  if (header !== undefined && header.trimStart().startsWith(ALGORITHM))
    parsed = parseHeaderAuth(header, request.rawHeaders);
  else if (/(^|&)X-Amz-Algorithm=/i.test(rawQuery)) parsed = parseQueryAuth(rawQuery);
  else return { ok: false, failure: { kind: 'missing' } };
  if (!parsed.ok) return parsed;
  const auth = parsed.auth;

  const requestMs = auth.amzDate === undefined ? undefined : parseAmzDate(auth.amzDate);
  if (requestMs === undefined)
    return {
      ok: false,
      failure: { kind: 'incomplete', detail: `Invalid X-Amz-Date: '${auth.amzDate ?? ''}'` },
    };
  const now = options.nowMs;
  if (auth.presigned) {
    if (requestMs - now > MAX_SKEW_MS) return { ok: false, failure: skew(requestMs, now, 'future') };
    if (now > requestMs + auth.presigned.expiresSeconds * 1000)
      return { ok: false, failure: { kind: 'presign-expired' } };
  } else if (now - requestMs > MAX_SKEW_MS) {
    return { ok: false, failure: skew(requestMs, now, 'past') };
  } else if (requestMs - now > MAX_SKEW_MS) {
    return { ok: false, failure: skew(requestMs, now, 'future') };
  }

  const key = options.lookupKey(auth.accessKeyId);
  if (key === undefined) return { ok: false, failure: { kind: 'unknown-key' } };
  if (key.status === 'expired') return { ok: false, failure: { kind: 'expired-token' } };
  if (
    key.sessionToken === undefined
      ? auth.sessionToken !== undefined
      : !safeEqualText(auth.sessionToken ?? '', key.sessionToken)
  ) {
    return { ok: false, failure: { kind: 'invalid-token' } };
  }

  if (auth.terminator !== 'aws4_request') {
    return {
      ok: false,
      failure: {
        kind: 'wrong-scope',
        detail: `Credential should be scoped with a valid terminator: 'aws4_request', not '${auth.terminator}'.`,
      },
    };
  }
  const amzDay = (auth.amzDate as string).slice(0, 8);
  if (auth.date !== amzDay) {
    return {
      ok: false,
      failure: {
        kind: 'wrong-scope',
        detail: `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${amzDay}', from '${auth.amzDate}'.`,
      },
    };
  }
  if (auth.service !== options.signingName) {
    return {
      ok: false,
      failure: {
        kind: 'wrong-scope',
        detail: `Credential should be scoped to correct service: '${options.signingName}'.`,
      },
    };
  }
  if (!auth.signedHeaders.includes('host')) {
    return {
      ok: false,
      failure: {
        kind: 'incomplete',
        detail: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
      },
    };
  }

  const headers = canonicalHeaders(request.rawHeaders, auth.signedHeaders);
  if (headers === undefined) return { ok: false, failure: { kind: 'bad-signature' } };
  const hash = payloadHash(request, auth, rawQuery, options.uriEscapePath);
  if (typeof hash !== 'string') return { ok: false, failure: hash };
  const canonical = canonicalRequest({
    method: request.method.toUpperCase(),
    uri: canonicalUri(rawPath, options.uriEscapePath),
    query: canonicalQuery(rawQuery, auth.presigned ? 'X-Amz-Signature' : undefined),
    headers,
    signedHeaders: auth.signedHeaders.join(';'),
    payloadHash: hash,
  });
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const expected = signatureFor(
    signingKey(key.secretAccessKey, auth.date, auth.region, auth.service),
    stringToSign(auth.amzDate as string, scope, canonical),
  );
  if (!safeEqualText(expected, auth.signature.toLowerCase()))
    return { ok: false, failure: { kind: 'bad-signature' } };
  return { ok: true, principal: key.principal, accessKeyId: auth.accessKeyId, region: auth.region };
}

function skew(requestMs: number, nowMs: number, direction: 'past' | 'future'): AuthFailure {
  const boundary = direction === 'past' ? nowMs - MAX_SKEW_MS : nowMs + MAX_SKEW_MS;
  return {
    kind: 'skewed',
    direction,
    requestTime: toAmzDate(new Date(requestMs)),
    now: toAmzDate(new Date(nowMs)),
    boundary: toAmzDate(new Date(boundary)),
  };
}

/** The service name in the credential scope, used to route signed requests that carry no other marker (S3). */
export function claimedSigningName(request: Pick<WireRequest, 'rawUrl' | 'rawHeaders'>): string | undefined {
  const header = firstHeader(request.rawHeaders, 'authorization');
  const credential =
    /Credential=([^,\s]+)/.exec(header ?? '')?.[1] ??
    percentDecode(/(?:^|&)X-Amz-Credential=([^&]*)/i.exec(splitUrl(request.rawUrl).rawQuery)?.[1] ?? '');
  return credential.split('/')[3];
}
