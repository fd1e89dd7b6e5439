import { InvalidInputError } from '../../errors';
import type { CredentialOptions, TokenSource } from '../types';
import { AzureDevOpsTokenSource } from './azure-devops';
import { AzureManagedIdentityTokenSource } from './azure-managed-identity';
import type { TokenSourceContext } from './context';
import { GitHubTokenSource } from './github';
import { GitLabTokenSource } from './gitlab';
import { TokenFileSource } from './token-file';

export type { TokenSourceContext } from './context';

/**
 * The token source for `options.provider`. Exactly that one: there is no detection and no fallback, so a
 * misconfigured pipeline fails with that source's error instead of silently using other credentials.
 */
export function createTokenSource(options: CredentialOptions, context: TokenSourceContext): TokenSource {
  switch (options.provider) {
    case 'azure-managed-identity':
      if (!options.audience) {
        throw new InvalidInputError(
          'azure-managed-identity needs an audience (the App ID URI AWS trusts).',
          'Pass --audience, e.g. api://<app-id>.',
        );
      }
      return new AzureManagedIdentityTokenSource(
        {
          audience: options.audience,
          clientId: options.clientId,
          objectId: options.objectId,
          msiResourceId: options.msiResourceId,
          endpoint: options.azureImdsEndpoint,
        },
        context,
      );
    case 'azure-devops':
      if (!options.serviceConnectionId) {
        throw new InvalidInputError(
          'azure-devops needs the service connection id.',
          'Pass the service connection (its GUID) whose OIDC token AWS trusts.',
        );
      }
      return new AzureDevOpsTokenSource(
        {
          serviceConnectionId: options.serviceConnectionId,
          oidcRequestUri: options.oidcRequestUri,
          systemAccessToken: options.systemAccessToken,
        },
        context,
      );
    case 'github':
      return new GitHubTokenSource({ audience: options.audience }, context);
    case 'gitlab':
      return new GitLabTokenSource({ tokenEnvVar: options.tokenEnvVar }, context);
    case 'token-file': {
      const path = options.tokenFile ?? context.env.AWS_WEB_IDENTITY_TOKEN_FILE;
      if (!path) {
        throw new InvalidInputError(
          'token-file needs a token file path.',
          'Pass --token-file <path> or set AWS_WEB_IDENTITY_TOKEN_FILE.',
        );
      }
      return new TokenFileSource(path, context);
    }
    default:
      throw new InvalidInputError(
        `The credential mode "${options.provider}" does not use an OIDC token.`,
        'Choose one of azure-managed-identity, azure-devops, github, gitlab, token-file.',
      );
  }
}

export {
  AzureManagedIdentityTokenSource,
  AzureDevOpsTokenSource,
  GitHubTokenSource,
  GitLabTokenSource,
  TokenFileSource,
};
