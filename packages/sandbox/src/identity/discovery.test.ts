import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import {
  checkInjectedFaults,
  startIdentityServer,
  TENANT_ID,
  verifyWithServedJwks,
  type IdentityTestServer,
} from './test-support';

describe('OIDC discovery and JWKS', () => {
  let server: IdentityTestServer;
  before(async () => {
    server = await startIdentityServer();
  });
  after(() => server.close());

  const mint = async (issuer: string, claims: Record<string, unknown>) => {
    const response = await fetch(`${server.url}/_sandbox/tokens`, {
      method: 'POST',
      body: JSON.stringify({ issuer, claims }),
    });
    assert.equal(response.status, 200);
    return ((await response.json()) as { token: string }).token;
  };

  it('serves a discovery document per issuer with the configured iss verbatim', async () => {
    const response = await fetch(`${server.url}/oidc/entra/.well-known/openid-configuration`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const document = (await response.json()) as Record<string, unknown>;
    assert.equal(document.issuer, `https://sts.windows.net/${TENANT_ID}/`);
    assert.equal(document.jwks_uri, `${server.url}/oidc/entra/jwks`);
    assert.deepEqual(document.id_token_signing_alg_values_supported, ['RS256']);
    assert.deepEqual(document.response_types_supported, ['id_token']);
    assert.ok(Array.isArray(document.subject_types_supported));
    assert.ok((document.claims_supported as string[]).includes('xms_mirid'));
    const github = (await (
      await fetch(`${server.url}/oidc/github/.well-known/openid-configuration`)
    ).json()) as {
      claims_supported: string[];
    };
    assert.ok(github.claims_supported.includes('job_workflow_ref'));
  });

  it('serves the public keys and lets a relying party verify a token end to end', async () => {
    const jwks = (await (await fetch(`${server.url}/oidc/github/jwks`)).json()) as {
      keys: Array<Record<string, unknown>>;
    };
    assert.equal(jwks.keys.length, 1);
    assert.deepEqual(Object.keys(jwks.keys[0]!).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
    const token = await mint('github', { sub: 'repo:o/r:ref:refs/heads/main', aud: 'sts.amazonaws.com' });
    const { payload } = await verifyWithServedJwks(server.url, 'github', token, {
      audience: 'sts.amazonaws.com',
    });
    assert.equal(payload.iss, 'https://token.actions.githubusercontent.com');
  });

  it('keeps old tokens verifiable across a key rotation while new ones carry the new kid', async () => {
    const before = await mint('ado', { sub: 'old', aud: 'x' });
    const oldKid = decodeProtectedHeader(before).kid;
    const rotated = await fetch(`${server.url}/_sandbox/issuers/ado/rotate`, { method: 'POST' });
    assert.equal(rotated.status, 200);
    const { kid } = (await rotated.json()) as { kid: string };
    assert.notEqual(kid, oldKid);
    const afterRotation = await mint('ado', { sub: 'new', aud: 'x' });
    assert.equal(decodeProtectedHeader(afterRotation).kid, kid);
    await verifyWithServedJwks(server.url, 'ado', before);
    await verifyWithServedJwks(server.url, 'ado', afterRotation);
    const jwks = (await (await fetch(`${server.url}/oidc/ado/jwks`)).json()) as {
      keys: Array<{ kid: string }>;
    };
    assert.deepEqual(
      jwks.keys.map((key) => key.kid),
      [kid, oldKid],
    );
  });

  it('answers 404 for unknown issuers and 405 for other methods', async () => {
    const unknown = await fetch(`${server.url}/oidc/nope/.well-known/openid-configuration`);
    assert.equal(unknown.status, 404);
    await unknown.text();
    const post = await fetch(`${server.url}/oidc/github/jwks`, { method: 'POST' });
    assert.equal(post.status, 405);
    await post.text();
    const notOurs = await fetch(`${server.url}/oidc/github/other`);
    assert.equal(await notOurs.text(), 'not an identity route');
  });

  it('fails on demand the way a web front end does', async () => {
    await checkInjectedFaults(
      server,
      'oidc-discovery',
      (signal) => fetch(`${server.url}/oidc/github/.well-known/openid-configuration`, { signal }),
      /^text\/plain/,
    );
  });
});
