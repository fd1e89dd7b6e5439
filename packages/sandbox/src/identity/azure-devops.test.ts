import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import {
  checkInjectedFaults,
  DEVOPS_ACCESS_TOKEN,
  DEVOPS_ORG_ID,
  startIdentityServer,
  testConfig,
  verifyWithServedJwks,
  type IdentityTestServer,
} from './test-support';

const DEVOPS = testConfig().azureDevOps!;
const CONNECTION = DEVOPS.serviceConnections[0]!;
const PLAN = '5ee5fa9b-185c-52bc-0624-8e87d1d5c9f8';
const JOB = '2e011469-bc90-4dc7-9242-012be179cb56';

function oidcRequestUri(
  server: IdentityTestServer,
  prefix = `/${DEVOPS.organization}`,
  project = DEVOPS.projectId,
) {
  return `${server.url}${prefix}/${project}/_apis/distributedtask/hubs/build/plans/${PLAN}/jobs/${JOB}/oidctoken`;
}

function requestToken(
  server: IdentityTestServer,
  options: {
    query?: string;
    token?: string | null;
    body?: string;
    uri?: string;
    signal?: AbortSignal;
    accept?: string;
  } = {},
) {
  const query = options.query ?? `api-version=7.1&serviceConnectionId=${CONNECTION.id}`;
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (options.token !== null) headers.Authorization = `Bearer ${options.token ?? DEVOPS_ACCESS_TOKEN}`;
  if (options.accept !== undefined) headers.Accept = options.accept;
  return fetch(`${options.uri ?? oidcRequestUri(server)}?${query}`, {
    method: 'POST',
    headers,
    body: options.body ?? '{}',
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

async function vssError(response: Response): Promise<{ message: string; typeKey: string }> {
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const body = (await response.json()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), [
    '$id',
    'errorCode',
    'eventId',
    'innerException',
    'message',
    'typeKey',
    'typeName',
  ]);
  assert.equal(body.$id, '1');
  assert.equal(body.innerException, null);
  assert.equal(body.errorCode, 0);
  assert.equal(body.eventId, 3000);
  return body as { message: string; typeKey: string };
}

describe('Azure DevOps service-connection OIDC tokens', () => {
  let server: IdentityTestServer;
  before(async () => {
    server = await startIdentityServer();
  });
  after(() => server.close());

  it('issues {"oidcToken"} with the service connection’s subject, audience and issuer', async () => {
    const response = await requestToken(server);
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, string>;
    assert.deepEqual(Object.keys(body), ['oidcToken']);
    const { payload } = await verifyWithServedJwks(server.url, 'ado', body.oidcToken!, {
      audience: 'api://AzureADTokenExchange',
    });
    assert.equal(payload.iss, `https://vstoken.dev.azure.com/${DEVOPS_ORG_ID}`);
    assert.equal(payload.sub, 'sc://contoso/web-app/aws-deploy');
    assert.equal(payload.exp! - payload.iat!, 600, 'about ten minutes');
    assert.ok(!server.logs.some((line) => line.includes(body.oidcToken!)), 'tokens never reach the log');
    assert.ok(
      server.logs.some((line) =>
        line.includes('serviceConnection=aws-deploy aud=api://AzureADTokenExchange -> 200'),
      ),
    );
  });

  it('accepts 7.1-preview.1, an api-version in the Accept header, a claims body, a project name and a collection prefix', async () => {
    const cases = [
      requestToken(server, { query: `api-version=7.1-preview.1&serviceConnectionId=${CONNECTION.id}` }),
      requestToken(server, {
        query: `serviceConnectionId=${CONNECTION.id.toUpperCase()}`,
        accept: 'application/json;api-version=7.1-preview.1',
      }),
      requestToken(server, { body: '{"extra":"claim"}' }),
      requestToken(server, { body: '' }),
      requestToken(server, { uri: oidcRequestUri(server, `/${DEVOPS.organization}`, DEVOPS.project) }),
      requestToken(server, { uri: oidcRequestUri(server, '/tfs/DefaultCollection') }),
      requestToken(server, { uri: oidcRequestUri(server, '') }),
    ];
    for (const response of await Promise.all(cases)) {
      assert.equal(response.status, 200);
      const { oidcToken } = (await response.json()) as { oidcToken: string };
      assert.equal(decodeJwt(oidcToken).sub, 'sc://contoso/web-app/aws-deploy');
    }
  });

  it('answers 401 with TF400813 for a missing or wrong System.AccessToken', async () => {
    for (const token of [null, 'wrong-token']) {
      const response = await requestToken(server, { token });
      assert.equal(response.status, 401);
      const error = await vssError(response);
      assert.equal(error.typeKey, 'UnauthorizedRequestException');
      assert.match(error.message, /^TF400813: /);
    }
  });

  it('rejects a missing or unknown service connection', async () => {
    const missing = await requestToken(server, { query: 'api-version=7.1' });
    assert.equal(missing.status, 400);
    assert.equal((await vssError(missing)).typeKey, 'ArgumentNullException');
    const unknown = await requestToken(server, {
      query: 'api-version=7.1&serviceConnectionId=00000000-0000-0000-0000-000000000000',
    });
    assert.equal(unknown.status, 404);
    const error = await vssError(unknown);
    assert.match(error.message, /00000000-0000-0000-0000-000000000000/);
  });

  it('rejects missing or too-old api-versions', async () => {
    const missing = await requestToken(server, { query: `serviceConnectionId=${CONNECTION.id}` });
    assert.equal(missing.status, 400);
    assert.equal((await vssError(missing)).typeKey, 'VssVersionNotSpecifiedException');
    const old = await requestToken(server, { query: `api-version=6.0&serviceConnectionId=${CONNECTION.id}` });
    assert.equal(old.status, 400);
    assert.equal((await vssError(old)).typeKey, 'VssVersionOutOfRangeException');
  });

  it('rejects unknown projects, non-object bodies and other methods', async () => {
    const project = await requestToken(server, {
      uri: oidcRequestUri(server, '/contoso', 'no-such-project'),
    });
    assert.equal(project.status, 404);
    assert.match((await vssError(project)).message, /^TF200016: /);
    for (const body of ['[1,2]', 'not json']) {
      const response = await requestToken(server, { body });
      assert.equal(response.status, 400);
      assert.equal((await vssError(response)).typeKey, 'ArgumentException');
    }
    const get = await fetch(
      `${oidcRequestUri(server)}?api-version=7.1&serviceConnectionId=${CONNECTION.id}`,
      {
        headers: { Authorization: `Bearer ${DEVOPS_ACCESS_TOKEN}` },
      },
    );
    assert.equal(get.status, 405);
    await vssError(get);
  });

  it('fails on demand the way Azure DevOps does', async () => {
    await checkInjectedFaults(
      server,
      'azure-devops-oidc',
      (signal) => requestToken(server, { signal }),
      /^application\/json/,
    );
  });
});
