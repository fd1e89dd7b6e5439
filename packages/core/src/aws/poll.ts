import { KeylessError } from '../errors';
import { realSleep, type Sleep } from '../credentials/retry';
import { awsErrorMessage, isExpiredCredentialsError, isRetryableError } from './aws-errors';

/** Time, sleep and randomness, injectable so tests run on fake time. */
export interface PollClock {
  now(): number;
  sleep: Sleep;
  random(): number;
}

export const realClock: PollClock = { now: Date.now, sleep: realSleep, random: Math.random };

/**
 * One look at the thing being waited for. `notBeforeMs`: the caller knows nothing can change sooner (a wait
 * of known length), so the next look comes no earlier than that, however short the schedule's interval.
 */
export type PollStep<T> = { done: true; value: T } | { done: false; status?: string; notBeforeMs?: number };

export interface PollProgress {
  attempt: number;
  elapsedMs: number;
  status?: string;
}

/**
 * The interval schedule: `initialMs` at first, growing by `growth` per check up to `maxMs`. The defaults
 * notice completion within about a second of it happening early on and stay under 30 calls a minute once the
 * wait is long (2.5 s apart ≈ 24 calls/min, leaving room for a caller's occasional extra call).
 */
export interface PollSchedule {
  initialMs: number;
  growth: number;
  maxMs: number;
}

export const defaultSchedule: PollSchedule = { initialMs: 1_000, growth: 1.5, maxMs: 2_500 };

export interface PollOptions<T> {
  /** One check; throwing a throttling or expired-credential error is handled here, anything else ends the wait. */
  check: (attempt: number) => Promise<PollStep<T>>;
  /** Total budget for the wait. */
  timeoutMs: number;
  /** The typed error thrown when the budget runs out; it must say the operation may still be running. */
  onTimeout: (elapsedMs: number, lastStatus: string | undefined) => Error;
  /** Makes the next calls use fresh credentials (see clientCredentials). Without it, ExpiredToken ends the wait. */
  refreshCredentials?: () => Promise<void>;
  onProgress?: (progress: PollProgress) => void;
  /** Told about throttling and credential refreshes (debug-level detail). */
  onNote?: (note: string) => void;
  signal?: AbortSignal;
  schedule?: Partial<PollSchedule>;
  clock?: Partial<PollClock>;
  /** Consecutive throttled checks tolerated before giving up (default 20: minutes of backing off). */
  maxThrottledChecks?: number;
}

/** Throttling backoff: full jitter from 2 s doubling to 30 s; each wait is at least the normal interval. */
const throttleBaseMs = 2_000;
const throttleCapMs = 30_000;
/** A refresh that does not cure ExpiredToken twice running means the credentials cannot be renewed. */
const maxConsecutiveExpired = 2;

/** The wait was stopped by its AbortSignal (e.g. Ctrl-C). The operation itself is not cancelled. */
export class WaitAbortedError extends KeylessError {
  readonly code = 'WaitAborted';
}

/** The credentials expired during a wait and refreshing them did not help. */
export class CredentialsExpiredDuringWaitError extends KeylessError {
  readonly code = 'CredentialsExpiredDuringWait';
}

/** Throttled for so long that waiting longer is pointless. */
export class ThrottledTooLongError extends KeylessError {
  readonly code = 'ThrottledTooLong';
}

/**
 * The one polling loop (DESIGN principle 5): explicit terminal states from `check`, an adaptive interval,
 * throttling backed off with jitter, expired credentials refreshed, a hard overall timeout and abort support.
 */
export async function poll<T>(options: PollOptions<T>): Promise<T> {
  const clock: PollClock = { ...realClock, ...options.clock };
  const schedule: PollSchedule = { ...defaultSchedule, ...options.schedule };
  const started = clock.now();
  const deadline = started + options.timeoutMs;
  const maxThrottled = options.maxThrottledChecks ?? 20;
  let interval = schedule.initialMs;
  let throttled = 0;
  let expired = 0;
  let lastStatus: string | undefined;

  for (let attempt = 1; ; attempt++) {
    throwIfAborted(options.signal);
    // ±20% jitter (mean unchanged): pipelines started together do not poll in lockstep.
    let wait = Math.round(interval * (0.8 + 0.4 * clock.random()));
    try {
      const step = await options.check(attempt);
      throttled = 0;
      expired = 0;
      if (step.done) return step.value;
      lastStatus = step.status ?? lastStatus;
      options.onProgress?.({ attempt, elapsedMs: clock.now() - started, status: lastStatus });
      interval = Math.min(schedule.maxMs, Math.round(interval * schedule.growth));
      if (step.notBeforeMs !== undefined) wait = Math.max(wait, Math.round(step.notBeforeMs));
    } catch (error) {
      throwIfAborted(options.signal);
      // Throttling, 5xx and dropped connections the SDK gave up on (or had no retry quota left for).
      if (isRetryableError(error)) {
        throttled++;
        if (throttled > maxThrottled) {
          throw new ThrottledTooLongError(
            `AWS kept throttling or failing the status checks (${throttled} in a row: ${awsErrorMessage(error)}); stopped waiting, but the operation may still be running.`,
            'Re-run later, or ask for a higher API rate limit if many pipelines share this account and region.',
            { cause: error },
          );
        }
        const jitter = Math.floor(
          clock.random() * Math.min(throttleCapMs, throttleBaseMs * 2 ** (throttled - 1)),
        );
        wait = Math.max(interval, jitter);
        options.onNote?.(`throttled (${awsErrorMessage(error)}); checking again in ${wait} ms`);
      } else if (isExpiredCredentialsError(error) && options.refreshCredentials) {
        expired++;
        if (expired > maxConsecutiveExpired) {
          throw new CredentialsExpiredDuringWaitError(
            `The AWS credentials expired during the wait and refreshing them did not help (${awsErrorMessage(error)}); the operation may still be running.`,
            'Check the identity provider still issues tokens and the role trusts them; re-run to resume watching.',
            { cause: error },
          );
        }
        options.onNote?.('the AWS credentials expired; refreshing them and checking again');
        await options.refreshCredentials();
        wait = 0;
      } else {
        throw error;
      }
    }
    const now = clock.now();
    if (now >= deadline) throw options.onTimeout(now - started, lastStatus);
    if (wait > 0) {
      await clock.sleep(Math.min(wait, deadline - now), options.signal).catch((reason: unknown) => {
        throwIfAborted(options.signal);
        throw reason;
      });
    }
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  if (reason instanceof KeylessError) throw reason;
  throw new WaitAbortedError(
    'Stopped waiting because the run was cancelled; the AWS operation itself was not cancelled and may still be running.',
    'Check its state in the AWS console or with the AWS CLI before re-running.',
  );
}
