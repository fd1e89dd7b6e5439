import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultResponse, FaultTarget, SandboxContext } from '../context';
import { validateFaultRules, type FaultRule } from '../aws/fault-rules';
import { discoveryUrl } from './discovery';
import { gitlabClaims } from './gitlab';
import { isPlainObject, parseJsonBody, requestUrl, sendEmpty, sendJson } from './http';
import { resolveIssuer } from './issuer-lookup';

/*
 * The sandbox's own control API, for tests and tools (not a real service, so no fault target):
 *   GET    /_sandbox/health
 *   POST   /_sandbox/tokens                {issuer, claims?, lifetimeSeconds?} | {issuer?, kind: "gitlab", audience, …}
 *   POST   /_sandbox/issuers/<id>/rotate
 *   POST   /_sandbox/faults                {target, responses: FaultResponse[]}
 *   DELETE /_sandbox/faults[?target=…]
 *   PUT    /_sandbox/fault-rules          [FaultRule, …]   (rate-based AWS faults; [] turns them off)
 *   GET    /_sandbox/fault-stats          {requests, injected: {throttle, serverError, reset, slow, duplicate}}
 */

export const FAULT_TARGETS: readonly FaultTarget[] = [
  'azure-imds',
  'azure-devops-oidc',
  'github-oidc',
  'ec2-imds',
  'oidc-discovery',
  'sts',
  'iam',
];

class BadRequest extends Error {}

export async function handleControl(
  ctx: SandboxContext,
  request: IncomingMessage,
  response: ServerResponse,
  body: Buffer,
): Promise<boolean> {
  const path = requestUrl(request).pathname;
  const method = request.method ?? 'GET';
  try {
    if (path === '/_sandbox/health' && method === 'GET') return health(ctx, response);
    if (path === '/_sandbox/tokens' && method === 'POST')
      return await mintToken(ctx, response, readObject(body));
    if (path === '/_sandbox/faults' && method === 'POST') return queueFaults(ctx, response, readObject(body));
    if (path === '/_sandbox/faults' && method === 'DELETE') return clearFaults(ctx, request, response);
    if (path === '/_sandbox/fault-rules' && method === 'PUT') return setFaultRules(ctx, response, body);
    if (path === '/_sandbox/fault-stats' && method === 'GET') {
      sendJson(response, 200, ctx.awsFaults.faultStats());
      return true;
    }
    const rotate = /^\/_sandbox\/issuers\/([^/]+)\/rotate$/.exec(path);
    if (rotate !== null && method === 'POST')
      return await rotateKey(ctx, response, decodeURIComponent(rotate[1] ?? ''));
  } catch (error) {
    if (!(error instanceof BadRequest)) throw error;
    sendJson(response, 400, { error: 'BadRequest', message: error.message });
    ctx.log(`control ${method} ${path} -> 400 ${error.message}`);
    return true;
  }
  // Other /_sandbox paths belong to the AWS side of the server.
  return false;
}

function health(ctx: SandboxContext, response: ServerResponse): true {
  sendJson(response, 200, {
    ok: true,
    accountId: ctx.accountId,
    region: ctx.region,
    issuers: ctx.issuers.all().map((issuer) => ({
      id: issuer.id,
      issuer: issuer.issuer,
      discovery: discoveryUrl(ctx, issuer.id),
    })),
  });
  return true;
}

async function mintToken(
  ctx: SandboxContext,
  response: ServerResponse,
  request: Record<string, unknown>,
): Promise<true> {
  allowOnly(request, ['issuer', 'claims', 'lifetimeSeconds', 'kind', 'audience']);
  const { kind, audience, lifetimeSeconds } = request;
  const claims = request.claims ?? {};
  if (!isPlainObject(claims)) throw new BadRequest("'claims' must be a JSON object of claim names to values");
  if (
    lifetimeSeconds !== undefined &&
    (typeof lifetimeSeconds !== 'number' || !Number.isFinite(lifetimeSeconds))
  ) {
    throw new BadRequest("'lifetimeSeconds' must be a number of (simulated) seconds");
  }
  if (kind !== undefined && kind !== 'gitlab')
    throw new BadRequest(`'kind' must be "gitlab" when given, not ${JSON.stringify(kind)}`);
  if (audience !== undefined && typeof audience !== 'string')
    throw new BadRequest("'audience' must be a string");

  let issuerRef = request.issuer;
  let baseClaims: Record<string, unknown> = {};
  if (kind === 'gitlab') {
    const gitlab = ctx.config.gitlab;
    if (gitlab === undefined)
      throw new BadRequest("kind 'gitlab' needs a 'gitlab' section in the sandbox config");
    if (audience === undefined || audience === '')
      throw new BadRequest("kind 'gitlab' needs an 'audience' (the id_tokens aud)");
    issuerRef ??= gitlab.issuer;
    baseClaims = gitlabClaims(gitlab, audience);
  } else if (audience !== undefined) {
    baseClaims = { aud: audience };
  }
  if (typeof issuerRef !== 'string' || issuerRef === '')
    throw new BadRequest("'issuer' must be the id of a hosted issuer");
  const issuer = resolveIssuer(ctx, issuerRef);
  if (issuer === undefined) {
    const known = ctx.issuers.all().map((candidate) => candidate.id);
    throw new BadRequest(`no hosted issuer '${issuerRef}' (known: ${known.join(', ') || 'none'})`);
  }
  const merged = { ...baseClaims, ...claims };
  const token = await issuer.sign(merged, lifetimeSeconds === undefined ? {} : { lifetimeSeconds });
  sendJson(response, 200, { token });
  ctx.log(`control minted token issuer=${issuer.id} sub=${String(merged.sub)} aud=${String(merged.aud)}`);
  return true;
}

async function rotateKey(ctx: SandboxContext, response: ServerResponse, issuerId: string): Promise<true> {
  const issuer = ctx.issuers.byId(issuerId);
  if (issuer === undefined) {
    sendJson(response, 404, { error: 'NotFound', message: `no hosted issuer '${issuerId}'` });
    return true;
  }
  const kid = await issuer.rotate();
  sendJson(response, 200, { kid });
  ctx.log(`control rotated key issuer=${issuer.id} kid=${kid}`);
  return true;
}

function queueFaults(ctx: SandboxContext, response: ServerResponse, request: Record<string, unknown>): true {
  allowOnly(request, ['target', 'responses']);
  const target = parseTarget(request.target);
  if (!Array.isArray(request.responses))
    throw new BadRequest("'responses' must be an array of fault responses");
  const responses = request.responses.map((entry, index) => parseFaultResponse(entry, index));
  ctx.faults.queue(target, responses);
  sendEmpty(response, 204);
  ctx.log(`control queued ${responses.length} fault(s) for ${target}`);
  return true;
}

function clearFaults(ctx: SandboxContext, request: IncomingMessage, response: ServerResponse): true {
  const target = requestUrl(request).searchParams.get('target');
  if (target === null) ctx.faults.clear();
  else ctx.faults.clear(parseTarget(target));
  sendEmpty(response, 204);
  ctx.log(`control cleared faults${target === null ? '' : ` for ${target}`}`);
  return true;
}

function setFaultRules(ctx: SandboxContext, response: ServerResponse, body: Buffer): true {
  const parsed = parseJsonBody(body);
  if (!parsed.ok) throw new BadRequest(parsed.error);
  let rules: FaultRule[];
  try {
    rules = validateFaultRules(parsed.value, 'body');
  } catch (error) {
    throw new BadRequest((error as Error).message);
  }
  ctx.awsFaults.setRules(rules);
  sendEmpty(response, 204);
  ctx.log(`control set ${rules.length} fault rule(s): ${JSON.stringify(rules)}`);
  return true;
}

function parseTarget(value: unknown): FaultTarget {
  const target = FAULT_TARGETS.find((candidate) => candidate === value);
  if (target === undefined) {
    throw new BadRequest(`'target' must be one of ${FAULT_TARGETS.join(', ')}; got ${JSON.stringify(value)}`);
  }
  return target;
}

function parseFaultResponse(entry: unknown, index: number): FaultResponse {
  const where = `responses[${index}]`;
  if (!isPlainObject(entry)) throw new BadRequest(`${where} must be an object like {"status": 500}`);
  allowOnly(entry, ['status', 'body', 'delayMs'], where);
  const { status, body, delayMs } = entry;
  if (
    status !== 'timeout' &&
    !(typeof status === 'number' && Number.isInteger(status) && status >= 200 && status <= 599)
  ) {
    throw new BadRequest(`${where}.status must be an HTTP status (200-599) or "timeout"`);
  }
  if (body !== undefined && typeof body !== 'string')
    throw new BadRequest(`${where}.body must be a string or "html"`);
  if (delayMs !== undefined && !(typeof delayMs === 'number' && Number.isFinite(delayMs) && delayMs >= 0)) {
    throw new BadRequest(`${where}.delayMs must be a non-negative number of milliseconds`);
  }
  return {
    status,
    ...(body === undefined ? {} : { body }),
    ...(delayMs === undefined ? {} : { delayMs }),
  };
}

function readObject(body: Buffer): Record<string, unknown> {
  const parsed = parseJsonBody(body);
  if (!parsed.ok) throw new BadRequest(parsed.error);
  if (!isPlainObject(parsed.value)) throw new BadRequest('request body must be a JSON object');
  return parsed.value;
}

function allowOnly(object: Record<string, unknown>, allowed: string[], where = 'body'): void {
  const unknown = Object.keys(object).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new BadRequest(
      `${where} has unknown field(s) ${unknown.join(', ')}; allowed: ${allowed.join(', ')}`,
    );
  }
}
