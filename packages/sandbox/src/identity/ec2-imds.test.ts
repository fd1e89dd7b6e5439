import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  checkInjectedFaults,
  manualClock,
  startIdentityServer,
  testConfig,
  TEST_ACCOUNT,
  type IdentityTestServer,
} from './test-support';

async function sessionToken(server: IdentityTestServer, ttl = '21600'): Promise<string> {
  const response = await fetch(`${server.url}/latest/api/token`, {
    method: 'PUT',
    headers: { 'X-aws-ec2-metadata-token-ttl-seconds': ttl },
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-aws-ec2-metadata-token-ttl-seconds'), ttl);
  return response.text();
}

function get(server: IdentityTestServer, path: string, token?: string, signal?: AbortSignal) {
  return fetch(`${server.url}${path}`, {
    headers: token === undefined ? {} : { 'X-aws-ec2-metadata-token': token },
    ...(signal ? { signal } : {}),
  });
}

const CREDENTIALS_PATH = '/latest/meta-data/iam/security-credentials/';

describe('EC2 instance metadata (IMDSv2)', () => {
  let server: IdentityTestServer;
  before(async () => {
    server = await startIdentityServer();
  });
  after(() => server.close());

  it('hands out role credentials through the token → role name → credentials sequence', async () => {
    const token = await sessionToken(server);
    const list = await get(server, CREDENTIALS_PATH, token);
    assert.equal(list.status, 200);
    assert.match(list.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(await list.text(), 'CodeDeployInstanceRole');

    const response = await get(server, `${CREDENTIALS_PATH}CodeDeployInstanceRole`, token);
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.match(text, /^\{\n {2}"Code" : "Success",\n/);
    const credentials = JSON.parse(text) as Record<string, string>;
    assert.deepEqual(Object.keys(credentials), [
      'Code',
      'LastUpdated',
      'Type',
      'AccessKeyId',
      'SecretAccessKey',
      'Token',
      'Expiration',
    ]);
    assert.equal(credentials.Type, 'AWS-HMAC');
    assert.match(credentials.AccessKeyId!, /^ASIA/);
    assert.match(credentials.Expiration!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(server.sessions.requests.at(-1), {
      roleArn: `arn:aws:iam::${TEST_ACCOUNT}:role/CodeDeployInstanceRole`,
      sessionName: 'i-0123456789abcdef0',
      durationSeconds: 21600,
    });
    assert.ok(
      !server.logs.some(
        (line) => line.includes(credentials.SecretAccessKey!) || line.includes(credentials.Token!),
      ),
    );

    const again = JSON.parse(
      await (await get(server, `${CREDENTIALS_PATH}CodeDeployInstanceRole`, token)).text(),
    ) as {
      AccessKeyId: string;
    };
    assert.equal(again.AccessKeyId, credentials.AccessKeyId, 'credentials are cached');
  });

  it('serves the instance identity document, region, instance id and listings', async () => {
    const token = await sessionToken(server, '60');
    const document = JSON.parse(
      await (await get(server, '/latest/dynamic/instance-identity/document', token)).text(),
    ) as Record<string, unknown>;
    assert.equal(document.accountId, TEST_ACCOUNT);
    assert.equal(document.instanceId, 'i-0123456789abcdef0');
    assert.equal(document.region, 'eu-west-1');
    assert.equal(document.availabilityZone, 'eu-west-1a');
    assert.equal(document.version, '2017-09-30');
    for (const field of ['architecture', 'imageId', 'instanceType', 'pendingTime', 'privateIp']) {
      assert.equal(typeof document[field], 'string', field);
    }
    assert.equal(await (await get(server, '/latest/meta-data/placement/region', token)).text(), 'eu-west-1');
    assert.equal(
      await (await get(server, '/latest/meta-data/instance-id', token)).text(),
      'i-0123456789abcdef0',
    );
    assert.match(await (await get(server, '/latest/meta-data/', token)).text(), /^ami-id\n.*iam\/\n/s);
    const info = JSON.parse(await (await get(server, '/latest/meta-data/iam/info', token)).text()) as Record<
      string,
      string
    >;
    assert.equal(
      info.InstanceProfileArn,
      `arn:aws:iam::${TEST_ACCOUNT}:instance-profile/CodeDeployInstanceRole`,
    );
  });

  it('rejects bad token TTLs and requests without a valid token', async () => {
    for (const ttl of ['0', '21601', 'abc', '']) {
      const response = await fetch(`${server.url}/latest/api/token`, {
        method: 'PUT',
        headers: { 'X-aws-ec2-metadata-token-ttl-seconds': ttl },
      });
      assert.equal(response.status, 400, `ttl '${ttl}'`);
      assert.match(await response.text(), /<title>400 - Bad Request<\/title>/);
    }
    const noHeader = await fetch(`${server.url}/latest/api/token`, { method: 'PUT' });
    assert.equal(noHeader.status, 400);
    await noHeader.text();
    const getToken = await fetch(`${server.url}/latest/api/token`);
    assert.equal(getToken.status, 405);
    await getToken.text();

    for (const token of [undefined, 'forged']) {
      const response = await get(server, '/latest/meta-data/instance-id', token);
      assert.equal(response.status, 401);
      assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await response.text(), /<h1>401 - Unauthorized<\/h1>/);
    }
  });

  it('answers 404 for unknown roles and paths', async () => {
    const token = await sessionToken(server);
    for (const path of [`${CREDENTIALS_PATH}SomeOtherRole`, '/latest/meta-data/nothing-here']) {
      const response = await get(server, path, token);
      assert.equal(response.status, 404);
      await response.text();
    }
  });

  it('fails on demand', async () => {
    const token = await sessionToken(server);
    await checkInjectedFaults(
      server,
      'ec2-imds',
      (signal) => get(server, '/latest/meta-data/instance-id', token, signal),
      /^text\/html/,
    );
  });
});

describe('EC2 instance metadata timing and configuration', () => {
  it('expires session tokens after their (simulated) TTL and refreshes credentials 15 minutes before expiry', async () => {
    const { clock, advanceMs } = manualClock();
    const server = await startIdentityServer({ clock });
    try {
      const shortToken = await sessionToken(server, '60');
      advanceMs(61_000);
      const expired = await get(server, '/latest/meta-data/instance-id', shortToken);
      assert.equal(expired.status, 401);
      await expired.text();

      const token = await sessionToken(server);
      const keyId = async () =>
        (
          JSON.parse(
            await (await get(server, `${CREDENTIALS_PATH}CodeDeployInstanceRole`, token)).text(),
          ) as { AccessKeyId: string }
        ).AccessKeyId;
      const first = await keyId();
      advanceMs((6 * 3600 - 16 * 60) * 1000);
      assert.equal(await keyId(), first, '16 minutes left: cached');
      advanceMs(2 * 60 * 1000);
      assert.notEqual(await keyId(), first, '14 minutes left: refreshed');
      assert.equal(server.sessions.requests.length, 2);
    } finally {
      await server.close();
    }
  });

  it('reports a role it cannot assume, and leaves /latest to others when EC2 is not configured', async () => {
    const withRole = await startIdentityServer({ roles: [] });
    const config = testConfig();
    delete config.ec2;
    const without = await startIdentityServer({ config });
    try {
      const token = await sessionToken(withRole);
      const failure = JSON.parse(
        await (await get(withRole, `${CREDENTIALS_PATH}CodeDeployInstanceRole`, token)).text(),
      ) as { Code: string };
      assert.equal(failure.Code, 'AssumeRoleUnauthorizedAccess');
      const response = await fetch(`${without.url}/latest/api/token`, {
        method: 'PUT',
        headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '60' },
      });
      assert.equal(await response.text(), 'not an identity route');
    } finally {
      await Promise.all([withRole.close(), without.close()]);
    }
  });
});
