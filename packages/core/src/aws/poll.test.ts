import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../test/support/fake-clock';
import { KeylessError } from '../errors';
import { CredentialsExpiredDuringWaitError, poll, WaitAbortedError } from './poll';

class Timeout extends KeylessError {
  readonly code = 'Timeout';
}

function awsError(name: string, status = 400, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

const timeout = (elapsed: number, status: string | undefined) =>
  new Timeout(`stopped after ${elapsed} ms at ${status}; it MAY STILL BE RUNNING`);

describe('poll', () => {
  it('starts at about a second, backs off to the cap, and returns the terminal value', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const value = await poll({
      clock,
      timeoutMs: 600_000,
      onTimeout: timeout,
      check: async () =>
        ++calls === 12
          ? { done: true, value: 'UPDATE_COMPLETE' }
          : { done: false, status: 'UPDATE_IN_PROGRESS' },
    });
    assert.equal(value, 'UPDATE_COMPLETE');
    assert.equal(calls, 12);
    assert.equal(clock.sleeps[0], 1_000);
    assert.ok(
      clock.sleeps.every((ms, i) => i === 0 || ms >= clock.sleeps[i - 1]!),
      'intervals never shrink',
    );
    assert.equal(Math.max(...clock.sleeps), 2_500);
  });

  it('stays within 30 calls a minute on a long wait and notices completion within the interval', async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const finishAt = start + 10 * 60_000 + 1_234;
    const callTimes: number[] = [];
    await poll({
      clock,
      timeoutMs: 3_600_000,
      onTimeout: timeout,
      check: async () => {
        callTimes.push(clock.now());
        return clock.now() >= finishAt ? { done: true, value: true } : { done: false };
      },
    });
    const lastMinute = callTimes.filter((t) => t > finishAt - 60_000);
    assert.ok(lastMinute.length <= 30, `${lastMinute.length} calls in the last minute`);
    assert.ok(callTimes.at(-1)! - finishAt <= 2_500, 'noticed within one capped interval');
  });

  it('a check that knows nothing can change sooner delays the next one (never below the interval)', async () => {
    const clock = new FakeClock();
    const hints = [40_000, 10, undefined];
    let calls = 0;
    await poll({
      clock,
      timeoutMs: 600_000,
      onTimeout: timeout,
      schedule: { initialMs: 1_000, growth: 1, maxMs: 1_000 },
      check: async () => {
        const notBeforeMs = hints[calls++];
        if (calls > hints.length) return { done: true, value: 'done' };
        return notBeforeMs === undefined ? { done: false } : { done: false, notBeforeMs };
      },
    });
    assert.deepEqual(clock.sleeps, [40_000, 1_000, 1_000]);
  });

  it('backs off with jitter on throttling (codes, 429/503, "Rate exceeded") and carries on', async () => {
    const clock = new FakeClock();
    const failures = [
      awsError('Throttling'),
      awsError('ThrottlingException'),
      awsError('CloudFormationServiceException', 400, 'Rate exceeded'),
      awsError('Unknown', 503),
      awsError('TooManyRequests', 429),
    ];
    const notes: string[] = [];
    const value = await poll({
      clock,
      timeoutMs: 600_000,
      onTimeout: timeout,
      onNote: (note) => notes.push(note),
      check: async () => {
        const failure = failures.shift();
        if (failure) throw failure;
        return { done: true, value: 'ok' };
      },
    });
    assert.equal(value, 'ok');
    assert.equal(notes.filter((note) => note.startsWith('throttled')).length, 5);
    // random() = 0.5: half of 2 s, 4 s, 8 s, 16 s, 32 s→capped at 30 s; never below the normal interval.
    assert.deepEqual(clock.sleeps, [1_000, 2_000, 4_000, 8_000, 15_000]);
  });

  it('carries on through the 5xx and dropped connections the SDK gave up on', async () => {
    const clock = new FakeClock();
    const failures = [
      awsError('InternalFailure', 500),
      awsError('InternalError', 500),
      awsError('BadGateway', 502),
      Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' }),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    ];
    let checks = 0;
    const value = await poll({
      clock,
      timeoutMs: 600_000,
      onTimeout: timeout,
      check: async () => {
        checks++;
        const failure = failures.shift();
        if (failure) throw failure;
        return { done: true, value: 'ok' };
      },
    });
    assert.equal(value, 'ok');
    assert.equal(checks, 6);
  });

  it('refreshes credentials on ExpiredToken and ExpiredTokenException and continues without sleeping', async () => {
    const clock = new FakeClock();
    const failures = [awsError('ExpiredToken'), awsError('ExpiredTokenException')];
    let refreshes = 0;
    const value = await poll({
      clock,
      timeoutMs: 60_000,
      onTimeout: timeout,
      refreshCredentials: async () => {
        refreshes++;
      },
      check: async () => {
        const failure = failures.shift();
        if (failure) throw failure;
        return { done: true, value: 42 };
      },
    });
    assert.equal(value, 42);
    assert.equal(refreshes, 2);
    assert.deepEqual(clock.sleeps, []);
  });

  it('gives up with a typed error when refreshing does not cure ExpiredToken', async () => {
    await assert.rejects(
      poll({
        clock: new FakeClock(),
        timeoutMs: 60_000,
        onTimeout: timeout,
        refreshCredentials: async () => undefined,
        check: async () => {
          throw awsError('ExpiredToken');
        },
      }),
      (error: unknown) =>
        error instanceof CredentialsExpiredDuringWaitError && /may still be running/.test(error.message),
    );
  });

  it('times out with the caller’s typed error (which says the operation may still be running)', async () => {
    const clock = new FakeClock();
    await assert.rejects(
      poll({
        clock,
        timeoutMs: 30_000,
        onTimeout: timeout,
        check: async () => ({ done: false, status: 'UPDATE_IN_PROGRESS' }),
      }),
      (error: unknown) =>
        error instanceof Timeout &&
        /MAY STILL BE RUNNING/.test(error.message) &&
        /UPDATE_IN_PROGRESS/.test(error.message),
    );
    assert.equal(
      clock.now() - 1_700_000_000_000,
      30_000,
      'the last check happens at the deadline, not after it',
    );
  });

  it('other errors end the wait at once', async () => {
    await assert.rejects(
      poll({
        clock: new FakeClock(),
        timeoutMs: 60_000,
        onTimeout: timeout,
        check: async () => {
          throw awsError('AccessDenied', 403);
        },
      }),
      /AccessDenied/,
    );
  });

  it('stops when its signal aborts, saying the operation was not cancelled', async () => {
    const controller = new AbortController();
    let calls = 0;
    await assert.rejects(
      poll({
        clock: new FakeClock(),
        timeoutMs: 60_000,
        onTimeout: timeout,
        signal: controller.signal,
        check: async () => {
          if (++calls === 3) controller.abort();
          return { done: false };
        },
      }),
      (error: unknown) => error instanceof WaitAbortedError && /may still be running/.test(error.message),
    );
    assert.equal(calls, 3);
  });

  it('reports progress after every unfinished check', async () => {
    const progress: Array<string | undefined> = [];
    let calls = 0;
    await poll({
      clock: new FakeClock(),
      timeoutMs: 60_000,
      onTimeout: timeout,
      onProgress: ({ status }) => progress.push(status),
      check: async () => (++calls === 3 ? { done: true, value: null } : { done: false, status: `S${calls}` }),
    });
    assert.deepEqual(progress, ['S1', 'S2']);
  });
});
