/** Waits `ms` milliseconds; rejects early if `signal` aborts. Injectable everywhere so tests run instantly. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** "Full jitter" backoff (AWS architecture blog): a random delay between 0 and base × 2^attempt, capped. */
export function fullJitterDelay(retry: number, baseMs: number, capMs: number, random = Math.random): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** retry));
}

/** Parses a Retry-After header (seconds or HTTP date); undefined unless it is sane (0–60 s). */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value) * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 60_000) return undefined;
  return seconds;
}
