import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { ClientConfigInput } from './client-config';
import { clientCredentials } from './client-credentials';
import { isExpiredCredentialsError, isThrottlingError } from './aws-errors';
import { resolveEndpoint, type EndpointOverrides } from './endpoints';
import { realClock, type PollClock, type PollSchedule } from './poll';
import type { Reporter } from '../report/reporter';

/** What every deploy engine (CloudFormation, CodeDeploy) needs from its caller. */
export interface EngineContext {
  /** From resolveCredentials (only these fields are used). */
  credentials: { region: string; provider: AwsCredentialIdentityProvider; endpoints?: EndpointOverrides };
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  /** Base for relative paths (default: the process's working directory). */
  cwd?: string;
  /** Stops waits (not the AWS operation) when aborted. */
  signal?: AbortSignal;
  /** Test and benchmark knobs: fake time, a different poll schedule. */
  clock?: Partial<PollClock>;
  schedule?: Partial<PollSchedule>;
}

/** The working set every engine operation shares; each engine adds its own clients. */
export interface EngineBase {
  region: string;
  reporter: Reporter;
  cwd: string;
  signal?: AbortSignal;
  clock: PollClock;
  schedule?: Partial<PollSchedule>;
  /** Makes the clients fetch new credentials (after ExpiredToken, which the SDK never retries). */
  refreshCredentials: () => Promise<void>;
}

/**
 * The shared part of an engine, plus what its clients are built from: one credentials wrapper for all of the
 * engine's clients (so one refresh serves them all) and the S3 endpoint override, if any.
 */
export function createEngineBase(ctx: EngineContext): {
  base: EngineBase;
  clientInput: ClientConfigInput;
  s3Endpoint: string | undefined;
} {
  const { credentials, env } = ctx;
  const forClients = clientCredentials(credentials.provider);
  const base: EngineBase = {
    region: credentials.region,
    reporter: ctx.reporter,
    cwd: ctx.cwd ?? process.cwd(),
    clock: { ...realClock, ...ctx.clock },
    refreshCredentials: () => forClients.forceRefresh(),
  };
  if (ctx.signal) base.signal = ctx.signal;
  if (ctx.schedule) base.schedule = ctx.schedule;
  return {
    base,
    clientInput: {
      region: credentials.region,
      endpoints: credentials.endpoints,
      env,
      credentials: forClients.provider,
    },
    s3Endpoint: resolveEndpoint('s3', credentials.endpoints, env),
  };
}

/** Extra waits after the SDK's own 8 attempts have all been throttled (seconds, jittered by the clock). */
const throttledCallBackoffMs = [2_000, 5_000, 10_000];

/**
 * One AWS call outside a poll loop. The SDK already retries throttling (maxAttempts 8), but under sustained
 * throttling all eight can fail within seconds; a throttled request was never processed, so waiting longer and
 * trying again is safe for every operation, mutating ones included. An expired session is refreshed once and
 * the call repeated, because the SDK never retries ExpiredToken itself.
 */
export async function call<T>(
  engine: Pick<EngineBase, 'reporter' | 'refreshCredentials'> & { clock?: PollClock },
  request: () => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await callOnce(engine, request);
    } catch (error) {
      const backoff = throttledCallBackoffMs[attempt];
      if (!isThrottlingError(error) || backoff === undefined) throw error;
      const clock = engine.clock ?? realClock;
      engine.reporter.debug(`AWS is throttling this call; waiting ${backoff / 1000} s before trying again.`);
      await clock.sleep(backoff * (0.75 + clock.random() / 2));
    }
  }
}

async function callOnce<T>(
  engine: Pick<EngineBase, 'reporter' | 'refreshCredentials'>,
  request: () => Promise<T>,
): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (!isExpiredCredentialsError(error)) throw error;
    engine.reporter.debug('The AWS credentials expired; refreshing them and retrying the call once.');
    await engine.refreshCredentials();
    return request();
  }
}
