import { multipartEtag, unquoteEtag } from './etag';
import { MIN_PART_SIZE, s3Errors } from './errors';

export const MAX_PART_NUMBER = 10_000;

/** A part as stored: its number, size and the hex MD5 of its bytes. */
export interface StoredPart {
  partNumber: number;
  size: number;
  md5: string;
  lastModified: Date;
}

/** A part as the client lists it in CompleteMultipartUpload. */
export interface RequestedPart {
  partNumber: number;
  etag: string;
}

export interface CompletionPlan {
  parts: StoredPart[];
  etag: string;
  size: number;
}

/**
 * Checks a CompleteMultipartUpload part list against the stored parts in S3's order: ascending part numbers,
 * every listed part present with a matching ETag, every part but the last at least 5 MiB.
 */
export function planCompletion(
  uploadId: string,
  stored: ReadonlyMap<number, StoredPart>,
  requested: readonly RequestedPart[],
): CompletionPlan {
  if (requested.length === 0) throw s3Errors.malformedXml();
  for (let i = 1; i < requested.length; i++) {
    if ((requested[i] as RequestedPart).partNumber <= (requested[i - 1] as RequestedPart).partNumber)
      throw s3Errors.invalidPartOrder(uploadId);
  }
  const parts: StoredPart[] = [];
  for (const wanted of requested) {
    const part = stored.get(wanted.partNumber);
    if (!part || unquoteEtag(wanted.etag) !== part.md5)
      throw s3Errors.invalidPart(uploadId, wanted.partNumber, wanted.etag);
    parts.push(part);
  }
  parts.slice(0, -1).forEach((part) => {
    if (part.size < MIN_PART_SIZE) throw s3Errors.entityTooSmall(part.size, part.partNumber, `"${part.md5}"`);
  });
  return {
    parts,
    etag: multipartEtag(parts.map((part) => part.md5)),
    size: parts.reduce((total, part) => total + part.size, 0),
  };
}

export function isValidPartNumber(text: string): boolean {
  if (!/^\d{1,5}$/.test(text)) return false;
  const n = Number(text);
  return n >= 1 && n <= MAX_PART_NUMBER;
}
