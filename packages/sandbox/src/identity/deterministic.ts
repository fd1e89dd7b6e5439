import { createHash } from 'node:crypto';

/**
 * Stable stand-ins for ids the sandbox has no real source for (commit SHAs, numeric project ids): the same
 * configuration always yields the same claims, so trust-policy tests are reproducible.
 */
export function stableHex(seed: string, length: number): string {
  let hex = '';
  for (let round = 0; hex.length < length; round++) {
    hex += createHash('sha256').update(`${round}:${seed}`).digest('hex');
  }
  return hex.slice(0, length);
}

/** A decimal id of `digits` digits without a leading zero, as a string (CI claims carry ids as strings). */
export function stableDecimalId(seed: string, digits: number): string {
  const value = BigInt(`0x${stableHex(seed, 30)}`);
  const floor = 10n ** BigInt(digits - 1);
  return (floor + (value % (9n * floor))).toString();
}
