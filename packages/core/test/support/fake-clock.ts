import type { PollClock } from '../../src/aws/poll';

/** Fake time: sleep advances the clock at once, and records every wait. */
export class FakeClock implements PollClock {
  sleeps: number[] = [];
  constructor(public time = 1_700_000_000_000) {}
  now = (): number => this.time;
  random = (): number => 0.5;
  sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
    if (signal?.aborted) throw signal.reason;
    this.sleeps.push(ms);
    this.time += ms;
  };
}
