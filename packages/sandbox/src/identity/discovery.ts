import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IssuerKind } from '../config';
import type { SandboxContext } from '../context';
import { answerWithFault, plainTextError } from './fault-injection';
import { requestUrl, sendJson, sendText } from './http';

const ROUTE = /^\/oidc\/([^/]+)\/(\.well-known\/openid-configuration|jwks)$/;

/** Claims each real issuer lists in its discovery document (trimmed to what the sandbox actually issues). */
const CLAIMS_BY_KIND: Record<IssuerKind, string[]> = {
  'azure-ad': [
    'sub',
    'iss',
    'aud',
    'exp',
    'iat',
    'nbf',
    'oid',
    'tid',
    'appid',
    'appidacr',
    'idp',
    'idtyp',
    'ver',
    'xms_mirid',
  ],
  'azure-devops': ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'jti'],
  github: [
    'sub',
    'aud',
    'exp',
    'iat',
    'iss',
    'jti',
    'nbf',
    'ref',
    'sha',
    'repository',
    'repository_id',
    'repository_owner',
    'repository_owner_id',
    'run_id',
    'run_number',
    'run_attempt',
    'actor',
    'actor_id',
    'workflow',
    'workflow_ref',
    'event_name',
    'ref_type',
    'ref_protected',
    'job_workflow_ref',
    'environment',
    'runner_environment',
  ],
  gitlab: [
    'sub',
    'aud',
    'exp',
    'iat',
    'iss',
    'jti',
    'nbf',
    'namespace_id',
    'namespace_path',
    'project_id',
    'project_path',
    'user_id',
    'user_login',
    'pipeline_id',
    'pipeline_source',
    'job_id',
    'ref',
    'ref_type',
    'ref_path',
    'ref_protected',
    'environment',
    'runner_id',
    'runner_environment',
    'sha',
  ],
  generic: ['sub', 'aud', 'exp', 'iat', 'iss', 'jti', 'nbf'],
};

export function discoveryUrl(ctx: SandboxContext, issuerId: string): string {
  return `${ctx.baseUrl()}/oidc/${encodeURIComponent(issuerId)}/.well-known/openid-configuration`;
}

/** GET /oidc/<id>/.well-known/openid-configuration and GET /oidc/<id>/jwks (fault target `oidc-discovery`). */
export async function handleDiscovery(
  ctx: SandboxContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<boolean> {
  const match = ROUTE.exec(requestUrl(request).pathname);
  if (match === null) return false;
  if (await answerWithFault(ctx, 'oidc-discovery', request, response, plainTextError)) return true;
  const issuerId = decodeURIComponent(match[1] ?? '');
  const document = match[2] === 'jwks' ? 'jwks' : 'discovery';
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    sendText(response, 405, 'Method Not Allowed', 'text/plain; charset=utf-8', { Allow: 'GET, HEAD' });
    return true;
  }
  const issuer = ctx.issuers.byId(issuerId);
  if (issuer === undefined) {
    sendText(response, 404, 'Not Found');
    ctx.log(`oidc-discovery ${document} for unknown issuer '${issuerId}' -> 404`);
    return true;
  }
  // Public, cacheable documents, as the real issuers serve them.
  const headers = { 'Cache-Control': 'public, max-age=60' };
  if (document === 'jwks') {
    sendJson(response, 200, issuer.jwks(), headers);
  } else {
    const kind = ctx.config.issuers?.find((entry) => entry.id === issuer.id)?.kind ?? 'generic';
    sendJson(
      response,
      200,
      {
        issuer: issuer.issuer,
        jwks_uri: `${ctx.baseUrl()}/oidc/${encodeURIComponent(issuer.id)}/jwks`,
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['id_token'],
        subject_types_supported: ['public', 'pairwise'],
        scopes_supported: ['openid'],
        claims_supported: CLAIMS_BY_KIND[kind],
      },
      headers,
    );
  }
  ctx.log(`oidc-discovery ${document} issuer=${issuer.id} -> 200`);
  return true;
}
