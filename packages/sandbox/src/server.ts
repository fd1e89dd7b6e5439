import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createFaultPlan } from './identity/faults';
import { createIssuerRegistry } from './identity/issuers';
import { createIdentityRoutes } from './identity/routes';
import { AwsError } from './aws/errors';
import { AwsRouter } from './aws/dispatch';
import { FaultInjector, validateFaultRules } from './aws/fault-rules';
import { createIamService, IAM_VERSION } from './aws/iam';
import { IamState } from './aws/iam-state';
import type { AwsEnvironment } from './aws/service';
import { SessionStore } from './aws/sessions';
import { createStsService, STS_VERSION } from './aws/sts';
import { CLOUDFORMATION_VERSION, createCloudFormationService } from './cloudformation/service';
import { DiskS3Store } from './s3/disk-store';
import { codeDeployProviders } from './codedeploy/cloudformation-providers';
import { CODEDEPLOY_TARGET_PREFIX, createCodeDeployService } from './codedeploy/service';
import { elbProviders } from './elb/cloudformation-providers';
import { createLoadBalancing } from './elb/load-balancing';
import { createElbService, ELBV2_VERSION } from './elb/service';
import { fleetProviders } from './fleet/cloudformation-providers';
import { AUTOSCALING_VERSION, createAutoScalingService } from './fleet/autoscaling-service';
import { createEc2Service, EC2_VERSION } from './fleet/ec2-service';
import { createFleet } from './fleet/fleet';
import { createS3Service } from './s3/service';
import { Clock } from './clock';
import type { SandboxConfig } from './config';
import { loadSandboxConfig, validateSandboxConfig } from './config-loader';
import type { SandboxContext } from './context';
import type { RunningSandbox, SandboxControl, SandboxOptions } from './index';

const DEFAULT_PORT = 4566;
const DEFAULT_ACCOUNT_ID = '123456789012';
const DEFAULT_REGION = 'us-east-1';
/** Large enough for deployment bundles uploaded in one PUT; anything bigger should be multipart. */
const MAX_BODY_BYTES = 512 * 1024 * 1024;

class BodyTooLarge extends Error {}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLarge());
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** Path only: query strings can carry presigned signatures and session tokens, which must never be logged. */
function logPath(request: IncomingMessage): string {
  return (request.url ?? '/').split('?')[0] ?? '/';
}

/** Seeds IAM from the config; a bad seed fails start-up naming the config key, like a bad config file does. */
function seedIam(iam: IamState, config: SandboxConfig): void {
  const seed = config.iam ?? {};
  (seed.oidcProviders ?? []).forEach((provider, i) => {
    try {
      iam.createProvider({
        url: provider.url,
        clientIds: provider.clientIds,
        thumbprints: provider.thumbprints ?? [],
      });
    } catch (error) {
      throw new Error(`Invalid sandbox config: iam.oidcProviders[${i}]: ${(error as Error).message}`, {
        cause: error,
      });
    }
  });
  (seed.roles ?? []).forEach((role, i) => {
    try {
      const document = role.assumeRolePolicyDocument;
      iam.createRole({
        name: role.name,
        path: role.path,
        description: role.description,
        assumeRolePolicyDocument: typeof document === 'string' ? document : JSON.stringify(document),
        maxSessionDuration: role.maxSessionDuration,
      });
      for (const policy of role.policies ?? []) {
        const text = typeof policy.document === 'string' ? policy.document : JSON.stringify(policy.document);
        iam.putRolePolicy(role.name, policy.name, text);
      }
    } catch (error) {
      const code = error instanceof AwsError ? `${error.code}: ` : '';
      throw new Error(
        `Invalid sandbox config: iam.roles[${i}] (${role.name}): ${code}${(error as Error).message}`,
        { cause: error },
      );
    }
  });
}

/** Creates the configured buckets; one that already exists (a kept data dir) is fine. */
async function seedBuckets(s3: DiskS3Store, config: SandboxConfig, defaultRegion: string): Promise<void> {
  for (const [i, bucket] of (config.s3?.buckets ?? []).entries()) {
    if (s3.bucketExists(bucket.name)) continue;
    try {
      await s3.createBucket(bucket.name, bucket.region ?? defaultRegion);
    } catch (error) {
      throw new Error(
        `Invalid sandbox config: s3.buckets[${i}] (${bucket.name}): ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }
}

export async function startSandbox(options: SandboxOptions = {}): Promise<RunningSandbox> {
  const config =
    typeof options.config === 'string'
      ? await loadSandboxConfig(options.config)
      : validateSandboxConfig(options.config ?? {}, '(passed in options.config)');
  const log = options.log ?? (() => undefined);
  const clock = new Clock(options.timeScale ?? 1);
  const accountId = config.account?.id ?? DEFAULT_ACCOUNT_ID;
  if (!/^\d{12}$/.test(accountId))
    throw new Error(`Invalid sandbox config: account.id must be 12 digits, got '${accountId}'`);
  const region = config.account?.region ?? DEFAULT_REGION;
  const maxSessionSeconds = options.maxSessionSeconds;
  if (maxSessionSeconds !== undefined && !(maxSessionSeconds > 0)) {
    throw new Error(`maxSessionSeconds must be a positive number, got ${maxSessionSeconds}`);
  }

  const faultSeed = options.faultSeed ?? config.faultSeed;
  if (faultSeed !== undefined && !Number.isInteger(faultSeed))
    throw new Error(`faultSeed must be an integer, got ${faultSeed}`);
  const awsFaults = new FaultInjector(
    validateFaultRules(options.faults ?? config.faults ?? [], options.faults ? 'options.faults' : 'faults'),
    faultSeed,
  );

  const iam = new IamState(accountId, () => new Date(clock.now()));
  const onSecret = options.onSecret ?? (() => undefined);
  const sessions = new SessionStore(
    accountId,
    clock,
    maxSessionSeconds,
    (arn) => iam.roleByArn(arn),
    onSecret,
  );
  for (const { accessKeyId, secretAccessKey } of config.rootCredentials ?? []) {
    sessions.addRootCredentials(accessKeyId, secretAccessKey);
  }
  seedIam(iam, config);
  const issuers = await createIssuerRegistry(config, clock, onSecret);

  let baseUrl = '';
  const ctx: SandboxContext = {
    accountId,
    region,
    clock,
    maxSessionSeconds,
    baseUrl: () => baseUrl,
    config,
    issuers,
    sessions,
    faults: createFaultPlan(),
    awsFaults,
    log,
  };
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'keyless-sandbox-')));
  const s3 = await DiskS3Store.open(join(dataDir, 's3'), clock);
  await seedBuckets(s3, config, region);
  // The fleet and the load balancers refer to each other (Auto Scaling registers targets; health checks
  // reach instances), so each gets the other lazily.
  const elb = createLoadBalancing({ accountId, region, clock, log, fleet: () => fleet });
  const fleet = await createFleet({ accountId, region, clock, log, dataDir, elb: () => elb });
  const env: AwsEnvironment = {
    accountId,
    region,
    clock,
    iam,
    sessions,
    issuers,
    s3,
    fleet,
    elb,
    dataDir,
    baseUrl: () => baseUrl,
    log,
  };
  const codedeploy = createCodeDeployService(env);
  const cloudformation = createCloudFormationService(env, config.cloudformation);
  const aws = new AwsRouter(env, ctx.faults, awsFaults)
    .registerQueryService(STS_VERSION, createStsService(env))
    .registerQueryService(IAM_VERSION, createIamService(env))
    .registerQueryService(CLOUDFORMATION_VERSION, cloudformation.service)
    .registerQueryService(EC2_VERSION, createEc2Service(env))
    .registerQueryService(AUTOSCALING_VERSION, createAutoScalingService(env))
    .registerQueryService(ELBV2_VERSION, createElbService(env))
    .registerJsonService(CODEDEPLOY_TARGET_PREFIX, codedeploy.service)
    .registerRestService(createS3Service(env));
  cloudformation.registry.register(...fleetProviders(env), ...elbProviders(env), ...codeDeployProviders(env));
  const identityRoutes = createIdentityRoutes(ctx);

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    const method = request.method ?? 'GET';
    // Every answer carries these: SDKs correct clock skew from Date and report x-amzn-RequestId.
    response.setHeader('Date', new Date(clock.now()).toUTCString());
    response.setHeader('x-amzn-RequestId', requestId);
    const elapsed = () => `${(performance.now() - started).toFixed(1)}ms`;
    // S3 object uploads stream straight to disk; every other body is small and read whole.
    const streamed = aws.streamsRequestBody(request);
    let body: Buffer;
    try {
      body = streamed ? Buffer.alloc(0) : await readBody(request);
    } catch (error) {
      if (error instanceof BodyTooLarge && !response.headersSent) {
        response.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
        response.end(
          JSON.stringify({
            error: 'PayloadTooLarge',
            message: `Request bodies are limited to ${MAX_BODY_BYTES} bytes`,
          }),
        );
      }
      log(`${method} ${logPath(request)} -> body read failed ${elapsed()}`);
      return;
    }

    if (streamed || aws.isAwsRequest(request, body)) {
      const outcome = await aws.dispatch(request, body, requestId, streamed);
      if (outcome.kind === 'no-answer') {
        log(`${method} ${logPath(request)} ${outcome.log} ${elapsed()}`);
        return;
      }
      if (outcome.kind === 'reset') {
        // Like a dropped connection: no status line at all, the client sees ECONNRESET / socket hang up.
        request.socket.destroy();
        log(`${method} ${logPath(request)} ${outcome.log} ${elapsed()}`);
        return;
      }
      if (outcome.body instanceof Readable) {
        // Streamed replies (S3 GetObject) carry their own content-length.
        response.writeHead(outcome.status, outcome.headers);
        await pipeline(outcome.body, response).catch(() => undefined);
        log(`${method} ${logPath(request)} ${outcome.log} -> ${outcome.status} ${elapsed()}`);
        return;
      }
      const payload = typeof outcome.body === 'string' ? Buffer.from(outcome.body, 'utf8') : outcome.body;
      // A HEAD reply describes the body it omits, so its service-set content-length stands.
      const length =
        method === 'HEAD' && outcome.headers['content-length'] !== undefined
          ? outcome.headers['content-length']
          : String(payload.length);
      response.writeHead(outcome.status, { ...outcome.headers, 'content-length': length });
      response.end(payload);
      log(`${method} ${logPath(request)} ${outcome.log} -> ${outcome.status} ${elapsed()}`);
      return;
    }

    if (await identityRoutes(request, response, body)) {
      log(`${method} ${logPath(request)} -> ${response.statusCode} ${elapsed()}`);
      return;
    }
    const notFound = JSON.stringify({
      error: 'NotFound',
      message: `The sandbox serves nothing at ${method} ${logPath(request)}`,
    });
    response.writeHead(404, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(notFound)),
    });
    response.end(notFound);
    log(`${method} ${logPath(request)} -> 404 ${elapsed()}`);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log(
        `${request.method ?? 'GET'} ${logPath(request)} -> 500 internal error: ${(error as Error).message}`,
      );
      if (!response.headersSent) {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({ error: 'InternalError', message: 'The sandbox failed to handle this request' }),
        );
      } else response.destroy();
    });
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    // Loopback only: the sandbox accepts any configured root key and mints credentials on request.
    server.listen(options.port ?? DEFAULT_PORT, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
  baseUrl = `http://127.0.0.1:${port}`;
  log(
    `sandbox listening on ${baseUrl} (account ${accountId}, region ${region}, time scale ${clock.timeScale})`,
  );
  if (awsFaults.active)
    log(`fault injection on (seed ${awsFaults.seed}; replay with faultSeed/--fault-seed)`);

  const control: SandboxControl = {
    async mintToken(issuerId, claims, mintOptions) {
      const issuer = issuers.byId(issuerId);
      if (!issuer) throw new Error(`No hosted issuer with id '${issuerId}'`);
      return issuer.sign(claims, mintOptions);
    },
    async rotateIssuerKey(issuerId) {
      const issuer = issuers.byId(issuerId);
      if (!issuer) throw new Error(`No hosted issuer with id '${issuerId}'`);
      return issuer.rotate();
    },
    queueFaults(target, responses) {
      ctx.faults.queue(target, responses);
    },
    setFaultRules(rules) {
      awsFaults.setRules(rules);
      log(`fault rules set: ${JSON.stringify(rules)}`);
    },
    faultStats() {
      return awsFaults.faultStats();
    },
  };

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    port,
    accountId,
    region,
    control,
    close() {
      closing ??= (async () => {
        // Background work (stack operations) first, so nothing writes into a closed server or a deleted dir.
        await cloudformation.stop();
        await codedeploy.stop();
        await fleet.stop();
        await elb.stop();
        await new Promise<void>((resolve, reject) => {
          server.close((error) => (error ? reject(error) : resolve()));
          // Keep-alive and deliberately unanswered (timeout-fault) sockets would otherwise hold close() open.
          server.closeAllConnections();
        });
        if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}
