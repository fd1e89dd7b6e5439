import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { Clock } from '../clock';
import {
  checkInjectedFaults,
  GITHUB_REQUEST_TOKEN,
  startIdentityServer,
  testConfig,
  verifyWithServedJwks,
  type IdentityTestServer,
} from './test-support';

function idToken(
  server: IdentityTestServer,
  query = 'api-version=2.0',
  token: string | null = GITHUB_REQUEST_TOKEN,
  signal?: AbortSignal,
) {
  return fetch(`${server.url}/_github/idtoken?${query}`, {
    headers: token === null ? {} : { Authorization: `Bearer ${token}` },
    ...(signal ? { signal } : {}),
  });
}

describe('GitHub Actions ID tokens', () => {
  let server: IdentityTestServer;
  before(async () => {
    server = await startIdentityServer();
  });
  after(() => server.close());

  it('answers {"count", "value"} with GitHub’s claims and timing', async () => {
    const response = await idToken(server, 'api-version=2.0&audience=sts.amazonaws.com');
    assert.equal(response.status, 200);
    const body = (await response.json()) as { count: number; value: string };
    assert.equal(body.count, body.value.length);
    const { payload } = await verifyWithServedJwks(server.url, 'github', body.value, {
      audience: 'sts.amazonaws.com',
    });
    assert.equal(payload.iss, 'https://token.actions.githubusercontent.com');
    assert.equal(payload.sub, 'repo:octo-org/octo-repo:ref:refs/heads/main');
    assert.equal(payload.repository, 'octo-org/octo-repo');
    assert.equal(payload.repository_owner, 'octo-org');
    assert.equal(payload.ref, 'refs/heads/main');
    assert.equal(payload.ref_type, 'branch');
    assert.match(String(payload.sha), /^[0-9a-f]{40}$/);
    assert.match(
      String(payload.job_workflow_ref),
      /^octo-org\/octo-repo\/\.github\/workflows\/.+@refs\/heads\/main$/,
    );
    for (const claim of ['workflow', 'run_id', 'run_attempt', 'actor', 'event_name', 'runner_environment']) {
      assert.equal(typeof payload[claim], 'string', claim);
    }
    assert.equal(payload.exp! - payload.iat!, 300, 'exp = iat + 5 min');
    assert.equal(payload.iat! - payload.nbf!, 600, 'nbf = iat - 10 min');
    assert.ok(!server.logs.some((line) => line.includes(body.value)), 'tokens never reach the log');
    assert.ok(server.logs.some((line) => line.includes('aud=sts.amazonaws.com -> 200')));
  });

  it('defaults the audience to the owner URL', async () => {
    const body = (await (await idToken(server)).json()) as { value: string };
    assert.equal(decodeJwt(body.value).aud, 'https://github.com/octo-org');
  });

  it('requires the request token and an api-version', async () => {
    for (const token of [null, 'wrong']) {
      const response = await idToken(server, 'api-version=2.0', token);
      assert.equal(response.status, 401);
      assert.equal(((await response.json()) as { typeKey: string }).typeKey, 'UnauthorizedRequestException');
    }
    const noVersion = await idToken(server, 'audience=x');
    assert.equal(noVersion.status, 400);
    await noVersion.text();
    const post = await fetch(`${server.url}/_github/idtoken?api-version=2.0`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${GITHUB_REQUEST_TOKEN}` },
    });
    assert.equal(post.status, 405);
    await post.text();
  });

  it('fails on demand', async () => {
    await checkInjectedFaults(
      server,
      'github-oidc',
      (signal) => idToken(server, 'api-version=2.0', GITHUB_REQUEST_TOKEN, signal),
      /^application\/json/,
    );
  });
});

describe('GitHub claim configuration', () => {
  it('uses the environment subject, extra claims, tag refs and the time scale', async () => {
    const config = testConfig();
    config.github = {
      ...config.github!,
      ref: 'refs/tags/v1.2.3',
      claims: { environment: 'production', actor: 'mona' },
    };
    const server = await startIdentityServer({ config, clock: new Clock(60) });
    try {
      const { value } = (await (await idToken(server)).json()) as { value: string };
      const claims = decodeJwt(value);
      assert.equal(claims.sub, 'repo:octo-org/octo-repo:environment:production');
      assert.equal(claims.environment, 'production');
      assert.equal(claims.actor, 'mona');
      assert.equal(claims.ref_type, 'tag');
      assert.equal(claims.exp! - claims.iat!, 5, '5 simulated minutes at 60x');
    } finally {
      await server.close();
    }
  });

  it('lets config.github.claims override sub outright', async () => {
    const config = testConfig();
    config.github = { ...config.github!, claims: { sub: 'repo:octo-org/octo-repo:pull_request' } };
    const server = await startIdentityServer({ config });
    try {
      const { value } = (await (await idToken(server)).json()) as { value: string };
      assert.equal(decodeJwt(value).sub, 'repo:octo-org/octo-repo:pull_request');
    } finally {
      await server.close();
    }
  });
});
