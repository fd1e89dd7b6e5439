import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { MemoryReporter } from '../../report/reporter';
import { FakeHttpServer, type FakeReply } from '../../../test/support/http-fake';
import { makeJwt } from '../../../test/support/jwt';
import { TokenSourceError } from '../errors';
import { AzureDevOpsTokenSource } from './azure-devops';
import type { TokenSourceContext } from './context';

const connectionId = '6c1e2f0a-0000-4000-8000-000000000001';
const accessToken = 'ado-system-access-token-value';

describe('AzureDevOpsTokenSource', () => {
  let replies: FakeReply[] = [];
  const jwt = makeJwt({
    iss: 'https://vstoken.dev.azure.com/org-guid',
    aud: 'api://AzureADTokenExchange',
    sub: 'sc://org/proj/aws',
  });
  const server = new FakeHttpServer(
    () => replies.shift() ?? { status: 200, body: JSON.stringify({ oidcToken: jwt }) },
  );
  before(() => server.start());
  after(() => server.close());
  afterEach(() => {
    replies = [];
    server.requests.length = 0;
  });

  const requestUri = () =>
    `${server.url}/org/proj-id/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken`;
  const context = (env: NodeJS.ProcessEnv = {}): TokenSourceContext => ({
    env: { SYSTEM_OIDCREQUESTURI: requestUri(), SYSTEM_ACCESSTOKEN: accessToken, ...env },
    reporter: new MemoryReporter(),
    sleep: async () => undefined,
    retryDelaysMs: [0, 0, 0],
  });
  const source = (ctx = context(), uri?: string) =>
    new AzureDevOpsTokenSource({ serviceConnectionId: connectionId, oidcRequestUri: uri }, ctx);

  it('POSTs {} with the access token and connection id and returns oidcToken', async () => {
    const ctx = context();
    const token = await source(ctx).getToken();
    assert.equal(token.jwt, jwt);
    assert.equal(token.claims.sub, 'sc://org/proj/aws');
    const request = server.requests[0];
    assert.equal(request?.method, 'POST');
    assert.equal(request?.body, '{}');
    assert.equal(request?.headers.authorization, `Bearer ${accessToken}`);
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.equal(request?.headers['x-tfs-fedauthredirect'], 'Suppress');
    const url = new URL(request?.url ?? '', server.url);
    assert.equal(url.searchParams.get('api-version'), '7.1');
    assert.equal(url.searchParams.get('serviceConnectionId'), connectionId);
    assert.ok(ctx.reporter.secrets.has(accessToken) && ctx.reporter.secrets.has(jwt));
  });

  it('appends with & when the request URI already has a query', async () => {
    await source(context(), `${requestUri()}?foo=bar`).getToken();
    assert.match(server.requests[0]?.url ?? '', /\?foo=bar&api-version=7\.1&serviceConnectionId=/);
  });

  it('explains a missing System.AccessToken', async () => {
    await assert.rejects(source(context({ SYSTEM_ACCESSTOKEN: '' })).getToken(), (error: unknown) => {
      assert.ok(error instanceof TokenSourceError);
      assert.match(error.fix ?? '', /SYSTEM_ACCESSTOKEN: \$\(System\.AccessToken\)/);
      assert.match(error.fix ?? '', /Allow scripts to access the OAuth token/);
      return true;
    });
    assert.equal(server.requests.length, 0);
  });

  it('explains 401 without retrying', async () => {
    replies = [{ status: 401, body: '{"message":"TF400813: not authorized"}' }];
    await assert.rejects(source().getToken(), /refused the OIDC request \(HTTP 401: TF400813/);
    assert.equal(server.requests.length, 1);
  });

  it('explains 404 as a wrong service connection id', async () => {
    replies = [{ status: 404, body: '{"message":"not found"}' }];
    await assert.rejects(source().getToken(), new RegExp(`no service connection ${connectionId}`));
    assert.equal(server.requests.length, 1);
  });

  it('explains an HTML sign-in page', async () => {
    replies = [
      {
        status: 200,
        body: '<!DOCTYPE html><html><head><title>Sign in</title></head></html>',
        headers: { 'Content-Type': 'text/html' },
      },
    ];
    await assert.rejects(source().getToken(), /sign-in page/);
  });

  it('retries 5xx and 429, then succeeds', async () => {
    replies = [{ status: 503 }, { status: 429 }];
    assert.equal((await source().getToken()).jwt, jwt);
    assert.equal(server.requests.length, 3);
  });

  it('retries timeouts a few times, then explains', async () => {
    replies = ['hang', 'hang', 'hang', 'hang'];
    const ctx = { ...context(), timeoutMs: 100 };
    await assert.rejects(source(ctx).getToken(), /could not be reached: .*did not answer within 100 ms/);
    assert.equal(server.requests.length, 4);
  });
});
