import { TokenSourceError } from '../errors';
import { toOidcToken } from '../jwt';
import type { OidcToken, TokenSource } from '../types';
import type { TokenSourceContext } from './context';

export interface GitLabOptions {
  /** The variable named under `id_tokens:`; default GITLAB_OIDC_TOKEN. */
  tokenEnvVar?: string;
}

/** A GitLab CI `id_tokens` JWT. GitLab mints it once per job, so each call re-reads the variable. */
export class GitLabTokenSource implements TokenSource {
  readonly name = 'gitlab' as const;
  private readonly variable: string;

  constructor(
    options: GitLabOptions,
    private readonly context: TokenSourceContext,
  ) {
    this.variable = options.tokenEnvVar ?? 'GITLAB_OIDC_TOKEN';
  }

  describe(): string {
    return `GitLab CI id_token from $${this.variable}`;
  }

  async getToken(): Promise<OidcToken> {
    const jwt = this.context.env[this.variable]?.trim();
    if (!jwt) {
      throw new TokenSourceError(
        'gitlab',
        `The GitLab id_token variable ${this.variable} is not set in this job.`,
        `Add to the job: \`id_tokens: { ${this.variable}: { aud: sts.amazonaws.com } }\` (or name the variable with --token-env-var).`,
      );
    }
    return toOidcToken(jwt, 'gitlab', this.context.reporter, `GitLab $${this.variable}`);
  }
}
