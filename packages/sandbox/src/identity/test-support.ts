/**
 * Test scaffolding for the identity endpoints: a hand-built SandboxContext and the identity routes mounted on
 * a plain node:http server on 127.0.0.1, port 0. Not part of the sandbox's runtime.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, jwtVerify, type JWTPayload, type JWTVerifyResult } from 'jose';
import { Clock } from '../clock';
import type { SandboxConfig } from '../config';
import type { FaultTarget, IssuedCredentials, SandboxContext, SessionIssuer } from '../context';
import { FaultInjector } from '../aws/fault-rules';
import { createFaultPlan } from './faults';
import { createIssuerRegistry } from './issuers';
import { createIdentityRoutes } from './routes';

export const TEST_ACCOUNT = '123456789012';
export const TENANT_ID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const DEVOPS_ORG_ID = 'a1b2c3d4-0000-4000-8000-00000000000a';
export const DEVOPS_ACCESS_TOKEN = 'system-access-token-for-tests';
export const GITHUB_REQUEST_TOKEN = 'github-request-token-for-tests';

/** A complete config: every issuer kind, two managed identities, Azure DevOps, GitHub, GitLab and EC2. */
export function testConfig(): SandboxConfig {
  return {
    account: { id: TEST_ACCOUNT, region: 'eu-west-1' },
    issuers: [
      { id: 'entra', kind: 'azure-ad', issuer: `https://sts.windows.net/${TENANT_ID}/` },
      { id: 'ado', kind: 'azure-devops', issuer: `https://vstoken.dev.azure.com/${DEVOPS_ORG_ID}` },
      { id: 'github', kind: 'github', issuer: 'https://token.actions.githubusercontent.com' },
      { id: 'gitlab', kind: 'gitlab', issuer: 'https://gitlab.example.com' },
    ],
    azure: {
      tenantId: TENANT_ID,
      issuer: 'entra',
      resources: ['api://keyless-aws', 'https://management.azure.com/'],
      managedIdentities: [
        {
          name: 'agent-identity',
          clientId: '11111111-1111-4111-8111-111111111111',
          objectId: '22222222-2222-4222-8222-222222222222',
          resourceId:
            '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/agent-identity',
        },
        {
          name: 'other-identity',
          clientId: '33333333-3333-4333-8333-333333333333',
          objectId: '44444444-4444-4444-8444-444444444444',
          resourceId:
            '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/other-identity',
        },
      ],
    },
    azureDevOps: {
      issuer: 'ado',
      organization: 'contoso',
      organizationId: DEVOPS_ORG_ID,
      project: 'web-app',
      projectId: '9f0c6f5e-1111-4222-8333-444455556666',
      accessToken: DEVOPS_ACCESS_TOKEN,
      serviceConnections: [{ id: 'c0ffee00-1111-4222-8333-444455556666', name: 'aws-deploy' }],
    },
    github: {
      issuer: 'github',
      requestToken: GITHUB_REQUEST_TOKEN,
      repository: 'octo-org/octo-repo',
      ref: 'refs/heads/main',
    },
    gitlab: { issuer: 'gitlab', projectPath: 'group/sub/project', ref: 'main' },
    ec2: { instanceId: 'i-0123456789abcdef0', region: 'eu-west-1', roleName: 'CodeDeployInstanceRole' },
  };
}

/** Records the sessions it mints; knows only `ec2.roleName`-style roles listed in `roles`. */
export class FakeSessionIssuer implements SessionIssuer {
  readonly requests: Array<{ roleArn: string; sessionName: string; durationSeconds: number }> = [];

  constructor(
    private readonly clock: Clock,
    private readonly roles: Set<string>,
  ) {}

  issueRoleSession(request: {
    roleArn: string;
    sessionName: string;
    durationSeconds: number;
  }): IssuedCredentials {
    this.requests.push(request);
    const roleName = request.roleArn.split('/').pop() ?? '';
    if (!this.roles.has(roleName)) throw new Error(`role ${roleName} does not exist`);
    return {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(64).toString('base64'),
      expiration: new Date(this.clock.now() + this.clock.realMs(request.durationSeconds)),
      assumedRoleArn: `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/${roleName}/${request.sessionName}`,
      assumedRoleId: `AROATESTROLEID:${request.sessionName}`,
    };
  }
}

export interface IdentityTestServer {
  url: string;
  ctx: SandboxContext;
  logs: string[];
  sessions: FakeSessionIssuer;
  close(): Promise<void>;
}

export async function startIdentityServer(
  options: { config?: SandboxConfig; clock?: Clock; roles?: string[] } = {},
): Promise<IdentityTestServer> {
  const config = options.config ?? testConfig();
  const clock = options.clock ?? new Clock();
  const logs: string[] = [];
  const sessions = new FakeSessionIssuer(clock, new Set(options.roles ?? ['CodeDeployInstanceRole']));
  let baseUrl = '';
  const ctx: SandboxContext = {
    accountId: config.account?.id ?? TEST_ACCOUNT,
    region: config.account?.region ?? 'eu-west-1',
    clock,
    maxSessionSeconds: undefined,
    baseUrl: () => baseUrl,
    config,
    issuers: await createIssuerRegistry(config, clock),
    sessions,
    faults: createFaultPlan(),
    awsFaults: new FaultInjector(),
    log: (line) => logs.push(line),
  };
  const routes = createIdentityRoutes(ctx);
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      routes(request, response, Buffer.concat(chunks)).then(
        (handled) => {
          if (!handled) response.writeHead(404).end('not an identity route');
        },
        (error: unknown) => {
          logs.push(`ERROR ${(error as Error).stack ?? String(error)}`);
          if (!response.headersSent) response.writeHead(500).end('internal error');
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: baseUrl,
    ctx,
    logs,
    sessions,
    close: async () => {
      // Injected timeouts leave requests unanswered on purpose; drop them so close() can finish.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

/** What a relying party (STS) does: discovery → jwks_uri → verify signature, issuer and audience. */
export async function verifyWithServedJwks(
  baseUrl: string,
  issuerId: string,
  token: string,
  options: { audience?: string; currentDate?: Date } = {},
): Promise<JWTVerifyResult<JWTPayload>> {
  const discovery = (await (
    await fetch(`${baseUrl}/oidc/${issuerId}/.well-known/openid-configuration`)
  ).json()) as {
    issuer: string;
    jwks_uri: string;
  };
  const jwks = (await (await fetch(discovery.jwks_uri)).json()) as Parameters<typeof createLocalJWKSet>[0];
  return jwtVerify(token, createLocalJWKSet(jwks), {
    issuer: discovery.issuer,
    algorithms: ['RS256'],
    ...(options.audience === undefined ? {} : { audience: options.audience }),
    ...(options.currentDate === undefined ? {} : { currentDate: options.currentDate }),
  });
}

/** A clock whose time only moves when told to, for cache-expiry tests. */
export function manualClock(timeScale = 1): { clock: Clock; advanceMs(ms: number): void } {
  let now = Date.now();
  return {
    clock: new Clock(timeScale, () => now),
    advanceMs: (ms) => {
      now += ms;
    },
  };
}

/**
 * Drives the fault plan against one endpoint: each injected status comes back with the service's error content
 * type, `html` sends a sign-in page, `timeout` never answers, a 2xx with only `delayMs` answers normally but late,
 * and once the queue is drained the endpoint answers normally again. `send` must be a valid request.
 */
export async function checkInjectedFaults(
  server: IdentityTestServer,
  target: FaultTarget,
  send: (signal?: AbortSignal) => Promise<Response>,
  errorContentType: RegExp,
): Promise<void> {
  for (const status of [404, 410, 429, 500]) {
    server.ctx.faults.queue(target, [{ status }]);
    const response = await send();
    assert.equal(response.status, status);
    assert.match(response.headers.get('content-type') ?? '', errorContentType);
    if (status === 429) assert.equal(response.headers.get('retry-after'), '1');
    assert.notEqual(await response.text(), '');
  }

  server.ctx.faults.queue(target, [{ status: 200, body: 'html' }]);
  const html = await send();
  assert.equal(html.status, 200);
  assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(await html.text(), /<title>Sign in to your account<\/title>/);

  server.ctx.faults.queue(target, [{ status: 503, body: '{"custom":true}' }]);
  const custom = await send();
  assert.equal(custom.status, 503);
  assert.deepEqual(await custom.json(), { custom: true });

  server.ctx.faults.queue(target, [{ status: 'timeout' }]);
  await assert.rejects(send(AbortSignal.timeout(250)), (error: Error) => error.name === 'TimeoutError');

  server.ctx.faults.queue(target, [{ status: 200, delayMs: 150 }]);
  const started = Date.now();
  const slow = await send();
  assert.ok(Date.now() - started >= 140, 'the delay is applied before answering');
  assert.equal(slow.status, 200, 'a delay-only fault then answers normally');
  await slow.text();

  const normal = await send();
  assert.equal(normal.status, 200, 'the queue is drained');
  await normal.text();
  assert.ok(
    server.logs.some((line) => line.startsWith(`${target} `) && line.includes('fault: no answer (timeout)')),
  );
}
