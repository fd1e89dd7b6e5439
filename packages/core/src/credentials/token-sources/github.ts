import { proxyAgentFor } from '../../aws/proxy';
import { TokenSourceError } from '../errors';
import { HttpFailure, parseBody, stringField, type HttpResponse } from '../http';
import { toOidcToken } from '../jwt';
import type { OidcToken, TokenSource } from '../types';
import type { TokenSourceContext } from './context';
import { sendWithTransientRetries } from './transient-retry';

export interface GitHubOptions {
  /** Default `sts.amazonaws.com` (China: `sts.amazonaws.com.cn`). */
  audience?: string;
}

const permissionFix = 'Add `permissions: id-token: write` to the workflow or job.';

/** The GitHub Actions OIDC token for this job. */
export class GitHubTokenSource implements TokenSource {
  readonly name = 'github' as const;
  private readonly audience: string;

  constructor(
    options: GitHubOptions,
    private readonly context: TokenSourceContext,
  ) {
    this.audience = options.audience ?? 'sts.amazonaws.com';
  }

  describe(): string {
    return `GitHub Actions OIDC (audience ${this.audience})`;
  }

  async getToken(signal?: AbortSignal): Promise<OidcToken> {
    const requestUrl = this.context.env.ACTIONS_ID_TOKEN_REQUEST_URL;
    const requestToken = this.context.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
    this.context.reporter.registerSecret(requestToken);
    if (!requestUrl || !requestToken) {
      throw new TokenSourceError(
        'github',
        'ACTIONS_ID_TOKEN_REQUEST_URL / ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set: the job may not request OIDC tokens.',
        permissionFix,
      );
    }
    let url: URL;
    try {
      url = new URL(requestUrl);
    } catch {
      throw new TokenSourceError(
        'github',
        'ACTIONS_ID_TOKEN_REQUEST_URL is not a URL.',
        'Leave it as the runner sets it.',
      );
    }
    url.searchParams.set('audience', this.audience);
    let response: HttpResponse;
    try {
      response = await sendWithTransientRetries(
        url,
        {
          headers: { Authorization: `Bearer ${requestToken}`, Accept: 'application/json' },
          agent: proxyAgentFor(url, this.context.env),
          signal,
        },
        this.context,
        'GitHub OIDC endpoint',
      );
    } catch (error) {
      if (!(error instanceof HttpFailure)) throw error;
      throw new TokenSourceError(
        'github',
        `The GitHub OIDC endpoint ${error.url} could not be reached: ${error.message}`,
        'Re-run the job; check proxy settings on self-hosted runners.',
        { cause: error },
      );
    }
    const parsed = parseBody(response.body);
    if (response.status !== 200) {
      const message = parsed.kind === 'json' ? stringField(parsed.value, 'message') : undefined;
      throw new TokenSourceError(
        'github',
        `The GitHub OIDC endpoint answered HTTP ${response.status}${message ? `: ${message}` : ''}.`,
        response.status === 401 || response.status === 403 ? permissionFix : 'Re-run the job.',
      );
    }
    const jwt = parsed.kind === 'json' ? stringField(parsed.value, 'value') : undefined;
    if (!jwt) {
      throw new TokenSourceError(
        'github',
        'The GitHub OIDC endpoint answered without a token value.',
        'Re-run the job.',
      );
    }
    return toOidcToken(jwt, 'github', this.context.reporter, 'GitHub Actions');
  }
}
