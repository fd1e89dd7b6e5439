import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { MemoryReporter } from '../../report/reporter';
import { closedPortUrl, FakeHttpServer, type FakeReply } from '../../../test/support/http-fake';
import { azureClaims, makeJwt } from '../../../test/support/jwt';
import { TokenSourceError } from '../errors';
import { AzureManagedIdentityTokenSource } from './azure-managed-identity';
import type { TokenSourceContext } from './context';

const audience = 'api://keyless-aws';

describe('AzureManagedIdentityTokenSource', () => {
  let replies: FakeReply[] = [];
  const jwt = makeJwt(azureClaims());
  const server = new FakeHttpServer(() => replies.shift() ?? { status: 200, body: tokenBody(jwt) });
  before(() => server.start());
  after(() => server.close());
  afterEach(() => {
    replies = [];
    server.requests.length = 0;
  });

  const sleeps: number[] = [];
  const context = (overrides: Partial<TokenSourceContext> = {}): TokenSourceContext => ({
    env: {},
    reporter: new MemoryReporter(),
    sleep: async (ms) => void sleeps.push(ms),
    retryDelaysMs: [0, 0, 0, 0, 0],
    ...overrides,
  });
  const source = (ctx = context(), extra: { clientId?: string; endpoint?: string | null } = {}) =>
    new AzureManagedIdentityTokenSource(
      {
        audience,
        clientId: extra.clientId,
        endpoint: extra.endpoint === null ? undefined : (extra.endpoint ?? server.url),
      },
      ctx,
    );

  it('asks IMDS for the audience with Metadata: true and the identity selector', async () => {
    const ctx = context();
    const token = await source(ctx, { clientId: 'cid-1' }).getToken();
    assert.equal(token.jwt, jwt);
    assert.equal(token.claims.aud, audience);
    assert.ok(token.expiresAt instanceof Date);
    const request = server.requests[0];
    const url = new URL(request?.url ?? '', server.url);
    assert.equal(url.pathname, '/metadata/identity/oauth2/token');
    assert.equal(url.searchParams.get('api-version'), '2018-02-01');
    assert.equal(url.searchParams.get('resource'), audience);
    assert.equal(url.searchParams.get('client_id'), 'cid-1');
    assert.equal(request?.headers.metadata, 'true');
    assert.ok(ctx.reporter.secrets.has(jwt), 'JWT registered');
  });

  it('uses AZURE_POD_IDENTITY_AUTHORITY_HOST when no endpoint is given', async () => {
    const token = await source(context({ env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: `${server.url}/` } }), {
      endpoint: null,
    }).getToken();
    assert.equal(token.jwt, jwt);
  });

  it('retries 404, 410, 429 and 5xx per the schedule, 5xx no sooner than 1 s', async () => {
    sleeps.length = 0;
    replies = [
      { status: 404, body: '' },
      { status: 410, body: '' },
      { status: 429, body: '{"error":"throttled"}' },
      { status: 500, body: '{"error":"unknown","error_description":"Failed to get token"}' },
    ];
    const token = await source().getToken();
    assert.equal(token.jwt, jwt);
    assert.equal(server.requests.length, 5);
    assert.deepEqual(sleeps, [0, 0, 0, 1000]);
  });

  it('uses the default Microsoft schedule 0, 2, 6, 14, 30 s', async () => {
    sleeps.length = 0;
    replies = Array.from({ length: 6 }, () => ({ status: 410, body: '' }));
    await assert.rejects(
      source(context({ retryDelaysMs: undefined, deadlineMs: 600_000 })).getToken(),
      TokenSourceError,
    );
    assert.deepEqual(sleeps, [0, 2000, 6000, 14000, 30000]);
    assert.equal(server.requests.length, 6);
  });

  it('honours a sane Retry-After', async () => {
    sleeps.length = 0;
    replies = [{ status: 429, body: '', headers: { 'Retry-After': '3' } }];
    await source().getToken();
    assert.deepEqual(sleeps, [3000]);
  });

  it('gives up when retries run out, saying what IMDS answered', async () => {
    replies = Array.from({ length: 6 }, () => ({
      status: 500,
      body: '{"error":"unknown","error_description":"boom"}',
    }));
    await assert.rejects(source().getToken(), (error: unknown) => {
      assert.ok(error instanceof TokenSourceError);
      assert.equal(error.source, 'azure-managed-identity');
      assert.match(error.message, /500: unknown — boom/);
      return true;
    });
  });

  it('fails fast on invalid_resource with the audience and a fix', async () => {
    replies = [
      {
        status: 400,
        body: '{"error":"invalid_resource","error_description":"AADSTS500011: The resource principal named api://keyless-aws was not found in the tenant"}',
      },
    ];
    await assert.rejects(source().getToken(), (error: unknown) => {
      assert.ok(error instanceof TokenSourceError);
      assert.match(error.message, /audience "api:\/\/keyless-aws" is not an App ID URI/);
      assert.match(error.message, /AADSTS500011/);
      assert.match(error.fix ?? '', /--audience/);
      return true;
    });
    assert.equal(server.requests.length, 1);
  });

  it('fails fast on an unknown identity', async () => {
    replies = [{ status: 400, body: '{"error":"invalid_request","error_description":"Identity not found"}' }];
    await assert.rejects(
      source(context(), { clientId: 'nope' }).getToken(),
      /client id nope\) is not attached/,
    );
    assert.equal(server.requests.length, 1);
  });

  it('fails fast when nothing listens, naming the endpoint and the fix', async () => {
    const closed = await closedPortUrl();
    await assert.rejects(source(context(), { endpoint: closed }).getToken(), (error: unknown) => {
      assert.ok(error instanceof TokenSourceError);
      assert.ok(error.message.includes(closed));
      assert.match(error.message, /ECONNREFUSED/);
      assert.match(error.fix ?? '', /Azure VM .*user-assigned managed identity|IMDS endpoint/);
      return true;
    });
  });

  it('retries a timeout', async () => {
    replies = ['hang'];
    const token = await source(context({ timeoutMs: 150 })).getToken();
    assert.equal(token.jwt, jwt);
    assert.equal(server.requests.length, 2);
  });

  it('rejects a 200 that carries HTML instead of a token', async () => {
    replies = [{ status: 200, body: '<html><body>proxy login</body></html>' }];
    await assert.rejects(source().getToken(), /without an access_token \(an HTML page\)/);
  });
});

function tokenBody(jwt: string): string {
  const now = Math.floor(Date.now() / 1000);
  return JSON.stringify({
    access_token: jwt,
    refresh_token: '',
    expires_in: '3599',
    expires_on: String(now + 3599),
    not_before: String(now),
    resource: audience,
    token_type: 'Bearer',
  });
}
