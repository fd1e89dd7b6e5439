import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { FaultTarget, SandboxContext } from '../context';
import { sendText } from './http';

/** How an endpoint's real service words an error of a given status (its own body shape). */
export type ErrorRenderer = (status: number) => { contentType: string; body: string };

/**
 * What Azure endpoints (IMDS behind a proxy, Azure DevOps without `X-TFS-FedAuthRedirect: Suppress`) send
 * instead of JSON when they want an interactive sign-in: clients that blindly parse JSON must fail clearly.
 */
export const SIGN_IN_PAGE = `<!DOCTYPE html>
<html dir="ltr" lang="en">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<title>Sign in to your account</title>
</head>
<body>
<form name="f1" method="post" action="https://login.microsoftonline.com/common/login">
<div role="heading">Sign in</div>
<input type="email" name="loginfmt" placeholder="Email, phone, or Skype">
<input type="submit" value="Next">
</form>
</body>
</html>
`;

/** Fallback for services without a structured error body. */
export function plainTextError(status: number): { contentType: string; body: string } {
  return { contentType: 'text/plain; charset=utf-8', body: STATUS_CODES[status] ?? `HTTP ${status}` };
}

/**
 * Consumes the next queued fault for `target`, if any. Returns true when the fault took the request over
 * (answered it, or is deliberately never answering it); false when the endpoint should answer normally —
 * no fault queued, or a fault that only adds latency (a 2xx status with no body).
 */
export async function answerWithFault(
  ctx: SandboxContext,
  target: FaultTarget,
  request: IncomingMessage,
  response: ServerResponse,
  renderError: ErrorRenderer,
): Promise<boolean> {
  const fault = ctx.faults.next(target);
  if (fault === undefined) return false;
  if (fault.delayMs !== undefined && fault.delayMs > 0) await delay(fault.delayMs);
  if (fault.status === 'timeout') {
    // Never answer: the socket stays open until the client gives up or the server shuts down.
    ctx.log(`${target} ${request.method} ${requestPath(request)} -> fault: no answer (timeout)`);
    return true;
  }
  const status = fault.status;
  if (fault.body === undefined && status >= 200 && status < 300) return false;
  if (fault.body === 'html') {
    sendText(response, status, SIGN_IN_PAGE, 'text/html; charset=utf-8');
  } else if (fault.body !== undefined) {
    sendText(
      response,
      status,
      fault.body,
      looksLikeJson(fault.body) ? 'application/json; charset=utf-8' : 'text/plain',
    );
  } else {
    const rendered = renderError(status);
    sendText(response, status, rendered.body, rendered.contentType, retryHeaders(status));
  }
  ctx.log(
    `${target} ${request.method} ${requestPath(request)} -> fault: ${status}${fault.body === 'html' ? ' (html)' : ''}`,
  );
  return true;
}

function retryHeaders(status: number): Record<string, string> {
  return status === 429 || status === 503 ? { 'Retry-After': '1' } : {};
}

function looksLikeJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Path without the query string: queries can carry audiences and ids we log separately on purpose. */
function requestPath(request: IncomingMessage): string {
  return (request.url ?? '/').split('?')[0] ?? '/';
}
