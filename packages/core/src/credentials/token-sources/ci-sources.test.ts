import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryReporter } from '../../report/reporter';
import { FakeHttpServer } from '../../../test/support/http-fake';
import { makeJwt } from '../../../test/support/jwt';
import { InvalidInputError } from '../../errors';
import { TokenSourceError } from '../errors';
import { GitHubTokenSource } from './github';
import { GitLabTokenSource } from './gitlab';
import { createTokenSource } from './index';

describe('GitHubTokenSource', () => {
  const jwt = makeJwt({
    iss: 'https://token.actions.githubusercontent.com',
    aud: 'sts.amazonaws.com',
    sub: 'repo:o/r:ref:refs/heads/main',
  });
  const server = new FakeHttpServer(() => ({ status: 200, body: JSON.stringify({ value: jwt }) }));
  before(() => server.start());
  after(() => server.close());

  it('requests the token for the audience with the request token', async () => {
    const env = {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${server.url}/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'gh-request-token',
    };
    const reporter = new MemoryReporter();
    const token = await new GitHubTokenSource({}, { env, reporter }).getToken();
    assert.equal(token.jwt, jwt);
    const request = server.requests.at(-1);
    assert.match(request?.url ?? '', /\?api-version=2\.0&audience=sts\.amazonaws\.com$/);
    assert.equal(request?.headers.authorization, 'Bearer gh-request-token');
    assert.ok(reporter.secrets.has('gh-request-token'));
  });

  it('says to add id-token: write when the env is missing', async () => {
    await assert.rejects(
      new GitHubTokenSource({}, { env: {}, reporter: new MemoryReporter() }).getToken(),
      (error: unknown) => {
        assert.ok(error instanceof TokenSourceError);
        assert.match(error.fix ?? '', /permissions: id-token: write/);
        return true;
      },
    );
  });
});

describe('GitLabTokenSource', () => {
  it('re-reads the variable on every call', async () => {
    const env: NodeJS.ProcessEnv = { MY_TOKEN: makeJwt({ sub: 'a' }) };
    const source = new GitLabTokenSource(
      { tokenEnvVar: 'MY_TOKEN' },
      { env, reporter: new MemoryReporter() },
    );
    assert.equal((await source.getToken()).claims.sub, 'a');
    env.MY_TOKEN = makeJwt({ sub: 'b' });
    assert.equal((await source.getToken()).claims.sub, 'b');
  });

  it('shows the id_tokens YAML when the variable is missing', async () => {
    const source = new GitLabTokenSource({}, { env: {}, reporter: new MemoryReporter() });
    await assert.rejects(source.getToken(), (error: unknown) => {
      assert.ok(error instanceof TokenSourceError);
      assert.match(error.message, /GITLAB_OIDC_TOKEN/);
      assert.match(error.fix ?? '', /id_tokens: \{ GITLAB_OIDC_TOKEN: \{ aud: sts\.amazonaws\.com \} \}/);
      return true;
    });
  });

  it('refuses a value that is not a JWT, without printing it', async () => {
    const reporter = new MemoryReporter();
    const source = new GitLabTokenSource(
      {},
      { env: { GITLAB_OIDC_TOKEN: 'not-a-jwt-secret-value' }, reporter },
    );
    await assert.rejects(source.getToken(), (error: unknown) => {
      assert.ok(error instanceof TokenSourceError);
      assert.ok(!error.message.includes('not-a-jwt-secret-value'));
      return true;
    });
  });
});

describe('createTokenSource', () => {
  const ctx = { env: {}, reporter: new MemoryReporter() };
  it('chooses exactly the named provider', () => {
    assert.equal(createTokenSource({ provider: 'github' }, ctx).name, 'github');
    assert.equal(createTokenSource({ provider: 'gitlab' }, ctx).name, 'gitlab');
    assert.equal(createTokenSource({ provider: 'token-file', tokenFile: 'x' }, ctx).name, 'token-file');
    assert.equal(
      createTokenSource({ provider: 'azure-managed-identity', audience: 'api://a' }, ctx).name,
      'azure-managed-identity',
    );
    assert.equal(
      createTokenSource({ provider: 'azure-devops', serviceConnectionId: 'id' }, ctx).name,
      'azure-devops',
    );
  });
  it('never falls back for non-OIDC modes or missing inputs', () => {
    assert.throws(() => createTokenSource({ provider: 'access-keys' }, ctx), InvalidInputError);
    assert.throws(() => createTokenSource({ provider: 'azure-managed-identity' }, ctx), InvalidInputError);
    assert.throws(() => createTokenSource({ provider: 'token-file' }, ctx), InvalidInputError);
  });
});
