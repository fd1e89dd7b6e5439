/**
 * S3's general-purpose bucket naming rules: 3–63 characters of lowercase letters, digits, dots and hyphens,
 * beginning and ending with a letter or digit, no adjacent dots, not an IPv4 address, and none of the prefixes
 * and suffixes AWS reserves for other bucket types.
 */
export function isValidBucketName(name: string): boolean {
  if (name.length < 3 || name.length > 63) return false;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return false;
  if (name.includes('..')) return false;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return false;
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name)) return false;
  return !/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name);
}
