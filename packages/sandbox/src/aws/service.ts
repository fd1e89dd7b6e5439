import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { Clock } from '../clock';
import type { FaultTarget, IssuerRegistry } from '../context';
import type { Protocol } from './errors';
import type { IamState } from './iam-state';
import type { QueryParams } from './query';
import type { Caller, SessionStore } from './sessions';
import type { WireRequest } from './sigv4';
import type { S3Store } from '../s3/store';
import type { Fleet } from '../fleet/types';
import type { LoadBalancing } from '../elb/types';

/** The AWS-side state every service handler works on. */
export interface AwsEnvironment {
  readonly accountId: string;
  readonly region: string;
  readonly clock: Clock;
  readonly iam: IamState;
  readonly sessions: SessionStore;
  readonly issuers: IssuerRegistry;
  readonly s3: S3Store;
  /** EC2 instances, launch templates and Auto Scaling groups. */
  readonly fleet: Fleet;
  /** Load balancers (real reverse proxies) and target groups. */
  readonly elb: LoadBalancing;
  /** Private directory for on-disk state (S3 objects, instance roots); removed on close unless user-given. */
  readonly dataDir: string;
  /** Base URL of the sandbox (http://127.0.0.1:<port>), for URLs it hands out (TemplateURL, DNS names). */
  baseUrl(): string;
  log(line: string): void;
}

/** One authenticated (or deliberately anonymous) call, parsed for its protocol. */
export interface AwsCall {
  readonly operation: string;
  /** awsQuery parameters (query services only). */
  readonly params: QueryParams | undefined;
  /** Parsed JSON body (JSON services only). */
  readonly json: unknown;
  readonly wire: WireRequest;
  readonly headers: IncomingHttpHeaders;
  /** Undefined only for operations the service serves anonymously. */
  readonly caller: Caller | undefined;
  /**
   * The request body as a stream, for requests the service asked to stream (streamsRequestBody); `wire.body`
   * is then empty. The handler must consume it (or the server discards what is left).
   */
  readonly bodyStream?: Readable;
  readonly requestId: string;
  /** Adds a (non-secret) remark to this request's log line, e.g. why a trust policy refused. */
  note(text: string): void;
}

export interface AwsReply {
  status?: number;
  headers?: Record<string, string>;
  /** A Readable is piped to the client; the service then sets content-length itself. */
  body: string | Buffer | Readable;
}

/** An entry in the AWS dispatch table. */
export interface AwsService {
  /** Short name for logs, e.g. `sts`. */
  readonly name: string;
  /** The service name clients put in the SigV4 credential scope. */
  readonly signingName: string;
  readonly protocol: Protocol;
  readonly faultTarget?: FaultTarget;
  /** Operations AWS serves without SigV4 (e.g. AssumeRoleWithWebIdentity). */
  readonly anonymousOperations?: ReadonlySet<string>;
  handle(call: AwsCall): Promise<AwsReply> | AwsReply;
  /**
   * Whether this (SigV4-signed) request's body should reach the handler as a stream instead of a buffer, so
   * large uploads never sit whole in memory. The signed payload hash is then the handler's to check.
   */
  streamsRequestBody?(request: IncomingMessage): boolean;
}
