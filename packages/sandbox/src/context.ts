import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KeyObject } from 'node:crypto';
import type { Clock } from './clock';
import type { SandboxConfig } from './config';
import type { FaultInjector } from './aws/fault-rules';

/**
 * What the sandbox's parts share. The AWS side (aws/: routing, SigV4, IAM, STS) and the identity side
 * (identity/: issuers, IMDS, Azure DevOps, GitHub, EC2 metadata, control API) meet only through these types.
 */
export interface SandboxContext {
  readonly accountId: string;
  readonly region: string;
  readonly clock: Clock;
  /** Caps every issued session's real lifetime (testing knob); undefined = no cap. */
  readonly maxSessionSeconds: number | undefined;
  /** e.g. http://127.0.0.1:4566 — known once the server listens. */
  baseUrl(): string;
  readonly config: SandboxConfig;
  readonly issuers: IssuerRegistry;
  readonly sessions: SessionIssuer;
  readonly faults: FaultPlan;
  /** Rate-based faults on the AWS side (`--faults`), set and read through the control API. */
  readonly awsFaults: FaultInjector;
  log(line: string): void;
}

/** A signing key of a hosted issuer. */
export interface IssuerKey {
  kid: string;
  publicKey: KeyObject;
}

/** An OIDC issuer the sandbox hosts. */
export interface HostedIssuer {
  readonly id: string;
  /** The exact `iss` claim value. */
  readonly issuer: string;
  /** Current and recently rotated public keys (rotation keeps the previous key published for a while). */
  keys(): IssuerKey[];
  /** JWKS document as served at the issuer's `jwks_uri`. */
  jwks(): { keys: Array<Record<string, unknown>> };
  /** Sign claims with the current key (RS256). `iss`, `iat`, `nbf`, `exp`, `jti` are filled in unless given. */
  sign(
    claims: Record<string, unknown>,
    options?: { lifetimeSeconds?: number; kid?: string },
  ): Promise<string>;
  /** Start signing with a new key; the old one stays in the JWKS. Returns the new kid. */
  rotate(): Promise<string>;
}

export interface IssuerRegistry {
  /** By the exact `iss` string (what STS does after finding the IAM provider). */
  byIssuer(iss: string): HostedIssuer | undefined;
  byId(id: string): HostedIssuer | undefined;
  all(): HostedIssuer[];
}

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** Real wall-clock expiry. */
  expiration: Date;
  assumedRoleArn: string;
  assumedRoleId: string;
}

/** Implemented by the STS side: mints role sessions (also used by EC2 instance metadata). */
export interface SessionIssuer {
  issueRoleSession(request: {
    roleArn: string;
    sessionName: string;
    /** Requested simulated seconds; the real lifetime is scaled and capped by maxSessionSeconds. */
    durationSeconds: number;
  }): IssuedCredentials;
}

/** Where the sandbox can be told to fail the way the real service fails. */
export type FaultTarget =
  'azure-imds' | 'azure-devops-oidc' | 'github-oidc' | 'ec2-imds' | 'oidc-discovery' | 'sts' | 'iam';

export interface FaultResponse {
  /** HTTP status to answer with (e.g. 404, 410, 429, 500), or `timeout` to never answer. */
  status: number | 'timeout';
  /** Body override; `html` sends an HTML sign-in page as some real endpoints do. */
  body?: string | 'html';
  /** Delay before answering, real milliseconds. */
  delayMs?: number;
}

export interface FaultPlan {
  /** Queue responses: the next requests to `target` get them in order, then behaviour returns to normal. */
  queue(target: FaultTarget, responses: FaultResponse[]): void;
  /** Take the next queued fault for `target`, if any. */
  next(target: FaultTarget): FaultResponse | undefined;
  clear(target?: FaultTarget): void;
}

/** A route handler: returns false when the request is not its to answer. */
export type RouteHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  body: Buffer,
) => Promise<boolean>;
