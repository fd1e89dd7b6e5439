import type { IncomingHttpHeaders } from 'node:http';

/** Which bucket and key a request names, and its query parameters (decoded, '+' kept literal as in SigV4). */
export interface S3Address {
  bucket: string | undefined;
  /** Undefined for service and bucket requests; keys may contain any character, including '/', '+', ' '. */
  key: string | undefined;
  query: Map<string, string>;
  style: 'path' | 'virtual-host';
}

function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function parseQuery(rawQuery: string): Map<string, string> {
  const query = new Map<string, string>();
  for (const pair of rawQuery.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const name = percentDecode(eq < 0 ? pair : pair.slice(0, eq));
    if (!query.has(name)) query.set(name, eq < 0 ? '' : percentDecode(pair.slice(eq + 1)));
  }
  return query;
}

/**
 * The bucket named by a virtual-host style Host header (`bucket.localhost:4566`, `bucket.127.0.0.1:4566`,
 * `bucket.s3.us-east-1.amazonaws.com`, or `bucket.<the sandbox's own host>`); undefined for path style.
 */
export function virtualHostBucket(
  hostHeader: string | undefined,
  ownHost: string | undefined,
): string | undefined {
  if (!hostHeader) return undefined;
  const host = hostHeader.replace(/:\d+$/, '').toLowerCase();
  const bases = ['localhost', '127.0.0.1'];
  if (ownHost) bases.push(ownHost.replace(/:\d+$/, '').toLowerCase());
  for (const base of bases) {
    if (host.endsWith(`.${base}`) && host.length > base.length + 1) return host.slice(0, -(base.length + 1));
  }
  const aws = /^(.+)\.s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com$/.exec(host);
  return aws?.[1];
}

/** Resolves a request's raw path and Host header into bucket and key. */
export function parseS3Address(
  rawUrl: string,
  headers: IncomingHttpHeaders,
  ownHost: string | undefined,
): S3Address {
  const q = rawUrl.indexOf('?');
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = parseQuery(q < 0 ? '' : rawUrl.slice(q + 1));
  const hostBucket = virtualHostBucket(headers.host, ownHost);
  const path = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  if (hostBucket !== undefined) {
    return {
      bucket: hostBucket,
      key: path === '' ? undefined : percentDecode(path),
      query,
      style: 'virtual-host',
    };
  }
  if (path === '') return { bucket: undefined, key: undefined, query, style: 'path' };
  const slash = path.indexOf('/');
  if (slash < 0) return { bucket: percentDecode(path), key: undefined, query, style: 'path' };
  const key = path.slice(slash + 1);
  return {
    bucket: percentDecode(path.slice(0, slash)),
    key: key === '' ? undefined : percentDecode(key),
    query,
    style: 'path',
  };
}
