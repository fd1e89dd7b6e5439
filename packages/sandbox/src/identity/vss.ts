import { STATUS_CODES } from 'node:http';

/**
 * Azure DevOps (VSS) REST error body, as observed in the wild, e.g. a 401:
 * {"$id":"1","innerException":null,"message":"TF400813: The user '' is not authorized to access this resource.",
 *  "typeName":"Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException, Microsoft.TeamFoundation.Framework.Server",
 *  "typeKey":"UnauthorizedRequestException","errorCode":0,"eventId":3000}
 * (source: microsoft/azure-devops-auth-samples#52, microsoft/azure-devops-intellij#504). GitHub's Actions token
 * service runs on the same stack, so it reuses this shape.
 */
export interface VssError {
  message: string;
  /** Fully-qualified .NET exception type, e.g. `Microsoft.VisualStudio.Services.WebApi.VssInvalidPreviewVersionException, …`. */
  typeName: string;
  typeKey: string;
}

export function vssErrorBody(error: VssError): string {
  return JSON.stringify({
    $id: '1',
    innerException: null,
    message: error.message,
    typeName: error.typeName,
    typeKey: error.typeKey,
    errorCode: 0,
    eventId: 3000,
  });
}

export const VSS_JSON = 'application/json; charset=utf-8';

export function unauthorizedError(): VssError {
  return {
    message: "TF400813: The user '' is not authorized to access this resource.",
    typeName:
      'Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException, Microsoft.TeamFoundation.Framework.Server',
    typeKey: 'UnauthorizedRequestException',
  };
}

/** Error bodies for injected faults of any status, in the VSS shape. */
export function vssFaultError(status: number): { contentType: string; body: string } {
  const error: VssError =
    status === 401
      ? unauthorizedError()
      : status === 429
        ? {
            message:
              'TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource in namespace.',
            typeName:
              'Microsoft.TeamFoundation.Framework.Server.RequestBlockedException, Microsoft.TeamFoundation.Framework.Server',
            typeKey: 'RequestBlockedException',
          }
        : {
            message: `${STATUS_CODES[status] ?? `HTTP ${status}`} (injected by the sandbox's fault plan).`,
            typeName:
              'Microsoft.VisualStudio.Services.Common.VssServiceException, Microsoft.VisualStudio.Services.Common',
            typeKey: 'VssServiceException',
          };
  return { contentType: VSS_JSON, body: vssErrorBody(error) };
}

/** An api-version as Azure DevOps spells it: `7.1`, `7.1-preview`, `7.1-preview.1`. */
const API_VERSION = /^(\d+)\.(\d+)(?:-preview(?:\.\d+)?)?$/;

/**
 * Reads the api-version from the query or, as azure-devops-node-api sends it, from the Accept header
 * (`application/json;api-version=7.1-preview.1`), and checks it against the route's minimum.
 */
export function checkApiVersion(
  method: string,
  query: URLSearchParams,
  acceptHeader: string | undefined,
  minimum: { major: number; minor: number },
): VssError | undefined {
  const fromAccept = /api-version=([^;,\s]+)/i.exec(acceptHeader ?? '')?.[1];
  const version = query.get('api-version') ?? fromAccept;
  if (version === null || version === undefined || version === '') {
    return {
      message:
        `No api-version was supplied for the "${method}" request. The version must be supplied either as part of the ` +
        'Accept header (e.g. "application/json; api-version=1.0") or as a query parameter (e.g. \'?api-version=1.0\').',
      typeName:
        'Microsoft.VisualStudio.Services.WebApi.VssVersionNotSpecifiedException, Microsoft.VisualStudio.Services.WebApi',
      typeKey: 'VssVersionNotSpecifiedException',
    };
  }
  const match = API_VERSION.exec(version);
  const major = Number(match?.[1]);
  const minor = Number(match?.[2]);
  if (match === null || major < minimum.major || (major === minimum.major && minor < minimum.minor)) {
    return {
      message: `The requested REST API version of ${version} is out of range for this server. The minimum REST API version for this resource is ${minimum.major}.${minimum.minor}.`,
      typeName:
        'Microsoft.VisualStudio.Services.WebApi.VssVersionOutOfRangeException, Microsoft.VisualStudio.Services.WebApi',
      typeKey: 'VssVersionOutOfRangeException',
    };
  }
  return undefined;
}
