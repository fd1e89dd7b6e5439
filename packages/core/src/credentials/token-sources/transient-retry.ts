import { HttpFailure, sendHttpRequest, type HttpRequestOptions, type HttpResponse } from '../http';
import { fullJitterDelay, parseRetryAfter, realSleep } from '../retry';
import type { TokenSourceContext } from './context';

/** Upper bounds of the full-jitter waits before each retry of a CI token endpoint. */
export const ciTokenRetryCapsMs = [1_000, 3_000, 9_000];

/**
 * Sends a request to a CI token endpoint, retrying only what can heal by itself: network failures,
 * timeouts, 429 and 5xx. Any other status (a 4xx is a configuration error) is returned at once.
 * Throws the last HttpFailure when the network never answered.
 */
export async function sendWithTransientRetries(
  url: URL,
  request: HttpRequestOptions,
  context: TokenSourceContext,
  what: string,
): Promise<HttpResponse> {
  const sleep = context.sleep ?? realSleep;
  const now = context.now ?? Date.now;
  const caps = context.retryDelaysMs ?? ciTokenRetryCapsMs;
  const deadline = now() + (context.deadlineMs ?? 60_000);
  for (let attempt = 0; ; attempt++) {
    let outcome: HttpResponse | HttpFailure;
    try {
      outcome = await sendHttpRequest(url, { timeoutMs: context.timeoutMs ?? 15_000, ...request });
    } catch (error) {
      if (!(error instanceof HttpFailure)) throw error;
      outcome = error;
    }
    const transient = outcome instanceof HttpFailure || outcome.status === 429 || outcome.status >= 500;
    const cap = caps[attempt];
    if (!transient || cap === undefined) {
      if (outcome instanceof HttpFailure) throw outcome;
      return outcome;
    }
    const retryAfter =
      outcome instanceof HttpFailure
        ? undefined
        : parseRetryAfter(firstHeader(outcome.headers['retry-after']));
    const wait = retryAfter ?? fullJitterDelay(0, cap, cap);
    if (now() + wait > deadline) {
      if (outcome instanceof HttpFailure) throw outcome;
      return outcome;
    }
    const problem = outcome instanceof HttpFailure ? outcome.message : `HTTP ${outcome.status}`;
    context.reporter.debug(`${what}: ${problem}; retrying in ${wait} ms (retry ${attempt + 1}).`);
    await sleep(wait, request.signal);
  }
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
