import type { GitLabConfig } from '../config';
import { stableDecimalId, stableHex } from './deterministic';

/*
 * GitLab puts `id_tokens` into job variables, so there is no endpoint to emulate: the control API mints GitLab
 * tokens with these claims. Claim names and string-typed ids follow GitLab's "OpenID Connect (OIDC)
 * authentication using ID tokens" reference.
 */

/** GitLab's claim set for a pipeline job of `config.projectPath` at `config.ref`, for one `aud`. */
export function gitlabClaims(config: GitLabConfig, audience: string): Record<string, unknown> {
  const refType = config.refType ?? 'branch';
  const ref = config.ref.replace(/^refs\/(heads|tags)\//, '');
  const segments = config.projectPath.split('/');
  const namespacePath = segments.slice(0, -1).join('/') || config.projectPath;
  const seed = `${config.projectPath}@${refType}:${ref}`;
  const sha = stableHex(`sha:${seed}`, 40);
  return {
    sub: `project_path:${config.projectPath}:ref_type:${refType}:ref:${ref}`,
    aud: audience,
    namespace_id: stableDecimalId(`namespace:${namespacePath}`, 6),
    namespace_path: namespacePath,
    project_id: stableDecimalId(`project:${config.projectPath}`, 8),
    project_path: config.projectPath,
    project_visibility: 'private',
    user_id: stableDecimalId(`user:${namespacePath}`, 6),
    user_login: segments[0] ?? 'developer',
    user_access_level: 'maintainer',
    pipeline_id: stableDecimalId(`pipeline:${seed}`, 9),
    pipeline_source: 'push',
    job_id: stableDecimalId(`job:${seed}`, 10),
    ref,
    ref_type: refType,
    ref_path: `refs/${refType === 'tag' ? 'tags' : 'heads'}/${ref}`,
    ref_protected: refType === 'branch' && (ref === 'main' || ref === 'master') ? 'true' : 'false',
    runner_id: stableDecimalId(`runner:${namespacePath}`, 5),
    runner_environment: 'gitlab-hosted',
    sha,
  };
}
