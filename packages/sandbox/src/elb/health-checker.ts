import { request } from 'node:http';
import type { Clock } from '../clock';
import { parseMatcher } from './matcher';
import type { TargetGroup } from './types';

export type HealthCheckSettings = TargetGroup['healthCheck'];

export type ProbeResult =
  | { ok: true }
  | {
      ok: false;
      reason: 'Target.ResponseCodeMismatch' | 'Target.Timeout' | 'Target.FailedHealthChecks';
      description: string;
    };

/**
 * A health check's own timeout is scaled like every simulated duration, but never below this many real
 * milliseconds: a loopback app under a test's load cannot promise to answer within a few milliseconds, and a
 * check that fails for that reason would say nothing about the app.
 */
export const MIN_REAL_TIMEOUT_MS = 2000;

/** One HTTP health check, as ALB sends it: a GET of the path on the target's port, judged by the matcher. */
export function probe(port: number, settings: HealthCheckSettings, clock: Clock): Promise<ProbeResult> {
  const matches = parseMatcher(settings.matcher);
  const timeoutMs = Math.max(clock.realMs(settings.timeoutSeconds), MIN_REAL_TIMEOUT_MS);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: settings.path,
        method: 'GET',
        // A fresh connection per check, as ELB's health checker opens them; it must not share the proxy's pool.
        agent: false,
        headers: { 'user-agent': 'ELB-HealthChecker/2.0', connection: 'close' },
      },
      (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        settle(
          matches(status)
            ? { ok: true }
            : {
                ok: false,
                reason: 'Target.ResponseCodeMismatch',
                description: `Health checks failed with these codes: [${status}]`,
              },
        );
      },
    );
    const timer = setTimeout(() => {
      settle({ ok: false, reason: 'Target.Timeout', description: 'Request timed out' });
      req.destroy();
    }, timeoutMs);
    req.on('error', () =>
      settle({ ok: false, reason: 'Target.FailedHealthChecks', description: 'Health checks failed' }),
    );
    req.end();
  });
}

export type CheckedState =
  | { state: 'initial'; reason: 'Elb.InitialHealthChecking'; description: string }
  | { state: 'healthy' }
  | { state: 'unhealthy'; reason: string; description: string };

const INITIAL: CheckedState = {
  state: 'initial',
  reason: 'Elb.InitialHealthChecking',
  description: 'Initial health checks in progress',
};

/**
 * The health-check loop for one target: the first check at once, then one per interval (never two at a time, so
 * a slow target is not piled on), with consecutive-result thresholds deciding healthy and unhealthy.
 */
export class HealthChecker {
  private current: CheckedState = INITIAL;
  private successes = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Bumped on every start, so a check still in flight from before a stop cannot revive the old loop. */
  private generation = 0;

  constructor(
    private readonly options: {
      clock: Clock;
      settings(): HealthCheckSettings;
      /** The port to check, or undefined when the instance is gone (which fails the check). */
      port(): number | undefined;
      onChange(state: CheckedState): void;
    },
  ) {}

  get status(): CheckedState {
    return this.current;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.generation += 1;
    this.current = INITIAL;
    this.successes = 0;
    this.failures = 0;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    const generation = this.generation;
    this.timer = setTimeout(() => void this.check(generation), delayMs);
    // Health checks alone must not keep a process alive.
    this.timer.unref();
  }

  private async check(generation: number): Promise<void> {
    const started = Date.now();
    const settings = this.options.settings();
    const port = this.options.port();
    const result: ProbeResult =
      port === undefined
        ? { ok: false, reason: 'Target.FailedHealthChecks', description: 'Health checks failed' }
        : await probe(port, settings, this.options.clock);
    if (!this.running || generation !== this.generation) return;
    this.record(result, settings);
    const intervalMs = this.options.clock.realMs(settings.intervalSeconds);
    this.schedule(Math.max(0, intervalMs - (Date.now() - started)));
  }

  private record(result: ProbeResult, settings: HealthCheckSettings): void {
    if (result.ok) {
      this.successes += 1;
      this.failures = 0;
      if (this.current.state !== 'healthy' && this.successes >= settings.healthyThresholdCount)
        this.change({ state: 'healthy' });
      return;
    }
    this.failures += 1;
    this.successes = 0;
    if (this.failures >= settings.unhealthyThresholdCount)
      this.change({ state: 'unhealthy', reason: result.reason, description: result.description });
  }

  private change(next: CheckedState): void {
    const same =
      next.state === this.current.state &&
      (next.state !== 'unhealthy' ||
        (this.current.state === 'unhealthy' && this.current.reason === next.reason));
    this.current = next;
    if (!same) this.options.onChange(next);
  }
}
