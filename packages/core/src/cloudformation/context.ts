import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { buildClientConfig } from '../aws/client-config';
import { clientCredentials } from '../aws/client-credentials';
import type { EndpointOverrides } from '../aws/endpoints';
import { resolveEndpoint } from '../aws/endpoints';
import { isExpiredCredentialsError } from '../aws/aws-errors';
import { realClock, type PollClock, type PollSchedule } from '../aws/poll';
import type { Reporter } from '../report/reporter';

/** What the CloudFormation engine needs from its caller. */
export interface CloudFormationContext {
  /** From resolveCredentials (only these fields are used). */
  credentials: { region: string; provider: AwsCredentialIdentityProvider; endpoints?: EndpointOverrides };
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  /** Base for relative template paths (default: the process's working directory). */
  cwd?: string;
  /** Stops waits (not the AWS operation) when aborted. */
  signal?: AbortSignal;
  /** Test and benchmark knobs: fake time, a different poll schedule, pre-built clients. */
  clock?: Partial<PollClock>;
  schedule?: Partial<PollSchedule>;
  clients?: { cloudformation?: CloudFormationClient; s3?: S3Client };
}

/** The engine's working set for one operation. */
export interface Engine {
  cfn: CloudFormationClient;
  s3: S3Client;
  region: string;
  s3Endpoint?: string;
  reporter: Reporter;
  cwd: string;
  signal?: AbortSignal;
  clock: PollClock;
  schedule?: Partial<PollSchedule>;
  refreshCredentials: () => Promise<void>;
}

export function createEngine(ctx: CloudFormationContext): Engine {
  const { credentials, env } = ctx;
  const forClients = clientCredentials(credentials.provider);
  const common = {
    region: credentials.region,
    endpoints: credentials.endpoints,
    env,
    credentials: forClients.provider,
  };
  const s3Endpoint = resolveEndpoint('s3', credentials.endpoints, env);
  const engine: Engine = {
    cfn: ctx.clients?.cloudformation ?? new CloudFormationClient(buildClientConfig('cloudformation', common)),
    // Path-style addressing: a custom endpoint (sandbox, LocalStack) rarely resolves bucket subdomains.
    s3:
      ctx.clients?.s3 ??
      new S3Client({ ...buildClientConfig('s3', common), forcePathStyle: s3Endpoint !== undefined }),
    region: credentials.region,
    reporter: ctx.reporter,
    cwd: ctx.cwd ?? process.cwd(),
    clock: { ...realClock, ...ctx.clock },
    refreshCredentials: () => forClients.forceRefresh(),
  };
  if (s3Endpoint) engine.s3Endpoint = s3Endpoint;
  if (ctx.signal) engine.signal = ctx.signal;
  if (ctx.schedule) engine.schedule = ctx.schedule;
  return engine;
}

/**
 * One AWS call outside a poll loop. The SDK already retries throttling (maxAttempts 8); an expired session
 * is refreshed once and the call repeated, because the SDK never retries ExpiredToken itself.
 */
export async function call<T>(engine: Engine, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (!isExpiredCredentialsError(error)) throw error;
    engine.reporter.debug('The AWS credentials expired; refreshing them and retrying the call once.');
    await engine.refreshCredentials();
    return request();
  }
}
