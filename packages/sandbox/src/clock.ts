/**
 * The sandbox's one notion of time. `timeScale` shortens simulated durations (session and token lifetimes,
 * resource-provider delays, CodeDeploy waits) without skipping them: a simulated duration of N seconds takes
 * N / timeScale real seconds. Timestamps on the wire are always real wall-clock times, so clients that compare
 * them with their own clock (SDK credential refresh, JWT `exp`) behave correctly.
 */
export class Clock {
  constructor(
    readonly timeScale = 1,
    private readonly source: () => number = Date.now,
  ) {
    if (!(timeScale > 0)) throw new Error(`time scale must be a positive number, got ${timeScale}`);
  }

  /** Real milliseconds since the epoch. */
  now(): number {
    return this.source();
  }

  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** Real milliseconds that a simulated duration of `seconds` lasts. */
  realMs(seconds: number): number {
    return (seconds * 1000) / this.timeScale;
  }

  sleep(simulatedSeconds: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, this.realMs(simulatedSeconds));
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }
}
