import { compareKeys } from './key-order';

export interface ListQuery {
  prefix: string;
  delimiter: string | undefined;
  maxKeys: number;
  /** Exclusive lower bound: start-after, a v1 marker, or the position a continuation token encodes. */
  after: string | undefined;
}

export interface ListPage {
  keys: string[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last key or common prefix returned: where the next page starts (NextMarker / continuation token). */
  lastEntry: string | undefined;
}

/** Index of the first key strictly greater than `bound` (or the first key at all). */
function firstIndexAfter(
  sortedKeys: readonly string[],
  bound: string | undefined,
  inclusive: boolean,
): number {
  if (bound === undefined) return 0;
  let low = 0;
  let high = sortedKeys.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const order = compareKeys(sortedKeys[mid] as string, bound);
    if (order < 0 || (order === 0 && !inclusive)) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * One page of a listing over keys in S3 order. Keys under `prefix` are contiguous in that order, so the scan
 * starts by binary search and stops at the first key outside the prefix. With a delimiter, keys sharing the
 * segment up to the delimiter roll up into one CommonPrefix, which counts once against max-keys; a roll-up at or
 * before the `after` bound was already returned on an earlier page, so it is skipped.
 */
export function listPage(sortedKeys: readonly string[], query: ListQuery): ListPage {
  const page: ListPage = { keys: [], commonPrefixes: [], isTruncated: false, lastEntry: undefined };
  const { prefix, delimiter, maxKeys, after } = query;
  // max-keys=0 asks for no entries and is not "truncated" (a paginator would otherwise loop forever).
  if (maxKeys === 0) return page;
  const startAfter = after !== undefined && compareKeys(after, prefix) >= 0 ? after : undefined;
  let index =
    startAfter === undefined
      ? firstIndexAfter(sortedKeys, prefix, true)
      : firstIndexAfter(sortedKeys, startAfter, false);
  let count = 0;
  let lastPrefix: string | undefined;
  for (; index < sortedKeys.length; index++) {
    const key = sortedKeys[index] as string;
    if (!key.startsWith(prefix)) break;
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    if (cut >= 0) {
      const common = key.slice(0, cut + (delimiter as string).length);
      if (common === lastPrefix || (after !== undefined && compareKeys(common, after) <= 0)) continue;
      if (count === maxKeys) {
        page.isTruncated = true;
        break;
      }
      page.commonPrefixes.push(common);
      lastPrefix = common;
      page.lastEntry = common;
    } else {
      if (count === maxKeys) {
        page.isTruncated = true;
        break;
      }
      page.keys.push(key);
      page.lastEntry = key;
    }
    count++;
  }
  return page;
}

const TOKEN_PREFIX = 'v1:';

/** Continuation tokens are opaque to clients; this one carries the last entry returned. */
export function encodeContinuationToken(lastEntry: string): string {
  return Buffer.from(TOKEN_PREFIX + lastEntry, 'utf8').toString('base64');
}

export function decodeContinuationToken(token: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return undefined;
  const text = Buffer.from(token, 'base64').toString('utf8');
  return text.startsWith(TOKEN_PREFIX) ? text.slice(TOKEN_PREFIX.length) : undefined;
}

/**
 * `encoding-type=url`: S3 encodes keys the way HTML forms do (space as '+', '/' kept), which botocore undoes
 * with unquote_plus; anything outside the unreserved set becomes %XX of its UTF-8 bytes.
 */
export function urlEncodeKey(key: string): string {
  let out = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~/]/.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}
