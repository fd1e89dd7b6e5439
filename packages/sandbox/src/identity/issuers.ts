import { generateKeyPair, randomUUID, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, exportJWK, SignJWT } from 'jose';
import type { Clock } from '../clock';
import type { IssuerConfig, SandboxConfig } from '../config';
import type { HostedIssuer, IssuerKey, IssuerRegistry } from '../context';

const generateRsaKeyPair = promisify(generateKeyPair);

/** Retired keys stay in the JWKS so tokens signed just before a rotation keep verifying. */
const RETIRED_KEYS_KEPT = 2;
/** Simulated seconds, used when neither the caller nor the issuer's config names a lifetime. */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;

interface SigningKey extends IssuerKey {
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}

async function createSigningKey(): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateRsaKeyPair('rsa', { modulusLength: 2048 });
  const { kty, n, e } = await exportJWK(publicKey);
  if (kty === undefined || n === undefined || e === undefined)
    throw new Error('RSA key export lacks kty/n/e');
  // RFC 7638 thumbprint: stable, derived from the key itself, as Azure AD and GitHub kids are key-derived too.
  const kid = await calculateJwkThumbprint({ kty, n, e }, 'sha256');
  return { kid, publicKey, privateKey, jwk: { kty, use: 'sig', alg: 'RS256', kid, n, e } };
}

class SandboxIssuer implements HostedIssuer {
  readonly id: string;
  readonly issuer: string;
  private readonly defaultLifetimeSeconds: number;
  /** Current key first, then retired keys, newest first. */
  private signingKeys: SigningKey[];
  private publishedKeys: IssuerKey[] = [];

  constructor(
    config: IssuerConfig,
    firstKey: SigningKey,
    private readonly clock: Clock,
    private readonly onSign: (jwt: string) => void = () => undefined,
  ) {
    this.id = config.id;
    this.issuer = config.issuer;
    this.defaultLifetimeSeconds = config.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS;
    this.signingKeys = [firstKey];
    this.refreshPublishedKeys();
  }

  keys(): IssuerKey[] {
    return this.publishedKeys;
  }

  jwks(): { keys: Array<Record<string, unknown>> } {
    return { keys: this.signingKeys.map((key) => ({ ...key.jwk })) };
  }

  async sign(
    claims: Record<string, unknown>,
    options: { lifetimeSeconds?: number; kid?: string } = {},
  ): Promise<string> {
    const key =
      options.kid === undefined ? this.signingKeys[0] : this.signingKeys.find((k) => k.kid === options.kid);
    if (key === undefined) throw new Error(`issuer '${this.id}' holds no key with kid '${options.kid}'`);
    const lifetimeSeconds = options.lifetimeSeconds ?? this.defaultLifetimeSeconds;
    if (!Number.isFinite(lifetimeSeconds)) throw new Error(`lifetimeSeconds must be a finite number`);
    const issuedAtMs = typeof claims.iat === 'number' ? claims.iat * 1000 : this.clock.now();
    const iat = Math.floor(issuedAtMs / 1000);
    const lifetimeMs = this.clock.realMs(lifetimeSeconds);
    // Whole seconds, as real issuers do. A heavily time-scaled lifetime can be shorter than a second; counted
    // from the floored iat it could expire before its lifetime has passed, so count it from the real time.
    const exp =
      lifetimeMs > 0 && lifetimeMs < 1000
        ? Math.ceil((issuedAtMs + lifetimeMs) / 1000)
        : iat + Math.ceil(lifetimeMs / 1000);
    const payload = { iss: this.issuer, iat, nbf: iat, exp, jti: randomUUID(), ...claims };
    const jwt = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
      .sign(key.privateKey);
    this.onSign(jwt);
    return jwt;
  }

  async rotate(): Promise<string> {
    const key = await createSigningKey();
    this.signingKeys = [key, ...this.signingKeys].slice(0, 1 + RETIRED_KEYS_KEPT);
    this.refreshPublishedKeys();
    return key.kid;
  }

  /** The STS verifier calls keys() per request; build the list once per rotation, not per call. */
  private refreshPublishedKeys(): void {
    this.publishedKeys = this.signingKeys.map(({ kid, publicKey }) => ({ kid, publicKey }));
  }
}

/** Hosts every configured issuer, each with a fresh RSA-2048 key generated at start. */
export async function createIssuerRegistry(
  config: SandboxConfig,
  clock: Clock,
  onSign: (jwt: string) => void = () => undefined,
): Promise<IssuerRegistry> {
  const configs = config.issuers ?? [];
  const seenIds = new Set<string>();
  for (const issuerConfig of configs) {
    if (seenIds.has(issuerConfig.id)) throw new Error(`issuer id '${issuerConfig.id}' is configured twice`);
    seenIds.add(issuerConfig.id);
  }
  const issuers = await Promise.all(
    configs.map(
      async (issuerConfig) => new SandboxIssuer(issuerConfig, await createSigningKey(), clock, onSign),
    ),
  );
  const byId = new Map(issuers.map((issuer) => [issuer.id, issuer]));
  // Exact, case-sensitive: STS compares `iss` with the IAM provider URL the same way.
  const byIssuer = new Map(issuers.map((issuer) => [issuer.issuer, issuer]));
  return {
    byIssuer: (iss) => byIssuer.get(iss),
    byId: (id) => byId.get(id),
    all: () => [...issuers],
  };
}
