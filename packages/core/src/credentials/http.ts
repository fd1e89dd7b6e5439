import { request as httpRequest, type Agent, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpRequestOptions {
  method?: 'GET' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: string;
  /** Per-attempt limit covering connect, send and the whole response. */
  timeoutMs?: number;
  /** A proxy agent, or undefined for a direct connection. */
  agent?: Agent;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export type HttpFailureKind = 'timeout' | 'unreachable' | 'network';

/**
 * The request never produced a response. `unreachable` means nothing answers at that address (refused,
 * no route, unknown host) — retrying rarely helps; `timeout` and `network` (reset, broken pipe) may be transient.
 * Messages name the URL without its query, which can carry identity selectors but never secrets.
 */
export class HttpFailure extends Error {
  constructor(
    readonly kind: HttpFailureKind,
    readonly url: string,
    readonly errorCode: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpFailure';
  }
}

const unreachableCodes = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);

/** Largest response body we accept; identity endpoints answer a few KB. */
const maxBodyBytes = 1024 * 1024;

/** One HTTP(S) request with a hard timeout; resolves for every status code, rejects only with HttpFailure. */
export function sendHttpRequest(url: string | URL, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  const target = typeof url === 'string' ? new URL(url) : url;
  const shownUrl = `${target.origin}${target.pathname}`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const finish = (error: HttpFailure | undefined, response?: HttpResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else if (response) resolve(response);
    };
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(options.body));
    const req = send(target, { method: options.method ?? 'GET', headers, agent: options.agent }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBodyBytes) {
          req.destroy();
          finish(new HttpFailure('network', shownUrl, undefined, `${shownUrl} sent an oversized response.`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () =>
        finish(undefined, {
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', (error) => finish(toFailure(error, shownUrl)));
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish(
        new HttpFailure(
          'timeout',
          shownUrl,
          'ETIMEDOUT',
          `${shownUrl} did not answer within ${timeoutMs} ms.`,
        ),
      );
    }, timeoutMs);
    const onAbort = () => {
      req.destroy();
      finish(new HttpFailure('network', shownUrl, 'ABORTED', `The request to ${shownUrl} was cancelled.`));
    };
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (error) => finish(toFailure(error, shownUrl)));
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

function toFailure(error: Error & { code?: string }, shownUrl: string): HttpFailure {
  const code = error.code;
  if (code && unreachableCodes.has(code)) {
    return new HttpFailure('unreachable', shownUrl, code, `Nothing answers at ${shownUrl} (${code}).`, {
      cause: error,
    });
  }
  if (code === 'ETIMEDOUT') {
    return new HttpFailure('timeout', shownUrl, code, `${shownUrl} timed out (${code}).`, { cause: error });
  }
  return new HttpFailure(
    'network',
    shownUrl,
    code,
    `The connection to ${shownUrl} failed (${code ?? error.message}).`,
    {
      cause: error,
    },
  );
}

/** Distinguishes JSON from the HTML pages proxies and sign-in redirects return. */
export type ParsedBody =
  { kind: 'json'; value: unknown } | { kind: 'html' } | { kind: 'other'; excerpt: string };

export function parseBody(body: string): ParsedBody {
  const text = body.trim();
  if (/^<(!doctype html|html|head|body)/i.test(text)) return { kind: 'html' };
  try {
    return { kind: 'json', value: JSON.parse(text) as unknown };
  } catch {
    return { kind: 'other', excerpt: text.slice(0, 200) };
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function stringField(value: unknown, field: string): string | undefined {
  if (!isRecord(value)) return undefined;
  const found = value[field];
  return typeof found === 'string' ? found : undefined;
}
