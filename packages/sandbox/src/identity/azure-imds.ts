import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { decodeJwt } from 'jose';
import type { AzureConfig } from '../config';
import type { SandboxContext } from '../context';
import { answerWithFault } from './fault-injection';
import { requestUrl, sendJson, singleHeader } from './http';
import { resolveIssuer, tokenLifetimeSeconds } from './issuer-lookup';

/*
 * Azure Instance Metadata Service, managed-identity token endpoint. Shapes follow Microsoft's
 * "how-to-use-vm-token" page (request parameters, string-typed epoch fields, error table: bad_request_102 /
 * invalid_resource AADSTS50001) and bodies observed from real IMDS (Azure SDK test fixtures:
 * {"error":"invalid_request","error_description":"Required metadata header not specified"} and
 * "Identity not found"; "Multiple user assigned identities exist, please specify the clientId / resourceId of
 * the identity in the token request" from AKS error reports).
 */

const TOKEN_PATH = '/metadata/identity/oauth2/token';
/** Managed-identity access tokens live about 24 h (Azure/login#441). Simulated seconds. */
const DEFAULT_LIFETIME_SECONDS = 24 * 3600;
/** IMDS hands out its cached token until it is this close to expiry (simulated seconds). */
const CACHE_REFRESH_MARGIN_SECONDS = 5 * 60;
/** The identity endpoint needs 2018-02-01 or later. */
const OLDEST_API_VERSION = '2018-02-01';
const NEWEST_API_VERSIONS = ['2025-04-07', '2024-03-15', '2023-11-15'];

type ManagedIdentity = AzureConfig['managedIdentities'][number];

interface CachedToken {
  accessToken: string;
  notBefore: number;
  expiresOn: number;
}

interface ImdsError {
  status: number;
  body: Record<string, unknown>;
}

function invalidRequest(description: string): ImdsError {
  return { status: 400, body: { error: 'invalid_request', error_description: description } };
}

/** Error bodies for injected faults, keyed on the statuses Microsoft documents for this endpoint. */
export function imdsFaultError(status: number): { contentType: string; body: string } {
  const byStatus: Record<number, [string, string]> = {
    404: ['not_found', 'IMDS endpoint is updating'],
    410: ['gone', 'IMDS is going through updates; it will be available within 70 seconds'],
    429: ['too_many_requests', 'IMDS throttle limit reached'],
    500: ['unknown', 'Failed to retrieve token from the Active directory.'],
  };
  const reason = STATUS_CODES[status] ?? `HTTP ${status}`;
  const [error, description] = byStatus[status] ?? [reason.toLowerCase().replace(/\W+/g, '_'), reason];
  return {
    contentType: 'application/json; charset=utf-8',
    body: JSON.stringify({ error, error_description: description }),
  };
}

/** GET /metadata/identity/oauth2/token (fault target `azure-imds`). Holds IMDS's per-identity token cache. */
export function createAzureImdsHandler(ctx: SandboxContext) {
  const cache = new Map<string, CachedToken>();

  return async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    const url = requestUrl(request);
    const azure = ctx.config.azure;
    if (url.pathname !== TOKEN_PATH || azure === undefined) return false;
    if (await answerWithFault(ctx, 'azure-imds', request, response, imdsFaultError)) return true;

    const outcome = await answer(
      ctx,
      azure,
      cache,
      request.method ?? 'GET',
      url,
      singleHeader(request, 'metadata'),
    );
    if ('error' in outcome) {
      sendJson(response, outcome.error.status, outcome.error.body);
      ctx.log(`azure-imds token -> ${outcome.error.status} ${String(outcome.error.body.error).slice(0, 60)}`);
      return true;
    }
    const { token, identity, resource, cached } = outcome;
    const now = ctx.clock.nowSeconds();
    const remaining = String(Math.max(0, token.expiresOn - now));
    sendJson(response, 200, {
      access_token: token.accessToken,
      refresh_token: '',
      expires_in: remaining,
      expires_on: String(token.expiresOn),
      ext_expires_in: remaining,
      not_before: String(token.notBefore),
      resource,
      token_type: 'Bearer',
      client_id: identity.clientId,
    });
    ctx.log(
      `azure-imds token identity=${identity.name} resource=${resource} -> 200${cached ? ' (cached)' : ''}`,
    );
    return true;
  };
}

async function answer(
  ctx: SandboxContext,
  azure: AzureConfig,
  cache: Map<string, CachedToken>,
  method: string,
  url: URL,
  metadataHeader: string | undefined,
): Promise<
  { error: ImdsError } | { token: CachedToken; identity: ManagedIdentity; resource: string; cached: boolean }
> {
  if (method !== 'GET') {
    return {
      error: {
        status: 405,
        body: { error: 'method_not_allowed', error_description: 'Only GET is supported' },
      },
    };
  }
  // SSRF guard: exactly `true`, lower case.
  if (metadataHeader !== 'true') return { error: invalidRequest('Required metadata header not specified') };

  const apiVersion = url.searchParams.get('api-version');
  if (apiVersion === null || !/^\d{4}-\d{2}-\d{2}$/.test(apiVersion) || apiVersion < OLDEST_API_VERSION) {
    // IMDS's documented versioning error (learn.microsoft.com, "Azure Instance Metadata Service", Versioning).
    const verb = apiVersion === null ? 'was not specified in' : 'is invalid in';
    return {
      error: {
        status: 400,
        body: {
          error: `Bad request. api-version ${verb} the request. For more information refer to aka.ms/azureimds`,
          'newest-versions': NEWEST_API_VERSIONS,
        },
      },
    };
  }

  const resource = url.searchParams.get('resource');
  if (resource === null || resource === '')
    return { error: invalidRequest('Required audience parameter not specified') };

  const selected = selectIdentity(azure, url.searchParams);
  if ('error' in selected) return selected;
  const identity = selected.identity;

  if (!resourceIsKnown(azure, resource)) {
    return {
      error: {
        status: 400,
        body: {
          error: 'invalid_resource',
          error_description:
            `AADSTS50001: The application named ${resource} was not found in the tenant named ${azure.tenantId}. ` +
            'This can happen if the application has not been installed by the administrator of the tenant or ' +
            'consented to by any user in the tenant. You might have sent your authentication request to the wrong ' +
            `tenant.\r\nTrace ID: ${randomUUID()}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: ${aadTimestamp(ctx)}`,
          error_codes: [50001],
          timestamp: aadTimestamp(ctx),
          trace_id: randomUUID(),
          correlation_id: randomUUID(),
        },
      },
    };
  }

  const issuer = resolveIssuer(ctx, azure.issuer);
  if (issuer === undefined) {
    ctx.log(`azure-imds: config.azure.issuer '${azure.issuer}' names no hosted issuer`);
    return {
      error: {
        status: 500,
        body: { error: 'unknown', error_description: 'Failed to retrieve token from the Active directory.' },
      },
    };
  }

  const cacheKey = `${identity.objectId.toLowerCase()}\n${resource}`;
  const hit = cache.get(cacheKey);
  const refreshMarginMs = ctx.clock.realMs(CACHE_REFRESH_MARGIN_SECONDS);
  if (hit !== undefined && hit.expiresOn * 1000 - ctx.clock.now() > refreshMarginMs) {
    return { token: hit, identity, resource, cached: true };
  }

  const accessToken = await issuer.sign(
    {
      aud: resource,
      sub: identity.objectId,
      oid: identity.objectId,
      appid: identity.clientId,
      appidacr: '2',
      idp: issuer.issuer,
      idtyp: 'app',
      tid: azure.tenantId,
      ver: '1.0',
      xms_mirid: identity.resourceId,
      // Entra v1 access tokens carry `uti`, not `jti`.
      jti: undefined,
      uti: randomUUID().replaceAll('-', '').slice(0, 22),
    },
    { lifetimeSeconds: tokenLifetimeSeconds(ctx, issuer, DEFAULT_LIFETIME_SECONDS) },
  );
  const { nbf, exp } = decodeJwt(accessToken);
  if (nbf === undefined || exp === undefined)
    throw new Error('issuer.sign() produced a token without nbf/exp');
  const token: CachedToken = { accessToken, notBefore: nbf, expiresOn: exp };
  cache.set(cacheKey, token);
  return { token, identity, resource, cached: false };
}

function selectIdentity(
  azure: AzureConfig,
  query: URLSearchParams,
): { identity: ManagedIdentity } | { error: ImdsError } {
  const clientId = query.get('client_id');
  const objectId = query.get('object_id');
  // `mi_res_id` is the newer spelling of `msi_res_id`.
  const resourceId = query.get('msi_res_id') ?? query.get('mi_res_id');
  const selectors = [clientId, objectId, resourceId].filter((value) => value !== null);
  if (selectors.length > 1) {
    return {
      error: invalidRequest(
        'Only one of client_id, object_id or msi_res_id can be specified in the token request',
      ),
    };
  }
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  const identities = azure.managedIdentities;
  let identity: ManagedIdentity | undefined;
  if (clientId !== null) identity = identities.find((candidate) => same(candidate.clientId, clientId));
  else if (objectId !== null) identity = identities.find((candidate) => same(candidate.objectId, objectId));
  else if (resourceId !== null)
    identity = identities.find((candidate) => same(candidate.resourceId, resourceId));
  else if (identities.length > 1) {
    return {
      error: invalidRequest(
        'Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request',
      ),
    };
  } else identity = identities[0];
  return identity === undefined ? { error: invalidRequest('Identity not found') } : { identity };
}

/** Entra matches App ID URIs with or without a trailing slash. */
function resourceIsKnown(azure: AzureConfig, resource: string): boolean {
  const normalise = (value: string) => value.replace(/\/+$/, '');
  return azure.resources.some((known) => normalise(known) === normalise(resource));
}

function aadTimestamp(ctx: SandboxContext): string {
  return new Date(ctx.clock.now())
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}
