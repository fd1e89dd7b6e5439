import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { Clock } from '../clock';
import {
  checkInjectedFaults,
  manualClock,
  startIdentityServer,
  TENANT_ID,
  testConfig,
  verifyWithServedJwks,
  type IdentityTestServer,
} from './test-support';

const AGENT = testConfig().azure!.managedIdentities[0]!;
const OTHER = testConfig().azure!.managedIdentities[1]!;

function imds(server: IdentityTestServer, query: Record<string, string>, init: RequestInit = {}) {
  const url = `${server.url}/metadata/identity/oauth2/token?${new URLSearchParams(query).toString()}`;
  return fetch(url, { headers: { Metadata: 'true' }, ...init });
}

const valid = { 'api-version': '2018-02-01', resource: 'api://keyless-aws', client_id: AGENT.clientId };

describe('Azure IMDS managed-identity tokens', () => {
  let server: IdentityTestServer;
  before(async () => {
    server = await startIdentityServer();
  });
  after(() => server.close());

  it('issues a v1 access token with Azure’s response fields and claims', async () => {
    const response = await imds(server, valid);
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, string>;
    assert.deepEqual(Object.keys(body).sort(), [
      'access_token',
      'client_id',
      'expires_in',
      'expires_on',
      'ext_expires_in',
      'not_before',
      'refresh_token',
      'resource',
      'token_type',
    ]);
    for (const field of ['expires_in', 'expires_on', 'ext_expires_in', 'not_before']) {
      assert.equal(typeof body[field], 'string', `${field} is an epoch-seconds string`);
      assert.match(body[field]!, /^\d+$/);
    }
    assert.equal(body.refresh_token, '');
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.resource, 'api://keyless-aws');
    assert.equal(body.client_id, AGENT.clientId);

    const { payload } = await verifyWithServedJwks(server.url, 'entra', body.access_token!, {
      audience: 'api://keyless-aws',
    });
    assert.equal(payload.iss, `https://sts.windows.net/${TENANT_ID}/`);
    assert.equal(payload.sub, AGENT.objectId);
    assert.equal(payload.oid, AGENT.objectId);
    assert.equal(payload.appid, AGENT.clientId);
    assert.equal(payload.appidacr, '2');
    assert.equal(payload.idp, `https://sts.windows.net/${TENANT_ID}/`);
    assert.equal(payload.idtyp, 'app');
    assert.equal(payload.tid, TENANT_ID);
    assert.equal(payload.ver, '1.0');
    assert.equal(payload.xms_mirid, AGENT.resourceId);
    assert.equal(payload.jti, undefined, 'Entra v1 tokens carry uti, not jti');
    assert.equal(typeof payload.uti, 'string');
    assert.equal(payload.exp! - payload.iat!, 24 * 3600);
    assert.equal(String(payload.exp), body.expires_on);
    assert.equal(String(payload.nbf), body.not_before);
    assert.ok(Math.abs(Number(body.expires_in) - 24 * 3600) <= 2);
    assert.ok(!server.logs.some((line) => line.includes(body.access_token!)), 'tokens never reach the log');
    assert.ok(
      server.logs.some((line) => line.includes('identity=agent-identity resource=api://keyless-aws -> 200')),
    );
  });

  it('selects the identity by client_id, object_id or msi_res_id, case-insensitively', async () => {
    const byObject = await imds(server, { ...valid, client_id: '', object_id: OTHER.objectId.toUpperCase() });
    // An empty client_id still counts as a selector, so this names two identities.
    assert.equal(byObject.status, 400);
    await byObject.text();
    const selectors: Array<Record<string, string>> = [
      { object_id: OTHER.objectId.toUpperCase() },
      { msi_res_id: OTHER.resourceId.toLowerCase() },
      { mi_res_id: OTHER.resourceId },
      { client_id: OTHER.clientId },
    ];
    for (const selector of selectors) {
      const response = await imds(server, {
        'api-version': '2019-08-01',
        resource: 'api://keyless-aws',
        ...selector,
      });
      assert.equal(response.status, 200, JSON.stringify(selector));
      const body = (await response.json()) as { access_token: string; client_id: string };
      assert.equal(body.client_id, OTHER.clientId);
      assert.equal(decodeJwt(body.access_token).oid, OTHER.objectId);
    }
  });

  it('rejects requests without the exact `Metadata: true` header', async () => {
    const headerSets: Array<Record<string, string>> = [{}, { Metadata: 'True' }, { Metadata: 'false' }];
    for (const headers of headerSets) {
      const response = await imds(server, valid, { headers });
      assert.equal(response.status, 400);
      assert.deepEqual(await response.json(), {
        error: 'invalid_request',
        error_description: 'Required metadata header not specified',
      });
    }
  });

  it('requires a supported api-version', async () => {
    const missing = await imds(server, { resource: 'api://keyless-aws', client_id: AGENT.clientId });
    assert.equal(missing.status, 400);
    const body = (await missing.json()) as { error: string; 'newest-versions': string[] };
    assert.match(body.error, /^Bad request\. api-version was not specified in the request/);
    assert.ok(body['newest-versions'].length > 0);
    const tooOld = await imds(server, { ...valid, 'api-version': '2017-09-01' });
    assert.equal(tooOld.status, 400);
    await tooOld.text();
  });

  it('requires a resource', async () => {
    const response = await imds(server, { 'api-version': '2018-02-01', client_id: AGENT.clientId });
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), {
      error: 'invalid_request',
      error_description: 'Required audience parameter not specified',
    });
  });

  it('rejects several selectors, unknown identities, and an ambiguous default', async () => {
    const several = await imds(server, { ...valid, object_id: AGENT.objectId });
    assert.equal(several.status, 400);
    assert.equal(((await several.json()) as { error: string }).error, 'invalid_request');

    const unknown = await imds(server, { ...valid, client_id: '99999999-9999-4999-8999-999999999999' });
    assert.equal(unknown.status, 400);
    assert.deepEqual(await unknown.json(), {
      error: 'invalid_request',
      error_description: 'Identity not found',
    });

    const ambiguous = await imds(server, { 'api-version': '2018-02-01', resource: 'api://keyless-aws' });
    assert.equal(ambiguous.status, 400);
    assert.deepEqual(await ambiguous.json(), {
      error: 'invalid_request',
      error_description:
        'Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request',
    });
  });

  it('answers invalid_resource (AADSTS50001) for resources the tenant does not know', async () => {
    const response = await imds(server, { ...valid, resource: 'api://unknown-app' });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'invalid_resource');
    assert.ok(
      body.error_description.startsWith(
        `AADSTS50001: The application named api://unknown-app was not found in the tenant named ${TENANT_ID}.`,
      ),
    );
  });

  it('accepts a resource with or without its trailing slash and puts it verbatim in aud', async () => {
    const response = await imds(server, { ...valid, resource: 'https://management.azure.com' });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { access_token: string; resource: string };
    assert.equal(body.resource, 'https://management.azure.com');
    assert.equal(decodeJwt(body.access_token).aud, 'https://management.azure.com');
  });

  it('only answers GET', async () => {
    const response = await imds(server, valid, { method: 'POST', headers: { Metadata: 'true' } });
    assert.equal(response.status, 405);
    await response.text();
  });

  it('returns its cached token for the same identity and resource', async () => {
    const first = (await (await imds(server, valid)).json()) as { access_token: string };
    const second = (await (await imds(server, valid)).json()) as { access_token: string };
    assert.equal(second.access_token, first.access_token);
    const otherResource = (await (
      await imds(server, { ...valid, resource: 'https://management.azure.com/' })
    ).json()) as {
      access_token: string;
    };
    assert.notEqual(otherResource.access_token, first.access_token);
    assert.ok(server.logs.some((line) => line.endsWith('-> 200 (cached)')));
  });

  it('fails on demand the way IMDS does', async () => {
    await checkInjectedFaults(
      server,
      'azure-imds',
      (signal) => imds(server, valid, { headers: { Metadata: 'true' }, signal }),
      /^application\/json/,
    );
  });
});

describe('Azure IMDS timing', () => {
  it('refreshes the cached token once less than 5 simulated minutes remain', async () => {
    const { clock, advanceMs } = manualClock();
    const server = await startIdentityServer({ clock });
    try {
      const fetchToken = async () =>
        ((await (await imds(server, valid)).json()) as { access_token: string }).access_token;
      const first = await fetchToken();
      advanceMs((24 * 3600 - 6 * 60) * 1000);
      assert.equal(await fetchToken(), first, 'six minutes left: still cached');
      advanceMs(2 * 60 * 1000);
      const refreshed = await fetchToken();
      assert.notEqual(refreshed, first, 'four minutes left: a new token');
      assert.ok(decodeJwt(refreshed).exp! > decodeJwt(first).exp!);
    } finally {
      await server.close();
    }
  });

  it('shortens token lifetimes with the time scale and honours the issuer’s configured lifetime', async () => {
    const scaled = await startIdentityServer({ clock: new Clock(3600) });
    const config = testConfig();
    config.issuers![0]!.tokenLifetimeSeconds = 600;
    const configured = await startIdentityServer({ config });
    try {
      const scaledBody = (await (await imds(scaled, valid)).json()) as {
        access_token: string;
        expires_in: string;
      };
      const scaledClaims = decodeJwt(scaledBody.access_token);
      assert.equal(
        scaledClaims.exp! - scaledClaims.iat!,
        24,
        '24 simulated hours at 3600x last 24 real seconds',
      );
      assert.ok(Number(scaledBody.expires_in) <= 24);
      const configuredClaims = decodeJwt(
        ((await (await imds(configured, valid)).json()) as { access_token: string }).access_token,
      );
      assert.equal(configuredClaims.exp! - configuredClaims.iat!, 600);
    } finally {
      await Promise.all([scaled.close(), configured.close()]);
    }
  });

  it('picks the only identity when none is named, and is absent without an azure section', async () => {
    const single = testConfig();
    single.azure!.managedIdentities = [AGENT];
    const withOne = await startIdentityServer({ config: single });
    const noAzure = testConfig();
    delete noAzure.azure;
    const without = await startIdentityServer({ config: noAzure });
    try {
      const response = await imds(withOne, { 'api-version': '2018-02-01', resource: 'api://keyless-aws' });
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as { client_id: string }).client_id, AGENT.clientId);
      assert.equal(await (await imds(without, valid)).text(), 'not an identity route');
    } finally {
      await Promise.all([withOne.close(), without.close()]);
    }
  });
});
