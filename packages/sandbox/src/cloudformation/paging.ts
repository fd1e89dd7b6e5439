import { AwsError } from '../aws/errors';

/**
 * NextToken paging: tokens are opaque to clients; here they carry the offset and which listing they belong to,
 * so a token from one call cannot silently page another.
 */
export function page<T>(
  items: readonly T[],
  nextToken: string | undefined,
  pageSize: number,
  scope: string,
): { items: T[]; nextToken?: string } {
  let offset = 0;
  if (nextToken) {
    try {
      const decoded = JSON.parse(Buffer.from(nextToken, 'base64url').toString('utf8')) as {
        o?: unknown;
        s?: unknown;
      };
      if (decoded.s !== scope || typeof decoded.o !== 'number') throw new Error('foreign token');
      offset = decoded.o;
    } catch {
      // Wording unverified; AWS answers a bad token with a ValidationError.
      throw new AwsError('ValidationError', 'Invalid NextToken');
    }
  }
  const slice = items.slice(offset, offset + pageSize);
  const end = offset + slice.length;
  return {
    items: slice,
    nextToken:
      end < items.length
        ? Buffer.from(JSON.stringify({ o: end, s: scope }), 'utf8').toString('base64url')
        : undefined,
  };
}
