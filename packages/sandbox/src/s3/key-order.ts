/** S3 lists keys in UTF-8 binary order, which differs from JS string order for characters beyond the BMP. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
