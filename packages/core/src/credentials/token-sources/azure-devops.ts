import { proxyAgentFor } from '../../aws/proxy';
import { TokenSourceError } from '../errors';
import { HttpFailure, parseBody, stringField, type HttpResponse } from '../http';
import { toOidcToken } from '../jwt';
import type { OidcToken, TokenSource } from '../types';
import type { TokenSourceContext } from './context';
import { sendWithTransientRetries } from './transient-retry';

export interface AzureDevOpsOptions {
  serviceConnectionId: string;
  /** System.OidcRequestUri; default env SYSTEM_OIDCREQUESTURI. */
  oidcRequestUri?: string;
  /** System.AccessToken; default env SYSTEM_ACCESSTOKEN. */
  systemAccessToken?: string;
}

const accessTokenFix =
  'Map it into the step: `env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)` in YAML, or enable "Allow scripts to access the OAuth token" in a classic pipeline.';

/** The service connection's OIDC token from Azure DevOps (the workload identity federation endpoint). */
export class AzureDevOpsTokenSource implements TokenSource {
  readonly name = 'azure-devops' as const;

  constructor(
    private readonly options: AzureDevOpsOptions,
    private readonly context: TokenSourceContext,
  ) {}

  describe(): string {
    return `Azure DevOps service connection ${this.options.serviceConnectionId}`;
  }

  async getToken(signal?: AbortSignal): Promise<OidcToken> {
    const accessToken = this.options.systemAccessToken ?? this.context.env.SYSTEM_ACCESSTOKEN;
    this.context.reporter.registerSecret(accessToken);
    const requestUri = this.options.oidcRequestUri ?? this.context.env.SYSTEM_OIDCREQUESTURI;
    if (!requestUri) {
      throw new TokenSourceError(
        'azure-devops',
        'System.OidcRequestUri is not set (env SYSTEM_OIDCREQUESTURI): this does not look like an Azure Pipelines job.',
        'Run inside an Azure Pipelines job (agent 3.x or later), where the agent sets it; elsewhere use another --provider.',
      );
    }
    if (!accessToken) {
      throw new TokenSourceError(
        'azure-devops',
        'System.AccessToken is not available to this step (env SYSTEM_ACCESSTOKEN is empty).',
        accessTokenFix,
      );
    }
    const url = this.requestUrl(requestUri);
    let response: HttpResponse;
    try {
      response = await sendWithTransientRetries(
        url,
        {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${accessToken}`,
            'Content-Type': 'application/json',
            // Without it an unauthenticated call gets a 302/203 to an HTML sign-in page instead of a status code.
            'X-TFS-FedAuthRedirect': 'Suppress',
          },
          body: '{}',
          agent: proxyAgentFor(url, this.context.env),
          signal,
        },
        this.context,
        'Azure DevOps OIDC endpoint',
      );
    } catch (error) {
      if (!(error instanceof HttpFailure)) throw error;
      throw new TokenSourceError(
        'azure-devops',
        `The Azure DevOps OIDC endpoint ${error.url} could not be reached: ${error.message}`,
        'Check the agent can reach dev.azure.com (proxy settings, firewall) and re-run the job.',
        { cause: error },
      );
    }
    return this.parseResponse(response, url);
  }

  private requestUrl(requestUri: string): URL {
    let url: URL;
    try {
      url = new URL(requestUri);
    } catch {
      throw new TokenSourceError(
        'azure-devops',
        `System.OidcRequestUri "${requestUri}" is not a URL.`,
        'Leave SYSTEM_OIDCREQUESTURI as the agent sets it.',
      );
    }
    // Keep whatever query the agent put there; add ours with & (URLSearchParams does exactly that).
    url.searchParams.set('api-version', '7.1');
    url.searchParams.set('serviceConnectionId', this.options.serviceConnectionId);
    return url;
  }

  private parseResponse(response: HttpResponse, url: URL): OidcToken {
    const where = `${url.origin}${url.pathname}`;
    const parsed = parseBody(response.body);
    const connection = this.options.serviceConnectionId;
    if (
      parsed.kind === 'html' ||
      (response.status >= 300 && response.status < 400) ||
      response.status === 203
    ) {
      throw new TokenSourceError(
        'azure-devops',
        `Azure DevOps answered the OIDC request with a sign-in page (HTTP ${response.status}) instead of a token: System.AccessToken was not accepted.`,
        accessTokenFix,
      );
    }
    const serverMessage = parsed.kind === 'json' ? stringField(parsed.value, 'message') : undefined;
    const detail = serverMessage ? `: ${serverMessage}` : '';
    if (response.status === 401 || response.status === 403) {
      throw new TokenSourceError(
        'azure-devops',
        `Azure DevOps refused the OIDC request (HTTP ${response.status}${detail}): the access token is not valid for this job.`,
        `Use the job's own System.AccessToken (not a PAT). ${accessTokenFix}`,
      );
    }
    if (response.status === 404) {
      throw new TokenSourceError(
        'azure-devops',
        `Azure DevOps found no service connection ${connection} for this job (HTTP 404${detail}).`,
        'Pass the service connection id (GUID) of an AWS/Azure service connection in this project that the pipeline is authorised to use.',
      );
    }
    if (response.status !== 200) {
      throw new TokenSourceError(
        'azure-devops',
        `Azure DevOps OIDC endpoint ${where} answered HTTP ${response.status}${detail}.`,
        response.status >= 500 || response.status === 429
          ? 'Azure DevOps is unavailable or throttling; re-run the job.'
          : 'Check the service connection id and that workload identity federation is enabled for it.',
      );
    }
    const jwt = parsed.kind === 'json' ? stringField(parsed.value, 'oidcToken') : undefined;
    if (!jwt) {
      throw new TokenSourceError(
        'azure-devops',
        `Azure DevOps OIDC endpoint ${where} answered 200 without an oidcToken field.`,
        'Check SYSTEM_OIDCREQUESTURI points at the Azure DevOps OIDC endpoint.',
      );
    }
    return toOidcToken(
      jwt,
      'azure-devops',
      this.context.reporter,
      `Azure DevOps service connection ${connection}`,
    );
  }
}
