import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { S3Client } from '@aws-sdk/client-s3';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { buildClientConfig } from '../aws/client-config';
import { clientCredentials } from '../aws/client-credentials';
import { isExpiredCredentialsError } from '../aws/aws-errors';
import { resolveEndpoint, type EndpointOverrides } from '../aws/endpoints';
import { realClock, type PollClock, type PollSchedule } from '../aws/poll';
import type { Reporter } from '../report/reporter';

/** What the CodeDeploy engine needs from its caller. */
export interface CodeDeployContext {
  /** From resolveCredentials (only these fields are used). */
  credentials: { region: string; provider: AwsCredentialIdentityProvider; endpoints?: EndpointOverrides };
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  /** Base for relative bundle paths (default: the process's working directory). */
  cwd?: string;
  /** Stops waits (not the deployment) when aborted. */
  signal?: AbortSignal;
  /** Test and benchmark knobs: fake time, a different poll schedule, pre-built clients. */
  clock?: Partial<PollClock>;
  schedule?: Partial<PollSchedule>;
  clients?: { codedeploy?: CodeDeployClient; s3?: S3Client };
}

export interface CodeDeployEngine {
  codedeploy: CodeDeployClient;
  s3: S3Client;
  region: string;
  reporter: Reporter;
  cwd: string;
  signal?: AbortSignal;
  clock: PollClock;
  schedule?: Partial<PollSchedule>;
  refreshCredentials: () => Promise<void>;
}

/** The S3 client bundles go through: path-style with an endpoint override, no JS-side CRC32 of every part. */
export function bundleS3Client(
  config: ReturnType<typeof buildClientConfig>,
  endpointOverridden: boolean,
): S3Client {
  return new S3Client({
    ...config,
    // A custom endpoint (sandbox, LocalStack, MinIO) rarely resolves bucket subdomains.
    forcePathStyle: endpointOverridden,
    // The SDK's default computes a CRC32 of every part in JavaScript; measured to cost more CPU than the
    // upload itself on 2-core agents. S3 still checks Content-MD5/SigV4 payload integrity where required.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function createCodeDeployEngine(ctx: CodeDeployContext): CodeDeployEngine {
  const { credentials, env } = ctx;
  const forClients = clientCredentials(credentials.provider);
  const common = {
    region: credentials.region,
    endpoints: credentials.endpoints,
    env,
    credentials: forClients.provider,
  };
  const s3Endpoint = resolveEndpoint('s3', credentials.endpoints, env);
  const engine: CodeDeployEngine = {
    codedeploy: ctx.clients?.codedeploy ?? new CodeDeployClient(buildClientConfig('codedeploy', common)),
    s3:
      ctx.clients?.s3 ??
      bundleS3Client(
        buildClientConfig('s3', { ...common, requestTimeoutMs: 300_000 }),
        s3Endpoint !== undefined,
      ),
    region: credentials.region,
    reporter: ctx.reporter,
    cwd: ctx.cwd ?? process.cwd(),
    clock: { ...realClock, ...ctx.clock },
    refreshCredentials: () => forClients.forceRefresh(),
  };
  if (ctx.signal) engine.signal = ctx.signal;
  if (ctx.schedule) engine.schedule = ctx.schedule;
  return engine;
}

/**
 * One AWS call outside a poll loop. The SDK retries throttling itself (maxAttempts 8); an expired session
 * is refreshed once and the call repeated, because the SDK never retries ExpiredToken.
 */
export async function call<T>(engine: CodeDeployEngine, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (!isExpiredCredentialsError(error)) throw error;
    engine.reporter.debug('The AWS credentials expired; refreshing them and retrying the call once.');
    await engine.refreshCredentials();
    return request();
  }
}
