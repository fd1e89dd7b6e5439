import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AzureDevOpsConfig } from '../config';
import type { SandboxContext } from '../context';
import { answerWithFault } from './fault-injection';
import {
  bearerToken,
  isPlainObject,
  parseJsonBody,
  requestUrl,
  sendJson,
  sendText,
  singleHeader,
} from './http';
import { resolveIssuer, tokenLifetimeSeconds } from './issuer-lookup';
import {
  checkApiVersion,
  unauthorizedError,
  VSS_JSON,
  vssErrorBody,
  vssFaultError,
  type VssError,
} from './vss';

/*
 * Azure DevOps "Oidctoken - Create" (REST 7.1): POST {collectionUri}{projectId}/_apis/distributedtask/hubs/{hub}/
 * plans/{planId}/jobs/{jobId}/oidctoken?serviceConnectionId=… → {"oidcToken": "<jwt>"}; this path is what the
 * agent exposes as System.OidcRequestUri. Errors use the VSS JSON shape (see vss.ts).
 */

/** Optional collection prefix (`/<org>/` or `/tfs/DefaultCollection/`), then the project segment. */
const ROUTE =
  /^\/(?:.+\/)?([^/]+)\/_apis\/distributedtask\/hubs\/([^/]+)\/plans\/([^/]+)\/jobs\/([^/]+)\/oidctoken$/i;
/** The audience Entra workload-identity federation expects; Azure DevOps always issues this one. */
export const AZURE_DEVOPS_AUDIENCE = 'api://AzureADTokenExchange';
/** Observed windows are ~10 minutes (Azure/azure-cli#28708). Simulated seconds. */
const DEFAULT_LIFETIME_SECONDS = 600;

export async function handleAzureDevOpsOidc(
  ctx: SandboxContext,
  request: IncomingMessage,
  response: ServerResponse,
  body: Buffer,
): Promise<boolean> {
  const url = requestUrl(request);
  const match = ROUTE.exec(url.pathname);
  const devops = ctx.config.azureDevOps;
  if (match === null || devops === undefined) return false;
  if (await answerWithFault(ctx, 'azure-devops-oidc', request, response, vssFaultError)) return true;

  const fail = (status: number, error: VssError, why: string) => {
    sendText(response, status, vssErrorBody(error), VSS_JSON);
    ctx.log(`azure-devops-oidc -> ${status} ${why}`);
    return true;
  };

  const method = request.method ?? 'GET';
  if (method !== 'POST') {
    return fail(
      405,
      {
        message: `The requested resource does not support http method '${method}'.`,
        typeName: 'System.Web.Http.HttpResponseException, System.Web.Http',
        typeKey: 'HttpResponseException',
      },
      `method ${method}`,
    );
  }
  if (bearerToken(request) !== devops.accessToken)
    return fail(401, unauthorizedError(), 'missing or wrong System.AccessToken');

  const versionError = checkApiVersion(method, url.searchParams, singleHeader(request, 'accept'), {
    major: 7,
    minor: 1,
  });
  if (versionError !== undefined) return fail(400, versionError, versionError.typeKey);

  const project = decodeURIComponent(match[1] ?? '');
  if (!sameText(project, devops.projectId) && !sameText(project, devops.project)) {
    return fail(
      404,
      {
        message: `TF200016: The following project does not exist: ${project}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.`,
        typeName:
          'Microsoft.TeamFoundation.Core.WebApi.ProjectDoesNotExistWithNameException, Microsoft.TeamFoundation.Core.WebApi',
        typeKey: 'ProjectDoesNotExistWithNameException',
      },
      `unknown project ${project}`,
    );
  }

  const connectionId = url.searchParams.get('serviceConnectionId');
  if (connectionId === null || connectionId === '') {
    return fail(
      400,
      {
        message: 'Value cannot be null.\r\nParameter name: serviceConnectionId',
        typeName: 'System.ArgumentNullException, mscorlib',
        typeKey: 'ArgumentNullException',
      },
      'no serviceConnectionId',
    );
  }
  const connection = devops.serviceConnections.find((candidate) => sameText(candidate.id, connectionId));
  if (connection === undefined) {
    // Wording approximated: the real message names the connection id and says it cannot be used by this job.
    return fail(
      404,
      {
        message: `Service connection ${connectionId} could not be found or the job is not authorized to use it.`,
        typeName:
          'Microsoft.TeamFoundation.DistributedTask.WebApi.ServiceEndpointNotFoundException, Microsoft.TeamFoundation.DistributedTask.WebApi',
        typeKey: 'ServiceEndpointNotFoundException',
      },
      `unknown service connection ${connectionId}`,
    );
  }

  // The body is `{}` or a map of extra claims; Azure DevOps decides the token's claims itself.
  const parsed = parseJsonBody(body);
  if (!parsed.ok || (parsed.value !== undefined && !isPlainObject(parsed.value))) {
    return fail(
      400,
      {
        message: 'The request body must be a JSON object (for example {}).',
        typeName: 'System.ArgumentException, mscorlib',
        typeKey: 'ArgumentException',
      },
      'body is not a JSON object',
    );
  }

  const issuer = resolveIssuer(ctx, devops.issuer);
  if (issuer === undefined) {
    sendText(response, 500, vssFaultError(500).body, VSS_JSON);
    ctx.log(`azure-devops-oidc -> 500 config.azureDevOps.issuer '${devops.issuer}' names no hosted issuer`);
    return true;
  }
  const oidcToken = await issuer.sign(
    { sub: serviceConnectionSubject(devops, connection.name), aud: AZURE_DEVOPS_AUDIENCE },
    { lifetimeSeconds: tokenLifetimeSeconds(ctx, issuer, DEFAULT_LIFETIME_SECONDS) },
  );
  sendJson(response, 200, { oidcToken });
  ctx.log(`azure-devops-oidc serviceConnection=${connection.name} aud=${AZURE_DEVOPS_AUDIENCE} -> 200`);
  return true;
}

/** `sc://<org>/<project>/<service connection>` — built from names, which is why renames break trust policies. */
export function serviceConnectionSubject(devops: AzureDevOpsConfig, connectionName: string): string {
  return `sc://${devops.organization}/${devops.project}/${connectionName}`;
}

function sameText(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
