import { randomBytes, randomUUID } from 'node:crypto';

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** `length` characters drawn uniformly from A-Z0-9 with crypto randomness (rejection sampling, no modulo bias). */
export function randomUpperAlnum(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 252) out += UPPER_ALNUM[byte % 36];
      if (out.length === length) break;
    }
  }
  return out;
}

export function newRequestId(): string {
  return randomUUID();
}

/** IAM unique ids: a four-letter type prefix (AROA roles, ASIA temporary keys) and 17 or 16 more characters. */
export function newRoleId(): string {
  return 'AROA' + randomUpperAlnum(17);
}

export function newTemporaryAccessKeyId(): string {
  return 'ASIA' + randomUpperAlnum(16);
}

/** 40 characters of base64 alphabet, like AWS secret keys. */
export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64');
}

/** Opaque and unguessable; never derived from the secret. Real tokens are several hundred base64 characters. */
export function newSessionToken(): string {
  return randomBytes(384).toString('base64');
}
