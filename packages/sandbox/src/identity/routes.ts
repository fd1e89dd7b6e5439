import type { RouteHandler, SandboxContext } from '../context';
import { handleAzureDevOpsOidc } from './azure-devops';
import { createAzureImdsHandler } from './azure-imds';
import { handleControl } from './control';
import { handleDiscovery } from './discovery';
import { createEc2ImdsHandler } from './ec2-imds';
import { handleGitHubIdToken } from './github';

/**
 * Every identity-provider endpoint the sandbox serves, as one route handler. Each endpoint returns false for
 * paths it does not own (or for services the config does not enable), so the AWS routes get the rest.
 */
export function createIdentityRoutes(ctx: SandboxContext): RouteHandler {
  const azureImds = createAzureImdsHandler(ctx);
  const ec2Imds = createEc2ImdsHandler(ctx);
  const endpoints: RouteHandler[] = [
    (request, response, body) => handleControl(ctx, request, response, body),
    (request, response) => handleDiscovery(ctx, request, response),
    (request, response) => azureImds(request, response),
    (request, response, body) => handleAzureDevOpsOidc(ctx, request, response, body),
    (request, response) => handleGitHubIdToken(ctx, request, response),
    (request, response) => ec2Imds(request, response),
  ];
  return async (request, response, body) => {
    for (const endpoint of endpoints) {
      if (await endpoint(request, response, body)) return true;
    }
    return false;
  };
}
