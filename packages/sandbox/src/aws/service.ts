import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../clock';
import type { FaultTarget, IssuerRegistry } from '../context';
import type { Protocol } from './errors';
import type { IamState } from './iam-state';
import type { QueryParams } from './query';
import type { Caller, SessionStore } from './sessions';
import type { WireRequest } from './sigv4';

/** The AWS-side state every service handler works on. */
export interface AwsEnvironment {
  readonly accountId: string;
  readonly region: string;
  readonly clock: Clock;
  readonly iam: IamState;
  readonly sessions: SessionStore;
  readonly issuers: IssuerRegistry;
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
  readonly requestId: string;
  /** Adds a (non-secret) remark to this request's log line, e.g. why a trust policy refused. */
  note(text: string): void;
}

export interface AwsReply {
  status?: number;
  headers?: Record<string, string>;
  body: string | Buffer;
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
}
