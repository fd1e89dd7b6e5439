// Hostile conditions, the sandbox's own security: it listens on loopback only, refuses unsigned and badly
// signed requests to the signed APIs (with AWS's codes, and without doing anything), and refuses every forged
// token of the battery in packages/sandbox/test/forged-token-cases.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { startSandbox, type RunningSandbox } from '@keyless/sandbox';
import {
  assertRefused,
  assumeOnWire,
  createForgeKit,
  forgedTokenCases,
  forgedTokenConfig,
} from '../../../sandbox/test/forged-token-cases';
import { startTestSandbox, type TestSandbox } from '../support';
import { HostileCollector } from './collector';
import { outsideAddresses, tryConnect } from './sample-system';

const collector = new HostileCollector('security');

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

interface SignedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  service: string;
}

/** A SigV4 signer written from the specification, independent of both the SDK and the sandbox. */
function sign(url: string, request: SignedRequest, keys: Keys, date = new Date()): Record<string, string> {
  const target = new URL(request.path, url);
  const amzDate = date.toISOString().replace(/[-:]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  const hmac = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text).digest();
  const payloadHash = sha256(request.body);
  const headers: Record<string, string> = {
    ...request.headers,
    host: target.host,
    'x-amz-date': amzDate,
    'x-amz-content-sha256': payloadHash,
    ...(keys.sessionToken ? { 'x-amz-security-token': keys.sessionToken } : {}),
  };
  const names = Object.keys(headers)
    .map((name) => name.toLowerCase())
    .sort();
  const lower = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const canonicalHeaders = names
    .map((name) => `${name}:${lower[name]!.trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const signedHeaders = names.join(';');
  const encode = (text: string) =>
    encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = [...target.searchParams]
    .map(([key, value]) => `${encode(key)}=${encode(value)}`)
    .sort()
    .join('&');
  const canonical = [
    request.method,
    target.pathname,
    query,
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${day}/us-east-1/${request.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key: Buffer = hmac(`AWS4${keys.secretAccessKey}`, day);
  for (const part of ['us-east-1', request.service, 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${keys.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

interface Answer {
  status: number;
  body: string;
}

async function send(
  url: string,
  request: SignedRequest,
  headers: Record<string, string>,
  body = request.body,
) {
  const response = await fetch(new URL(request.path, url), {
    method: request.method,
    headers,
    ...(request.method === 'GET' || request.method === 'HEAD' ? {} : { body }),
  });
  return { status: response.status, body: await response.text() } satisfies Answer;
}

/** The error code in any of the wire protocols (query XML, S3 XML, JSON 1.1). */
function errorCode(answer: Answer): string | undefined {
  return (
    /<Code>([^<]+)<\/Code>/.exec(answer.body)?.[1] ??
    (/"__type"\s*:\s*"(?:[^"#]*#)?([^"]+)"/.exec(answer.body)?.[1] || undefined)
  );
}

const template = JSON.stringify({
  Resources: { Parameter: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: 'x' } } },
});
const trust = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});
const form = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
const json = (operation: string) => ({
  'content-type': 'application/x-amz-json-1.1',
  'x-amz-target': `CodeDeploy_20141006.${operation}`,
});

/** One mutating request per signed API, naming a resource that must not exist afterwards. */
function mutations(
  name: string,
  bucket: string,
): Array<{ api: string; protocol: 'query' | 'json' | 's3'; request: SignedRequest }> {
  return [
    {
      api: 'CloudFormation CreateStack',
      protocol: 'query',
      request: {
        method: 'POST',
        path: '/',
        service: 'cloudformation',
        headers: form,
        body: new URLSearchParams({
          Action: 'CreateStack',
          Version: '2010-05-15',
          StackName: name,
          TemplateBody: template,
        }).toString(),
      },
    },
    {
      api: 'IAM CreateRole',
      protocol: 'query',
      request: {
        method: 'POST',
        path: '/',
        service: 'iam',
        headers: form,
        body: new URLSearchParams({
          Action: 'CreateRole',
          Version: '2010-05-08',
          RoleName: name,
          AssumeRolePolicyDocument: trust,
        }).toString(),
      },
    },
    {
      api: 'CodeDeploy CreateApplication',
      protocol: 'json',
      request: {
        method: 'POST',
        path: '/',
        service: 'codedeploy',
        headers: json('CreateApplication'),
        body: JSON.stringify({ applicationName: name, computePlatform: 'Server' }),
      },
    },
    {
      api: 'S3 PutObject',
      protocol: 's3',
      request: {
        method: 'PUT',
        path: `/${bucket}/${name}.txt`,
        service: 's3',
        headers: { 'content-type': 'text/plain' },
        body: `written by ${name}`,
      },
    },
  ];
}

/** What AWS answers each protocol for each kind of bad authentication. */
const expected: Record<string, Record<'query' | 'json' | 's3', [number, string]>> = {
  unsigned: {
    query: [403, 'MissingAuthenticationToken'],
    json: [400, 'MissingAuthenticationTokenException'],
    s3: [403, 'AccessDenied'],
  },
  'wrong secret key': {
    query: [403, 'SignatureDoesNotMatch'],
    json: [400, 'InvalidSignatureException'],
    s3: [403, 'SignatureDoesNotMatch'],
  },
  'unknown access key': {
    query: [403, 'InvalidClientTokenId'],
    json: [400, 'UnrecognizedClientException'],
    s3: [403, 'InvalidAccessKeyId'],
  },
  'body changed after signing': {
    query: [403, 'SignatureDoesNotMatch'],
    json: [400, 'InvalidSignatureException'],
    s3: [400, 'XAmzContentSHA256Mismatch'],
  },
  'signed 20 minutes ago': {
    query: [403, 'SignatureDoesNotMatch'],
    json: [400, 'InvalidSignatureException'],
    s3: [403, 'RequestTimeTooSkewed'],
  },
  'expired session': {
    query: [403, 'ExpiredToken'],
    json: [400, 'ExpiredTokenException'],
    s3: [400, 'ExpiredToken'],
  },
  'forged session token': {
    query: [403, 'InvalidClientTokenId'],
    json: [400, 'UnrecognizedClientException'],
    s3: [400, 'InvalidToken'],
  },
};

describe('hostile: the sandbox defends itself', { timeout: 120_000 }, () => {
  let t: TestSandbox;
  let refusals = 0;
  const bucket = `hostile-${randomBytes(4).toString('hex')}`;

  before(async () => {
    // 3-second sessions: one of them is left to expire.
    t = await startTestSandbox({ maxSessionSeconds: 3 });
  });

  after(async () => {
    await t?.sandbox.close();
    collector.count('refusals', refusals);
    await collector.persist();
  });

  test('it listens on 127.0.0.1 only: a non-loopback address of this machine is refused', async () => {
    const { hostname, port } = new URL(t.url);
    assert.equal(hostname, '127.0.0.1');
    assert.equal(await tryConnect('127.0.0.1', Number(port)), 'connected', 'control: loopback answers');
    const outside = outsideAddresses();
    if (outside.length === 0) {
      // No other interface here: the listening address above is the evidence.
      return;
    }
    for (const address of outside) {
      assert.equal(await tryConnect(address, Number(port)), 'ECONNREFUSED', `${address}:${port}`);
    }
  });

  test('unsigned and badly signed requests to CloudFormation, IAM, CodeDeploy and S3 are refused with AWS codes, and change nothing', async () => {
    const url = t.url;
    const root: Keys = t.root;
    // Controls: the same requests, correctly signed, work (so the refusals below are about the signature).
    const create = await send(url, s3Bucket(bucket), sign(url, s3Bucket(bucket), root));
    assert.equal(create.status, 200, create.body);
    for (const { api, request } of mutations('hostile-control', bucket)) {
      const answer = await send(url, request, sign(url, request, root));
      assert.equal(answer.status, 200, `${api}: ${answer.body}`);
    }

    const session = await sessionKeys(t);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const forgedToken = { ...root, sessionToken: randomBytes(64).toString('base64') };
    const unknown = {
      accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: root.secretAccessKey,
    };
    const wrongSecret = {
      accessKeyId: root.accessKeyId,
      secretAccessKey: randomBytes(30).toString('base64url'),
    };
    collector.addSecrets([wrongSecret.secretAccessKey, forgedToken.sessionToken]);

    const problems: string[] = [];
    for (const { api, protocol, request } of mutations('hostile-forged', bucket)) {
      const attempts: Record<string, () => Promise<Answer>> = {
        unsigned: () => send(url, request, { ...request.headers }),
        'wrong secret key': () => send(url, request, sign(url, request, wrongSecret)),
        'unknown access key': () => send(url, request, sign(url, request, unknown)),
        'body changed after signing': () =>
          send(
            url,
            request,
            sign(url, request, root),
            request.body.replace('hostile-forged', 'hostile-forgex'),
          ),
        'signed 20 minutes ago': () =>
          send(url, request, sign(url, request, root, new Date(Date.now() - 20 * 60_000))),
        'expired session': () => send(url, request, sign(url, request, session)),
        'forged session token': () => send(url, request, sign(url, request, forgedToken)),
      };
      for (const [kind, attempt] of Object.entries(attempts)) {
        const answer = await attempt();
        const [status, code] = expected[kind]![protocol];
        const got = `${answer.status} ${errorCode(answer)}`;
        if (got !== `${status} ${code}`)
          problems.push(
            `${api}, ${kind}: expected ${status} ${code}, got ${got}: ${answer.body.slice(0, 200)}`,
          );
        refusals++;
      }
    }
    // Nothing was created by any refused request (checked with the root keys), nor by the tampered bodies.
    const reads = (name: string): Array<[string, SignedRequest, number, string]> => [
      [
        `stack ${name}`,
        queryRequest('cloudformation', { Action: 'DescribeStacks', Version: '2010-05-15', StackName: name }),
        400,
        'ValidationError',
      ],
      [
        `role ${name}`,
        queryRequest('iam', { Action: 'GetRole', Version: '2010-05-08', RoleName: name }),
        404,
        'NoSuchEntity',
      ],
      [
        `application ${name}`,
        {
          method: 'POST',
          path: '/',
          service: 'codedeploy',
          headers: json('GetApplication'),
          body: JSON.stringify({ applicationName: name }),
        },
        400,
        'ApplicationDoesNotExistException',
      ],
      [
        `object ${name}.txt`,
        { method: 'GET', path: `/${bucket}/${name}.txt`, service: 's3', headers: {}, body: '' },
        404,
        'NoSuchKey',
      ],
    ];
    for (const [what, request, status, code] of [...reads('hostile-forged'), ...reads('hostile-forgex')]) {
      const answer = await send(url, request, sign(url, request, root));
      const got = `${answer.status} ${errorCode(answer)}`;
      if (got !== `${status} ${code}`)
        problems.push(`the ${what} must not exist: expected ${status} ${code}, got ${got}`);
    }
    // Every mismatch at once: a gap in one protocol should not hide the others.
    assert.deepEqual(problems, []);
  });

  test('every forged token of the battery is refused by STS, and a genuine one is not', async () => {
    const sandbox: RunningSandbox = await startSandbox({
      config: forgedTokenConfig(),
      port: 0,
      onSecret: (value) => collector.addSecret(value),
    });
    try {
      const kit = await createForgeKit(sandbox);
      const genuine = await assumeOnWire(sandbox.url, await kit.mint(kit.validClaims()));
      assert.equal(genuine.status, 200, 'control: a genuine token is accepted');
      let attempts = 0;
      for (const forged of forgedTokenCases) {
        for (const attempt of await forged.attempts(kit)) {
          const answer = await assumeOnWire(sandbox.url, attempt.token, attempt.params);
          try {
            assertRefused(answer, attempt);
          } catch (error) {
            throw new Error(`${forged.name}: ${(error as Error).message}`, { cause: error });
          }
          attempts++;
        }
      }
      assert.ok(forgedTokenCases.length >= 20 && attempts >= 29, `${attempts} forged tokens tried`);
      refusals += attempts;
    } finally {
      await sandbox.close();
    }
  });

  test('no secret reached any output of these checks', () => {
    collector.addSecrets(t.secrets);
    collector.addText('security sandbox log', t.logs.join('\n'));
    assert.ok(collector.secretCount > 3, `secrets were collected (${collector.secretCount})`);
    assert.deepEqual(collector.leaks(), []);
  });
});

function s3Bucket(bucket: string): SignedRequest {
  return { method: 'PUT', path: `/${bucket}`, service: 's3', headers: {}, body: '' };
}

function queryRequest(service: string, params: Record<string, string>): SignedRequest {
  return { method: 'POST', path: '/', service, headers: form, body: new URLSearchParams(params).toString() };
}

/** Session keys of the test sandbox's role, through the real web identity flow (they expire in 3 s). */
async function sessionKeys(t: TestSandbox): Promise<Keys> {
  const token = await t.sandbox.control.mintToken('entra', { aud: t.ids.audience, sub: t.ids.objectId });
  const answer = await fetch(t.url, {
    method: 'POST',
    headers: form,
    body: new URLSearchParams({
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: t.ids.roleArn,
      RoleSessionName: 'hostile-expiry',
      WebIdentityToken: token,
    }).toString(),
  }).then((response) => response.text());
  const field = (name: string) => new RegExp(`<${name}>([^<]+)</${name}>`).exec(answer)?.[1] ?? '';
  const keys = {
    accessKeyId: field('AccessKeyId'),
    secretAccessKey: field('SecretAccessKey'),
    sessionToken: field('SessionToken'),
  };
  assert.ok(keys.accessKeyId.startsWith('ASIA'), answer.slice(0, 200));
  return keys;
}
