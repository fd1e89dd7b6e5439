import { TokenSourceError } from '../errors';
import { HttpFailure, parseBody, sendHttpRequest, stringField, type HttpResponse } from '../http';
import { toOidcToken } from '../jwt';
import { parseRetryAfter, realSleep } from '../retry';
import type { OidcToken, TokenSource } from '../types';
import type { TokenSourceContext } from './context';

export interface AzureManagedIdentityOptions {
  /** The token audience: the App ID URI (or app id) of the app registration AWS trusts. */
  audience: string;
  clientId?: string;
  objectId?: string;
  msiResourceId?: string;
  /** IMDS base URL; default AZURE_POD_IDENTITY_AUTHORITY_HOST, else http://169.254.169.254. */
  endpoint?: string;
}

/**
 * Microsoft's IMDS retry guidance: exponential backoff with min 0 s, delta 2 s → waits of 0, 2, 6, 14, 30 s
 * before the five retries; 5xx are retried no sooner than 1 s.
 */
export const azureImdsRetryDelaysMs = [0, 2_000, 6_000, 14_000, 30_000];
const minimumServerErrorDelayMs = 1_000;

/** Token for a user-assigned (or the system-assigned) managed identity, straight from Azure IMDS. */
export class AzureManagedIdentityTokenSource implements TokenSource {
  readonly name = 'azure-managed-identity' as const;
  private readonly baseUrl: string;

  constructor(
    private readonly options: AzureManagedIdentityOptions,
    private readonly context: TokenSourceContext,
  ) {
    const base =
      options.endpoint ?? context.env.AZURE_POD_IDENTITY_AUTHORITY_HOST ?? 'http://169.254.169.254';
    this.baseUrl = base.replace(/\/+$/, '');
  }

  describe(): string {
    return `Azure managed identity (${this.selectorText()}, audience ${this.options.audience}) via ${this.baseUrl}`;
  }

  async getToken(signal?: AbortSignal): Promise<OidcToken> {
    const url = this.tokenUrl();
    const sleep = this.context.sleep ?? realSleep;
    const now = this.context.now ?? Date.now;
    const delays = this.context.retryDelaysMs ?? azureImdsRetryDelaysMs;
    const deadline = now() + (this.context.deadlineMs ?? 90_000);
    let lastProblem = '';
    for (let attempt = 0; ; attempt++) {
      let response: HttpResponse | undefined;
      try {
        // Never through a proxy: IMDS is link-local and the docs say proxies are unsupported. No agent = direct.
        response = await sendHttpRequest(url, {
          headers: { Metadata: 'true' },
          timeoutMs: this.context.timeoutMs ?? 10_000,
          signal,
        });
      } catch (error) {
        if (!(error instanceof HttpFailure)) throw error;
        if (error.kind === 'unreachable') throw this.unreachable(error);
        lastProblem = error.message;
      }
      let minimumDelay = 0;
      let retryAfter: number | undefined;
      if (response) {
        if (response.status === 200) return this.parseToken(response);
        if (!isRetryableStatus(response.status)) throw this.rejected(response);
        lastProblem = `IMDS answered ${response.status}${azureErrorText(response)}`;
        if (response.status >= 500) minimumDelay = minimumServerErrorDelayMs;
        retryAfter = parseRetryAfter(headerText(response.headers['retry-after']));
      }
      const scheduled = delays[attempt];
      if (scheduled === undefined) break;
      const wait = Math.max(scheduled, minimumDelay, retryAfter ?? 0);
      if (now() + wait > deadline) break;
      this.context.reporter.debug(
        `Azure IMDS: ${lastProblem}; retrying in ${wait} ms (retry ${attempt + 1}).`,
      );
      await sleep(wait, signal);
    }
    throw new TokenSourceError(
      'azure-managed-identity',
      `Azure IMDS at ${this.baseUrl} did not issue a token after retrying: ${lastProblem}.`,
      'IMDS may be updating or throttling; re-run the job. If it persists, check the VM has the managed identity attached.',
    );
  }

  private tokenUrl(): URL {
    const url = new URL(`${this.baseUrl}/metadata/identity/oauth2/token`);
    url.searchParams.set('api-version', '2018-02-01');
    url.searchParams.set('resource', this.options.audience);
    if (this.options.clientId) url.searchParams.set('client_id', this.options.clientId);
    if (this.options.objectId) url.searchParams.set('object_id', this.options.objectId);
    if (this.options.msiResourceId) url.searchParams.set('msi_res_id', this.options.msiResourceId);
    return url;
  }

  private parseToken(response: HttpResponse): OidcToken {
    const parsed = parseBody(response.body);
    const accessToken = parsed.kind === 'json' ? stringField(parsed.value, 'access_token') : undefined;
    if (!accessToken) {
      throw new TokenSourceError(
        'azure-managed-identity',
        `Azure IMDS at ${this.baseUrl} answered 200 without an access_token (${parsed.kind === 'html' ? 'an HTML page' : 'unexpected body'}).`,
        'Check nothing intercepts 169.254.169.254 on this machine, or that the IMDS endpoint setting points at IMDS.',
      );
    }
    return toOidcToken(accessToken, 'azure-managed-identity', this.context.reporter, 'Azure IMDS');
  }

  private unreachable(failure: HttpFailure): TokenSourceError {
    return new TokenSourceError(
      'azure-managed-identity',
      `Azure IMDS is not reachable at ${this.baseUrl} (${failure.errorCode ?? failure.kind}): this is not an Azure VM, or IMDS is blocked.`,
      'Run on an Azure VM (self-hosted agent) with a user-assigned managed identity attached, or set the IMDS endpoint (--azure-imds-endpoint / AZURE_POD_IDENTITY_AUTHORITY_HOST).',
      { cause: failure },
    );
  }

  private rejected(response: HttpResponse): TokenSourceError {
    const parsed = parseBody(response.body);
    const code = parsed.kind === 'json' ? stringField(parsed.value, 'error') : undefined;
    const detail = azureErrorText(response);
    const base = `Azure IMDS refused the token request (${response.status}${detail})`;
    if (code === 'invalid_resource') {
      return new TokenSourceError(
        'azure-managed-identity',
        `${base}: the audience "${this.options.audience}" is not an App ID URI (or app id) in this identity's tenant.`,
        "Set --audience to your app registration's Application ID URI (Entra ID → App registrations → Expose an API).",
      );
    }
    if (code === 'bad_request_102') {
      return new TokenSourceError(
        'azure-managed-identity',
        `${base}: the Metadata header was missing or stripped on the way to IMDS.`,
        'Check no proxy or firewall rewrites requests to 169.254.169.254.',
      );
    }
    if (response.status === 400 && /identity/i.test(detail)) {
      return new TokenSourceError(
        'azure-managed-identity',
        `${base}: the requested identity (${this.selectorText()}) is not attached to this VM, or several are attached and none was chosen.`,
        'Attach the user-assigned identity to the VM and pass its --client-id (or --object-id / --msi-res-id).',
      );
    }
    if (response.status === 401 || code === 'unknown_source') {
      return new TokenSourceError(
        'azure-managed-identity',
        `${base}: IMDS rejected the caller.`,
        'Call IMDS directly from the VM, not through a proxy or a forwarded port.',
      );
    }
    return new TokenSourceError(
      'azure-managed-identity',
      base + '.',
      'Check the managed identity selector and audience; this error will not go away by retrying.',
    );
  }

  private selectorText(): string {
    if (this.options.clientId) return `client id ${this.options.clientId}`;
    if (this.options.objectId) return `object id ${this.options.objectId}`;
    if (this.options.msiResourceId) return `resource id ${this.options.msiResourceId}`;
    return 'the only attached identity';
  }
}

function isRetryableStatus(status: number): boolean {
  return status === 404 || status === 410 || status === 429 || status >= 500;
}

function azureErrorText(response: HttpResponse): string {
  const parsed = parseBody(response.body);
  if (parsed.kind === 'html') return ', an HTML page';
  if (parsed.kind !== 'json') return parsed.excerpt ? `: ${parsed.excerpt}` : '';
  const error = stringField(parsed.value, 'error');
  // Entra appends trace ids, timestamps and advice on further lines; the first sentence is what a person needs.
  const description = firstSentence(stringField(parsed.value, 'error_description'));
  if (!error && !description) return '';
  return `: ${[error, description].filter(Boolean).join(' — ')}`;
}

function firstSentence(text: string | undefined): string | undefined {
  if (!text) return text;
  const line = text.split(/\r?\n/)[0]!.trim();
  const end = line.search(/\.(\s|$)/);
  return end === -1 ? line : line.slice(0, end + 1);
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
