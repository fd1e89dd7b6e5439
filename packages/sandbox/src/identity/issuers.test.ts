import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  type JWK,
} from 'jose';
import { Clock } from '../clock';
import type { SandboxConfig } from '../config';
import { createIssuerRegistry } from './issuers';
import { manualClock } from './test-support';

const config: SandboxConfig = {
  issuers: [
    { id: 'github', issuer: 'https://token.actions.githubusercontent.com' },
    { id: 'short', issuer: 'https://short.example.com/path', tokenLifetimeSeconds: 120 },
  ],
};

describe('createIssuerRegistry', () => {
  it('hosts each issuer with an RSA key whose kid is its RFC 7638 thumbprint', async () => {
    const registry = await createIssuerRegistry(config, new Clock());
    assert.deepEqual(
      registry.all().map((issuer) => issuer.id),
      ['github', 'short'],
    );
    const issuer = registry.byId('github');
    assert.ok(issuer);
    const [jwk] = issuer.jwks().keys as JWK[];
    assert.ok(jwk);
    assert.equal(jwk.kty, 'RSA');
    assert.equal(jwk.alg, 'RS256');
    assert.equal(jwk.use, 'sig');
    assert.equal(jwk.d, undefined, 'the JWKS must never carry private parts');
    assert.equal(jwk.kid, await calculateJwkThumbprint({ kty: 'RSA', n: jwk.n, e: jwk.e }));
    assert.equal(issuer.keys()[0]?.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  });

  it('looks issuers up by exact, case-sensitive iss', async () => {
    const registry = await createIssuerRegistry(config, new Clock());
    assert.equal(registry.byIssuer('https://token.actions.githubusercontent.com')?.id, 'github');
    assert.equal(registry.byIssuer('https://TOKEN.actions.githubusercontent.com'), undefined);
    assert.equal(registry.byIssuer('https://token.actions.githubusercontent.com/'), undefined);
    assert.equal(registry.byId('nope'), undefined);
  });

  it('rejects duplicate issuer ids', async () => {
    await assert.rejects(
      createIssuerRegistry({ issuers: [config.issuers![0]!, config.issuers![0]!] }, new Clock()),
      /configured twice/,
    );
  });

  it('signs RS256 JWTs with iss/iat/nbf/exp/jti filled in and caller claims kept', async () => {
    const registry = await createIssuerRegistry(config, new Clock());
    const issuer = registry.byId('github')!;
    const token = await issuer.sign({ sub: 'repo:o/r:ref:refs/heads/main', aud: 'sts.amazonaws.com' });
    const header = decodeProtectedHeader(token);
    assert.deepEqual(header, { alg: 'RS256', kid: issuer.keys()[0]!.kid, typ: 'JWT' });
    const { payload } = await jwtVerify(token, createLocalJWKSet(issuer.jwks() as { keys: JWK[] }), {
      issuer: 'https://token.actions.githubusercontent.com',
      audience: 'sts.amazonaws.com',
    });
    assert.equal(payload.sub, 'repo:o/r:ref:refs/heads/main');
    assert.equal(payload.nbf, payload.iat);
    assert.equal(payload.exp! - payload.iat!, 3600, 'default lifetime is one hour');
    assert.match(String(payload.jti), /^[0-9a-f-]{36}$/);
    const explicit = decodeJwt(await issuer.sign({ jti: 'fixed', iss: 'https://override.example' }));
    assert.equal(explicit.jti, 'fixed');
    assert.equal(explicit.iss, 'https://override.example');
  });

  it('uses the configured lifetime, an explicit one, and scales both by the clock', async () => {
    const registry = await createIssuerRegistry(config, new Clock(60));
    const short = registry.byId('short')!;
    const scaled = decodeJwt(await short.sign({}));
    assert.equal(scaled.exp! - scaled.iat!, 2, '120 simulated s at timeScale 60 last 2 real s');
    const explicit = decodeJwt(await short.sign({}, { lifetimeSeconds: 3600 }));
    assert.equal(explicit.exp! - explicit.iat!, 60);
    const tiny = decodeJwt(await short.sign({}, { lifetimeSeconds: 1 }));
    assert.ok(tiny.exp! > tiny.iat! - 1 && tiny.exp! * 1000 > Date.now(), 'never born expired');
  });

  it('rotates keys, keeping the last two retired keys published and verifiable', async () => {
    const { clock } = manualClock();
    const registry = await createIssuerRegistry(config, clock);
    const issuer = registry.byId('github')!;
    const firstKid = issuer.keys()[0]!.kid;
    const oldToken = await issuer.sign({ sub: 'before-rotation' });
    const keysBefore = issuer.keys();
    assert.equal(issuer.keys(), keysBefore, 'keys() is built once per rotation, not per call');

    const secondKid = await issuer.rotate();
    assert.notEqual(secondKid, firstKid);
    assert.deepEqual(
      issuer.keys().map((key) => key.kid),
      [secondKid, firstKid],
    );
    assert.equal(decodeProtectedHeader(await issuer.sign({})).kid, secondKid);
    await jwtVerify(oldToken, createLocalJWKSet(issuer.jwks() as { keys: JWK[] }), {
      currentDate: new Date(clock.now()),
    });

    const thirdKid = await issuer.rotate();
    const fourthKid = await issuer.rotate();
    assert.deepEqual(
      issuer.jwks().keys.map((key) => key.kid),
      [fourthKid, thirdKid, secondKid],
      'only two retired keys are kept',
    );
    await assert.rejects(
      jwtVerify(oldToken, createLocalJWKSet(issuer.jwks() as { keys: JWK[] })),
      (error: Error) => error.name === 'JWKSNoMatchingKey',
    );
  });

  it('signs with a retained key on request and refuses unknown kids', async () => {
    const registry = await createIssuerRegistry(config, new Clock());
    const issuer = registry.byId('github')!;
    const firstKid = issuer.keys()[0]!.kid;
    await issuer.rotate();
    assert.equal(decodeProtectedHeader(await issuer.sign({}, { kid: firstKid })).kid, firstKid);
    await assert.rejects(issuer.sign({}, { kid: 'nope' }), /no key with kid 'nope'/);
  });
});
