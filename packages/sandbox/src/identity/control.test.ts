import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { gitlabClaims } from './gitlab';
import {
  startIdentityServer,
  TEST_ACCOUNT,
  TENANT_ID,
  verifyWithServedJwks,
  type IdentityTestServer,
} from './test-support';

function post(server: IdentityTestServer, path: string, body?: unknown) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

async function badRequest(response: Response): Promise<string> {
  assert.equal(response.status, 400);
  const body = (await response.json()) as { error: string; message: string };
  assert.equal(body.error, 'BadRequest');
  return body.message;
}

describe('control API', () => {
  let server: IdentityTestServer;
  before(async () => {
    server = await startIdentityServer();
  });
  after(() => server.close());

  it('reports health with every issuer and its discovery URL', async () => {
    const response = await fetch(`${server.url}/_sandbox/health`);
    assert.equal(response.status, 200);
    const health = (await response.json()) as {
      ok: boolean;
      accountId: string;
      region: string;
      issuers: unknown[];
    };
    assert.equal(health.ok, true);
    assert.equal(health.accountId, TEST_ACCOUNT);
    assert.equal(health.region, 'eu-west-1');
    assert.deepEqual(health.issuers[0], {
      id: 'entra',
      issuer: `https://sts.windows.net/${TENANT_ID}/`,
      discovery: `${server.url}/oidc/entra/.well-known/openid-configuration`,
    });
    assert.equal(health.issuers.length, 4);
  });

  it('mints tokens with given claims and lifetime', async () => {
    const response = await post(server, '/_sandbox/tokens', {
      issuer: 'github',
      claims: { sub: 'repo:a/b:ref:refs/heads/main', aud: 'sts.amazonaws.com' },
      lifetimeSeconds: 120,
    });
    assert.equal(response.status, 200);
    const { token } = (await response.json()) as { token: string };
    const { payload } = await verifyWithServedJwks(server.url, 'github', token, {
      audience: 'sts.amazonaws.com',
    });
    assert.equal(payload.exp! - payload.iat!, 120);
    const expired = decodeJwt(
      (
        (await (
          await post(server, '/_sandbox/tokens', { issuer: 'github', lifetimeSeconds: -60 })
        ).json()) as { token: string }
      ).token,
    );
    assert.ok(expired.exp! * 1000 < Date.now(), 'negative lifetimes mint already-expired tokens for tests');
  });

  it('mints realistic GitLab id_tokens', async () => {
    const response = await post(server, '/_sandbox/tokens', {
      kind: 'gitlab',
      audience: 'sts.amazonaws.com',
    });
    assert.equal(response.status, 200);
    const { token } = (await response.json()) as { token: string };
    const { payload } = await verifyWithServedJwks(server.url, 'gitlab', token, {
      audience: 'sts.amazonaws.com',
    });
    assert.equal(payload.iss, 'https://gitlab.example.com');
    assert.equal(payload.sub, 'project_path:group/sub/project:ref_type:branch:ref:main');
    assert.equal(payload.project_path, 'group/sub/project');
    assert.equal(payload.namespace_path, 'group/sub');
    assert.equal(payload.ref_protected, 'true');
    assert.ok(server.logs.some((line) => line.includes('sub=project_path:group/sub/project')));
  });

  it('builds GitLab claims for tags', () => {
    const claims = gitlabClaims(
      { issuer: 'gitlab', projectPath: 'team/app', ref: 'v1.0.0', refType: 'tag' },
      'aud-1',
    );
    assert.equal(claims.sub, 'project_path:team/app:ref_type:tag:ref:v1.0.0');
    assert.equal(claims.ref_path, 'refs/tags/v1.0.0');
    assert.equal(claims.aud, 'aud-1');
    assert.equal(claims.namespace_path, 'team');
    assert.match(String(claims.project_id), /^\d{8}$/);
    assert.deepEqual(
      claims,
      gitlabClaims({ issuer: 'gitlab', projectPath: 'team/app', ref: 'v1.0.0', refType: 'tag' }, 'aud-1'),
    );
  });

  it('validates token requests', async () => {
    assert.match(await badRequest(await post(server, '/_sandbox/tokens', 'not json')), /not valid JSON/);
    assert.match(await badRequest(await post(server, '/_sandbox/tokens', [])), /JSON object/);
    assert.match(await badRequest(await post(server, '/_sandbox/tokens', {})), /'issuer'/);
    assert.match(
      await badRequest(await post(server, '/_sandbox/tokens', { issuer: 'nope' })),
      /no hosted issuer 'nope'/,
    );
    assert.match(
      await badRequest(await post(server, '/_sandbox/tokens', { issuer: 'github', claims: 'x' })),
      /'claims'/,
    );
    assert.match(
      await badRequest(await post(server, '/_sandbox/tokens', { issuer: 'github', lifetimeSeconds: '60' })),
      /'lifetimeSeconds'/,
    );
    assert.match(
      await badRequest(await post(server, '/_sandbox/tokens', { issuer: 'github', kind: 'bitbucket' })),
      /'kind'/,
    );
    assert.match(await badRequest(await post(server, '/_sandbox/tokens', { kind: 'gitlab' })), /'audience'/);
    assert.match(
      await badRequest(await post(server, '/_sandbox/tokens', { issuer: 'github', extra: 1 })),
      /unknown field/,
    );
  });

  it('rotates issuer keys and answers 404 for unknown issuers', async () => {
    const response = await post(server, '/_sandbox/issuers/entra/rotate');
    assert.equal(response.status, 200);
    const { kid } = (await response.json()) as { kid: string };
    assert.equal(server.ctx.issuers.byId('entra')?.keys()[0]?.kid, kid);
    const unknown = await post(server, '/_sandbox/issuers/nope/rotate');
    assert.equal(unknown.status, 404);
    await unknown.text();
  });

  it('queues and clears faults', async () => {
    const queued = await post(server, '/_sandbox/faults', {
      target: 'sts',
      responses: [{ status: 500 }, { status: 'timeout', delayMs: 10 }, { status: 200, body: 'html' }],
    });
    assert.equal(queued.status, 204);
    assert.deepEqual(server.ctx.faults.next('sts'), { status: 500 });
    assert.deepEqual(server.ctx.faults.next('sts'), { status: 'timeout', delayMs: 10 });

    const cleared = await fetch(`${server.url}/_sandbox/faults`, { method: 'DELETE' });
    assert.equal(cleared.status, 204);
    assert.equal(server.ctx.faults.next('sts'), undefined);

    await post(server, '/_sandbox/faults', { target: 'iam', responses: [{ status: 500 }] });
    await post(server, '/_sandbox/faults', { target: 'sts', responses: [{ status: 500 }] });
    assert.equal((await fetch(`${server.url}/_sandbox/faults?target=iam`, { method: 'DELETE' })).status, 204);
    assert.equal(server.ctx.faults.next('iam'), undefined);
    assert.deepEqual(server.ctx.faults.next('sts'), { status: 500 });
  });

  it('validates fault requests', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ target: 'nope', responses: [] }, /'target' must be one of/],
      [{ target: 'sts' }, /'responses' must be an array/],
      [{ target: 'sts', responses: [{ status: 99 }] }, /responses\[0\]\.status/],
      [{ target: 'sts', responses: [{ status: 500 }, 'x'] }, /responses\[1\] must be an object/],
      [{ target: 'sts', responses: [{ status: 500, body: 1 }] }, /body must be a string/],
      [{ target: 'sts', responses: [{ status: 500, delayMs: -1 }] }, /delayMs/],
      [{ target: 'sts', responses: [{ status: 500, extra: true }] }, /unknown field/],
    ];
    for (const [body, message] of cases) {
      assert.match(await badRequest(await post(server, '/_sandbox/faults', body)), message);
    }
    assert.match(
      await badRequest(await fetch(`${server.url}/_sandbox/faults?target=bogus`, { method: 'DELETE' })),
      /'target'/,
    );
    assert.equal(server.ctx.faults.next('sts'), undefined, 'invalid requests queue nothing');
  });

  it('leaves other /_sandbox paths to the AWS side', async () => {
    assert.equal(
      await (await fetch(`${server.url}/_sandbox/reset`, { method: 'POST' })).text(),
      'not an identity route',
    );
    assert.equal(
      await (await fetch(`${server.url}/_sandbox/health`, { method: 'POST' })).text(),
      'not an identity route',
    );
  });
});
