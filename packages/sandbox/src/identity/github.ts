import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GitHubConfig } from '../config';
import type { SandboxContext } from '../context';
import { stableDecimalId, stableHex } from './deterministic';
import { answerWithFault } from './fault-injection';
import { bearerToken, requestUrl, sendJson, sendText } from './http';
import { resolveIssuer, tokenLifetimeSeconds } from './issuer-lookup';
import { unauthorizedError, VSS_JSON, vssErrorBody, vssFaultError } from './vss';

/*
 * GitHub Actions ID-token endpoint (what ACTIONS_ID_TOKEN_REQUEST_URL points at): GET …?api-version=2.0
 * [&audience=…] with `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN` → {"count": n, "value": "<jwt>"}
 * (VSS's wrapped-string shape: count is the string's length). Claims and timing follow GitHub's documented
 * example token (docs.github.com, "OpenID Connect reference"): exp = iat + 5 min, nbf = iat − 10 min.
 */

const TOKEN_PATH = '/_github/idtoken';
/** Simulated seconds. */
const DEFAULT_LIFETIME_SECONDS = 5 * 60;
/** GitHub back-dates nbf to absorb clock skew; a real-time allowance, so not time-scaled. */
const NOT_BEFORE_BACKDATE_SECONDS = 10 * 60;

export async function handleGitHubIdToken(
  ctx: SandboxContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<boolean> {
  const url = requestUrl(request);
  const github = ctx.config.github;
  if (url.pathname !== TOKEN_PATH || github === undefined) return false;
  if (await answerWithFault(ctx, 'github-oidc', request, response, vssFaultError)) return true;

  const method = request.method ?? 'GET';
  if (method !== 'GET') {
    sendText(response, 405, vssFaultError(405).body, VSS_JSON, { Allow: 'GET' });
    ctx.log(`github-oidc -> 405 method ${method}`);
    return true;
  }
  if (bearerToken(request) !== github.requestToken) {
    sendText(response, 401, vssErrorBody(unauthorizedError()), VSS_JSON);
    ctx.log('github-oidc -> 401 missing or wrong ACTIONS_ID_TOKEN_REQUEST_TOKEN');
    return true;
  }
  if (url.searchParams.get('api-version') === null) {
    sendText(
      response,
      400,
      vssErrorBody({
        message: 'No api-version was supplied for the "GET" request.',
        typeName:
          'Microsoft.VisualStudio.Services.WebApi.VssVersionNotSpecifiedException, Microsoft.VisualStudio.Services.WebApi',
        typeKey: 'VssVersionNotSpecifiedException',
      }),
      VSS_JSON,
    );
    ctx.log('github-oidc -> 400 no api-version');
    return true;
  }
  const issuer = resolveIssuer(ctx, github.issuer);
  if (issuer === undefined) {
    sendText(response, 500, vssFaultError(500).body, VSS_JSON);
    ctx.log(`github-oidc -> 500 config.github.issuer '${github.issuer}' names no hosted issuer`);
    return true;
  }

  const audience = url.searchParams.get('audience') || undefined;
  const claims = githubClaims(github, audience);
  const iat = ctx.clock.nowSeconds();
  const value = await issuer.sign(
    { ...claims, iat, nbf: iat - NOT_BEFORE_BACKDATE_SECONDS },
    { lifetimeSeconds: tokenLifetimeSeconds(ctx, issuer, DEFAULT_LIFETIME_SECONDS) },
  );
  sendJson(response, 200, { count: value.length, value });
  ctx.log(`github-oidc sub=${String(claims.sub)} aud=${String(claims.aud)} -> 200`);
  return true;
}

/**
 * GitHub's claim set for a workflow run of `config.repository` at `config.ref`. `config.claims` overrides or
 * extends it; an `environment` there switches `sub` to GitHub's environment form, as GitHub does.
 */
export function githubClaims(config: GitHubConfig, audience?: string): Record<string, unknown> {
  const owner = config.repository.split('/')[0] ?? config.repository;
  const ref = config.ref;
  const refType = ref.startsWith('refs/tags/') ? 'tag' : 'branch';
  const seed = `${config.repository}@${ref}`;
  const sha = stableHex(`sha:${seed}`, 40);
  const workflowRef = `${config.repository}/.github/workflows/deploy.yml@${ref}`;
  const environment = config.claims?.environment;
  const sub =
    typeof environment === 'string' && environment !== ''
      ? `repo:${config.repository}:environment:${environment}`
      : `repo:${config.repository}:ref:${ref}`;
  return {
    sub,
    aud: audience ?? `https://github.com/${owner}`,
    ref,
    sha,
    repository: config.repository,
    repository_owner: owner,
    repository_owner_id: stableDecimalId(`owner:${owner}`, 8),
    repository_id: stableDecimalId(`repo:${config.repository}`, 9),
    repository_visibility: 'private',
    run_id: stableDecimalId(`run:${seed}`, 10),
    run_number: '1',
    run_attempt: '1',
    actor: owner,
    actor_id: stableDecimalId(`actor:${owner}`, 8),
    workflow: 'deploy',
    workflow_ref: workflowRef,
    workflow_sha: sha,
    head_ref: '',
    base_ref: '',
    event_name: 'push',
    ref_type: refType,
    ref_protected: 'false',
    job_workflow_ref: workflowRef,
    job_workflow_sha: sha,
    runner_environment: 'github-hosted',
    ...config.claims,
  };
}
