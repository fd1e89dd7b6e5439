import { createHash } from 'node:crypto';

/** A single-part ETag as S3 sends it: the quoted hex MD5 of the bytes. */
export function quotedMd5(md5Hex: string): string {
  return `"${md5Hex}"`;
}

/** Strips the quotes clients may or may not keep around an ETag they echo back. */
export function unquoteEtag(etag: string): string {
  return etag.trim().replace(/^"(.*)"$/, '$1');
}

/**
 * A multipart object's ETag: the MD5 of the concatenated *binary* MD5s of its parts, then `-<part count>`.
 * Tools (the CLI's sync, lib-storage users) recompute it locally to detect changes, so it must be exact.
 */
export function multipartEtag(partMd5Hexes: readonly string[]): string {
  const hash = createHash('md5');
  for (const md5 of partMd5Hexes) hash.update(Buffer.from(md5, 'hex'));
  return `"${hash.digest('hex')}-${partMd5Hexes.length}"`;
}
