import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, Agent } from 'node:http';
import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  IAMClient,
  ListOpenIDConnectProvidersCommand,
  ListRolesCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
  AddClientIDToOpenIDConnectProviderCommand,
  RemoveClientIDFromOpenIDConnectProviderCommand,
} from '@aws-sdk/client-iam';
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { startSandbox } from '../src/index';
import {
  ACCOUNT_ID,
  AUDIENCE,
  blogConfig,
  IDENTITY_OBJECT_ID,
  imdsToken,
  ISSUER,
  PROVIDER_ARN,
  PROVIDER_PATH,
  ROLE_ARN,
  ROLE_NAME,
  ROOT_KEYS,
  startTestSandbox,
  trustPolicy,
} from './support';

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

const sts = (url: string, credentials: Credentials) =>
  new STSClient({ endpoint: url, region: 'us-east-1', credentials: { ...credentials }, maxAttempts: 1 });
const iam = (url: string, credentials: Credentials = ROOT_KEYS) =>
  new IAMClient({ endpoint: url, region: 'us-east-1', credentials: { ...credentials }, maxAttempts: 1 });

async function expectAwsError(
  promise: Promise<unknown>,
  name: RegExp,
  message: string | RegExp,
  status: number,
): Promise<void> {
  await assert.rejects(promise, (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.match(error.name, name);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    assert.equal(error.$metadata?.httpStatusCode, status);
    return true;
  });
}

async function assumeWithImds(url: string, durationSeconds?: number) {
  const token = await imdsToken(url);
  const out = await sts(url, { accessKeyId: 'unused', secretAccessKey: 'unused' }).send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: ROLE_ARN,
      RoleSessionName: 'AWSAssumeRole',
      WebIdentityToken: token,
      DurationSeconds: durationSeconds,
    }),
  );
  const c = out.Credentials!;
  return {
    token,
    out,
    credentials: {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
    },
  };
}

test('the blog flow: IAM provider + role created with root keys, IMDS token assumed, GetCallerIdentity as the session', async () => {
  const t = await startTestSandbox({ config: blogConfig(false) });
  try {
    const url = t.sandbox.url;
    const created = await iam(url).send(
      new CreateOpenIDConnectProviderCommand({ Url: ISSUER, ClientIDList: [AUDIENCE], ThumbprintList: [] }),
    );
    assert.equal(created.OpenIDConnectProviderArn, PROVIDER_ARN);
    const provider = await iam(url).send(
      new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: PROVIDER_ARN }),
    );
    assert.equal(provider.Url, PROVIDER_PATH);
    assert.deepEqual(provider.ClientIDList, [AUDIENCE]);
    const list = await iam(url).send(new ListOpenIDConnectProvidersCommand({}));
    assert.deepEqual(list.OpenIDConnectProviderList, [{ Arn: PROVIDER_ARN }]);
    await expectAwsError(
      iam(url).send(new CreateOpenIDConnectProviderCommand({ Url: ISSUER, ClientIDList: [AUDIENCE] })),
      /^EntityAlreadyExists/,
      `Provider with url ${ISSUER} already exists.`,
      409,
    );
    await expectAwsError(
      iam(url).send(
        new CreateOpenIDConnectProviderCommand({ Url: 'http://insecure.example', ClientIDList: [] }),
      ),
      /^InvalidInput/,
      /https:\/\//,
      400,
    );

    const policyText = JSON.stringify(trustPolicy());
    const role = await iam(url).send(
      new CreateRoleCommand({
        RoleName: ROLE_NAME,
        AssumeRolePolicyDocument: policyText,
        Description: 'blog role',
      }),
    );
    assert.equal(role.Role?.Arn, ROLE_ARN);
    assert.match(role.Role?.RoleId ?? '', /^AROA[A-Z0-9]{17}$/);
    assert.equal(role.Role?.MaxSessionDuration, 3600);
    const got = await iam(url).send(new GetRoleCommand({ RoleName: ROLE_NAME }));
    // AWS returns the document URL-encoded; the SDK hands it over as-is.
    assert.deepEqual(JSON.parse(decodeURIComponent(got.Role!.AssumeRolePolicyDocument!)), trustPolicy());
    assert.equal((await iam(url).send(new ListRolesCommand({}))).Roles?.length, 1);
    await expectAwsError(
      iam(url).send(new CreateRoleCommand({ RoleName: ROLE_NAME, AssumeRolePolicyDocument: policyText })),
      /^EntityAlreadyExists/,
      `Role with name ${ROLE_NAME} already exists.`,
      409,
    );
    await expectAwsError(
      iam(url).send(new GetRoleCommand({ RoleName: 'missing' })),
      /^NoSuchEntity/,
      'The role with name missing cannot be found.',
      404,
    );
    await expectAwsError(
      iam(url).send(new CreateRoleCommand({ RoleName: 'bad', AssumeRolePolicyDocument: '{"Statement": ' })),
      /^MalformedPolicyDocument/,
      'This policy contains invalid Json',
      400,
    );
    await expectAwsError(
      iam(url).send(
        new CreateRoleCommand({
          RoleName: 'toolong',
          AssumeRolePolicyDocument: policyText,
          MaxSessionDuration: 50000,
        }),
      ),
      /^ValidationError/,
      "1 validation error detected: Value '50000' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200",
      400,
    );

    const { token, out, credentials } = await assumeWithImds(url);
    assert.equal(
      out.AssumedRoleUser?.Arn,
      `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${ROLE_NAME}/AWSAssumeRole`,
    );
    assert.equal(out.AssumedRoleUser?.AssumedRoleId, `${role.Role?.RoleId}:AWSAssumeRole`);
    assert.equal(out.SubjectFromWebIdentityToken, IDENTITY_OBJECT_ID);
    assert.equal(out.Provider, PROVIDER_ARN);
    assert.equal(out.Audience, AUDIENCE);
    assert.match(credentials.accessKeyId, /^ASIA[A-Z0-9]{16}$/);
    const lifetime = out.Credentials!.Expiration!.getTime() - Date.now();
    assert.ok(lifetime > 3590_000 && lifetime <= 3600_000, `lifetime ${lifetime}`);

    const me = await sts(url, credentials).send(new GetCallerIdentityCommand({}));
    assert.deepEqual(
      [me.Account, me.Arn, me.UserId],
      [ACCOUNT_ID, out.AssumedRoleUser?.Arn, out.AssumedRoleUser?.AssumedRoleId],
    );
    const root = await sts(url, ROOT_KEYS).send(new GetCallerIdentityCommand({}));
    assert.deepEqual(
      [root.Account, root.Arn, root.UserId],
      [ACCOUNT_ID, `arn:aws:iam::${ACCOUNT_ID}:root`, ACCOUNT_ID],
    );

    // IAM with an issued session works too (no permission policies are evaluated).
    await iam(url, credentials).send(
      new UpdateRoleCommand({ RoleName: ROLE_NAME, MaxSessionDuration: 7200 }),
    );
    assert.equal(
      (await iam(url).send(new GetRoleCommand({ RoleName: ROLE_NAME }))).Role?.MaxSessionDuration,
      7200,
    );
    assert.ok((await assumeWithImds(url, 7200)).credentials.accessKeyId);

    // Tightening the trust policy takes effect at once.
    await iam(url).send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: ROLE_NAME,
        PolicyDocument: JSON.stringify(trustPolicy('someone-else')),
      }),
    );
    await expectAwsError(
      assumeWithImds(url),
      /^AccessDenied/,
      'Not authorized to perform sts:AssumeRoleWithWebIdentity',
      403,
    );
    await iam(url).send(
      new RemoveClientIDFromOpenIDConnectProviderCommand({
        OpenIDConnectProviderArn: PROVIDER_ARN,
        ClientID: AUDIENCE,
      }),
    );
    await expectAwsError(assumeWithImds(url), /^InvalidIdentityToken/, 'Incorrect token audience', 400);
    await iam(url).send(
      new AddClientIDToOpenIDConnectProviderCommand({
        OpenIDConnectProviderArn: PROVIDER_ARN,
        ClientID: AUDIENCE,
      }),
    );
    await iam(url).send(new DeleteRoleCommand({ RoleName: ROLE_NAME }));
    await expectAwsError(
      iam(url).send(new DeleteRoleCommand({ RoleName: ROLE_NAME })),
      /^NoSuchEntity/,
      `The role with name ${ROLE_NAME} cannot be found.`,
      404,
    );

    t.assertLogsFreeOf([
      token,
      credentials.secretAccessKey,
      credentials.sessionToken,
      credentials.accessKeyId,
      ROOT_KEYS.secretAccessKey,
      ROOT_KEYS.accessKeyId,
    ]);
  } finally {
    await t.close();
  }
});

test('sessions expire for real: ExpiredToken after --max-session-seconds', async () => {
  const t = await startTestSandbox({ maxSessionSeconds: 1 });
  try {
    const { out, credentials, token } = await assumeWithImds(t.sandbox.url);
    assert.ok(out.Credentials!.Expiration!.getTime() - Date.now() <= 1000);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await expectAwsError(
      sts(t.sandbox.url, credentials).send(new GetCallerIdentityCommand({})),
      /^ExpiredToken/,
      'The security token included in the request is expired',
      403,
    );
    t.assertLogsFreeOf([token, credentials.secretAccessKey, credentials.sessionToken]);
  } finally {
    await t.close();
  }
});

test('timeScale shortens sessions without changing the wire format', async () => {
  const t = await startTestSandbox({ timeScale: 60 });
  try {
    const { out } = await assumeWithImds(t.sandbox.url);
    const lifetime = out.Credentials!.Expiration!.getTime() - Date.now();
    assert.ok(lifetime > 55_000 && lifetime <= 60_000, `lifetime ${lifetime}`);
  } finally {
    await t.close();
  }
});

test('bad credentials: SignatureDoesNotMatch, InvalidClientTokenId, MissingAuthenticationToken, bad session token', async () => {
  const t = await startTestSandbox();
  try {
    const url = t.sandbox.url;
    await expectAwsError(
      sts(url, { accessKeyId: ROOT_KEYS.accessKeyId, secretAccessKey: 'wrong-secret' }).send(
        new GetCallerIdentityCommand({}),
      ),
      /^SignatureDoesNotMatch/,
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      403,
    );
    await expectAwsError(
      sts(url, { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'whatever' }).send(
        new GetCallerIdentityCommand({}),
      ),
      /^InvalidClientTokenId/,
      'The security token included in the request is invalid.',
      403,
    );
    const { credentials, token } = await assumeWithImds(url);
    await expectAwsError(
      sts(url, { ...credentials, sessionToken: 'forged-session-token' }).send(
        new GetCallerIdentityCommand({}),
      ),
      /^InvalidClientTokenId/,
      'The security token included in the request is invalid.',
      403,
    );
    await expectAwsError(
      iam(url, { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey }).send(
        new ListRolesCommand({}),
      ),
      /^InvalidClientTokenId/,
      'The security token included in the request is invalid.',
      403,
    );
    const unsigned = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
    });
    assert.equal(unsigned.status, 403);
    assert.match(
      await unsigned.text(),
      /<Code>MissingAuthenticationToken<\/Code><Message>Request is missing Authentication Token<\/Message>/,
    );
    assert.ok(unsigned.headers.get('date'));
    assert.match(unsigned.headers.get('x-amzn-requestid') ?? '', /^[0-9a-f-]{36}$/);
    const unknownVersion = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=Foo&Version=1999-01-01',
    });
    assert.equal(unknownVersion.status, 400);
    assert.match(await unknownVersion.text(), /<Code>InvalidAction<\/Code>/);
    const unknownTarget = await fetch(url, {
      method: 'POST',
      headers: { 'x-amz-target': 'Nope_2020.Op', 'content-type': 'application/x-amz-json-1.1' },
      body: '{}',
    });
    assert.equal(unknownTarget.status, 400);
    assert.equal(unknownTarget.headers.get('x-amzn-errortype'), 'UnknownOperationException');
    const notFound = await fetch(`${url}/nothing-here`);
    assert.equal(notFound.status, 404);
    assert.ok(notFound.headers.get('x-amzn-requestid'));
    t.assertLogsFreeOf([
      token,
      credentials.secretAccessKey,
      credentials.sessionToken,
      'wrong-secret',
      'forged-session-token',
    ]);
  } finally {
    await t.close();
  }
});

test('AssumeRole: role chaining from a web-identity session, capped at one hour; root cannot assume roles', async () => {
  const config = blogConfig();
  config.iam!.roles!.push({
    name: 'deploy-target',
    maxSessionDuration: 43200,
    assumeRolePolicyDocument: {
      Statement: { Effect: 'Allow', Principal: { AWS: ROLE_ARN }, Action: 'sts:AssumeRole' },
    },
  });
  const t = await startTestSandbox({ config });
  try {
    const url = t.sandbox.url;
    const { credentials } = await assumeWithImds(url);
    const targetArn = `arn:aws:iam::${ACCOUNT_ID}:role/deploy-target`;
    const chained = await sts(url, credentials).send(
      new AssumeRoleCommand({ RoleArn: targetArn, RoleSessionName: 'chained' }),
    );
    assert.equal(
      chained.AssumedRoleUser?.Arn,
      `arn:aws:sts::${ACCOUNT_ID}:assumed-role/deploy-target/chained`,
    );
    const c = chained.Credentials!;
    const who = await sts(url, {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
    }).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, chained.AssumedRoleUser?.Arn);
    await expectAwsError(
      sts(url, credentials).send(
        new AssumeRoleCommand({ RoleArn: targetArn, RoleSessionName: 'long', DurationSeconds: 7200 }),
      ),
      /^ValidationError/,
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
      400,
    );
    await expectAwsError(
      sts(url, credentials).send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'self' })),
      /^AccessDenied/,
      `User: arn:aws:sts::${ACCOUNT_ID}:assumed-role/${ROLE_NAME}/AWSAssumeRole is not authorized to perform: sts:AssumeRole on resource: ${ROLE_ARN}`,
      403,
    );
    await expectAwsError(
      sts(url, ROOT_KEYS).send(new AssumeRoleCommand({ RoleArn: targetArn, RoleSessionName: 'root' })),
      /^AccessDenied/,
      'Roles may not be assumed by root accounts.',
      403,
    );
    t.assertLogsFreeOf([
      credentials.secretAccessKey,
      credentials.sessionToken,
      c.SecretAccessKey,
      c.SessionToken,
    ]);
  } finally {
    await t.close();
  }
});

test('injected STS faults come back AWS-shaped; close() ends keep-alive and never-answered sockets promptly', async () => {
  const t = await startTestSandbox();
  const url = t.sandbox.url;
  t.sandbox.control.queueFaults('sts', [{ status: 400 }, { status: 'timeout' }]);
  const throttled = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Action=AssumeRoleWithWebIdentity&Version=2011-06-15',
  });
  assert.equal(throttled.status, 400);
  assert.match(await throttled.text(), /<Code>Throttling<\/Code><Message>Rate exceeded<\/Message>/);

  const agent = new Agent({ keepAlive: true });
  const keptAlive = await new Promise<number>((resolve, reject) => {
    httpRequest(`${url}/_sandbox/health`, { agent }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });
  assert.equal(keptAlive, 200);
  const hanging = fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Action=AssumeRoleWithWebIdentity&Version=2011-06-15',
  }).catch((error: unknown) => error);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = Date.now();
  await t.close();
  assert.ok(Date.now() - started < 1000, 'close() must not wait for idle or unanswered sockets');
  assert.ok((await hanging) instanceof Error);
  agent.destroy();
});

test('config: seeded IAM errors name the key; the server binds loopback only', async () => {
  const config = blogConfig();
  config.iam!.roles!.push({ name: 'broken', assumeRolePolicyDocument: '{nope' });
  await assert.rejects(
    startSandbox({ config, port: 0 }),
    /iam\.roles\[1\] \(broken\): MalformedPolicyDocument: This policy contains invalid Json/,
  );
  const running = await startSandbox({ config: blogConfig(), port: 0 });
  try {
    assert.match(running.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  } finally {
    await running.close();
  }
});
