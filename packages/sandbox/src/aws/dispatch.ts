import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { FaultPlan } from '../context';
import { AwsError, authError, renderError, type Protocol } from './errors';
import { FaultInjector, injectedError } from './fault-rules';
import { s3OperationName } from '../s3/operation-name';
import { parseFormEncoded, QueryParams } from './query';
import type { AwsCall, AwsEnvironment, AwsReply, AwsService } from './service';
import type { Caller } from './sessions';
import { claimedSigningName, hasSigV4, splitUrl, verifySigV4, type WireRequest } from './sigv4';

/** First path segments of the identity routes (IMDS, OIDC, control API), which a bucket name must not shadow. */
const IDENTITY_PREFIXES = new Set(['latest', 'metadata', 'oidc', '_sandbox', '_github', 'gitlab']);

/**
 * What the router decided to send; the server writes it, never answers (a `timeout` fault), or destroys the
 * socket without answering (`reset`: an injected connection reset, or the lost answer of a `duplicate`).
 */

export type AwsOutcome =
  | {
      kind: 'reply';
      status: number;
      headers: Record<string, string>;
      body: string | Buffer | Readable;
      log: string;
    }
  | { kind: 'no-answer'; log: string }
  | { kind: 'reset'; log: string };

const FALLBACK_QUERY_PROTOCOL: Protocol = {
  kind: 'query',
  xmlns: 'https://sts.amazonaws.com/doc/2011-06-15/',
};
const JSON_PROTOCOL: Protocol = { kind: 'json', version: '1.1' };

interface Target {
  service: AwsService | undefined;
  operation: string;
  protocol: Protocol;
  params?: QueryParams;
  json?: unknown;
  unknown?: AwsError;
}

/**
 * The AWS dispatch table. Requests are classified by protocol marker, as on AWS's shared front door:
 * `X-Amz-Target: <Prefix>.<Op>` → JSON services by prefix (CodeDeploy_20141006 …); `Action=` in a form body or
 * the query string → awsQuery services by `Version` (STS 2011-06-15, IAM 2010-05-08, CloudFormation 2010-05-15);
 * anything else SigV4-signed → REST services by the signing name in the credential scope (S3).
 */
export class AwsRouter {
  private readonly queryByVersion = new Map<string, AwsService>();
  private readonly jsonByTarget = new Map<string, AwsService>();
  private readonly restBySigningName = new Map<string, AwsService>();

  constructor(
    private readonly env: AwsEnvironment,
    private readonly faults: FaultPlan,
    /** Rate-based faults (`--faults`); counts every request to a known service. */
    private readonly injector: FaultInjector = new FaultInjector(),
  ) {}

  registerQueryService(version: string, service: AwsService): this {
    this.queryByVersion.set(version, service);
    return this;
  }

  registerJsonService(targetPrefix: string, service: AwsService): this {
    this.jsonByTarget.set(targetPrefix, service);
    return this;
  }

  registerRestService(service: AwsService): this {
    this.restBySigningName.set(service.signingName, service);
    return this;
  }

  /**
   * Whether the request's body should be streamed to its service rather than read whole first: only SigV4
   * requests to a REST service that asks for it (S3 object uploads).
   */
  streamsRequestBody(request: IncomingMessage): boolean {
    const wire = { rawUrl: request.url ?? '/', rawHeaders: request.rawHeaders };
    if (!hasSigV4(wire) || request.headers['x-amz-target'] !== undefined) return false;
    const signingName = claimedSigningName(wire);
    const service = signingName === undefined ? undefined : this.restBySigningName.get(signingName);
    return service?.streamsRequestBody?.(request) ?? false;
  }

  /** Whether a request is for the AWS side: SigV4 auth, an X-Amz-Target header, or a form POST with Action=. */
  isAwsRequest(request: IncomingMessage, body: Buffer): boolean {
    const wire = { rawUrl: request.url ?? '/', rawHeaders: request.rawHeaders };
    if (hasSigV4(wire) || request.headers['x-amz-target'] !== undefined) return true;
    if (request.method === 'POST' && isForm(request) && /(^|&)Action=/.test(body.toString('latin1')))
      return true;
    // An anonymous path-style request for an existing bucket is S3's to refuse (403 AccessDenied), as AWS
    // does, not an unknown identity route.
    return this.isBucketPath(request.url ?? '/');
  }

  /** Path-style `/<existing bucket>/…` (bucket names are plain [a-z0-9.-]; identity prefixes never are). */
  private isBucketPath(rawUrl: string): boolean {
    const first = rawUrl.split('?')[0]!.split('/')[1] ?? '';
    return (
      /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(first) &&
      !IDENTITY_PREFIXES.has(first) &&
      this.env.s3.bucketExists(first)
    );
  }

  /** `streamed`: the body was left unread in `request` (see streamsRequestBody) and `body` is empty. */
  async dispatch(
    request: IncomingMessage,
    body: Buffer,
    requestId: string,
    streamed = false,
  ): Promise<AwsOutcome> {
    const wire: WireRequest = {
      method: request.method ?? 'GET',
      rawUrl: request.url ?? '/',
      rawHeaders: request.rawHeaders,
      body,
      bodyStreamed: streamed,
    };
    const target = this.classify(request, wire);
    const label = `${target.service?.name ?? 'aws'}:${target.operation || '-'}`;
    const notes: string[] = [];
    const finish = (reply: AwsReply | AwsError, protocol: Protocol): AwsOutcome => {
      if (reply instanceof AwsError) {
        const rendered = renderError(protocol, reply, requestId);
        if (reply.detail) notes.push(reply.detail);
        return {
          kind: 'reply',
          ...rendered,
          log: `${label} ${reply.code}${notes.length ? ` (${notes.join('; ')})` : ''}`,
        };
      }
      return {
        kind: 'reply',
        status: reply.status ?? 200,
        headers: reply.headers ?? {},
        body: reply.body,
        log: `${label}${notes.length ? ` (${notes.join('; ')})` : ''}`,
      };
    };
    if (target.unknown || !target.service) {
      return finish(target.unknown ?? new AwsError('UnknownOperationException', ''), target.protocol);
    }
    const service = target.service;

    const fault = service.faultTarget ? this.faults.next(service.faultTarget) : undefined;
    if (fault) {
      if (fault.delayMs) await delay(fault.delayMs);
      if (fault.status === 'timeout')
        return { kind: 'no-answer', log: `${label} fault: no answer (timeout)` };
      const isLatencyOnly = fault.body === undefined && fault.status >= 200 && fault.status < 300;
      if (!isLatencyOnly) {
        notes.push(`injected fault ${fault.status}`);
        if (fault.body === undefined)
          return finish(faultError(service.protocol, fault.status), service.protocol);
        const html = fault.body === 'html';
        return {
          kind: 'reply',
          status: fault.status,
          headers: { 'content-type': html ? 'text/html; charset=utf-8' : 'text/plain' },
          body: html ? '<!DOCTYPE html><html><body><h1>Service Unavailable</h1></body></html>' : fault.body,
          log: `${label} injected fault ${fault.status}`,
        };
      }
    }

    // S3 operations are named only when rules may need the name (it costs a parse of the URL).
    const operation =
      service.protocol.kind === 'rest-xml' && this.injector.active
        ? s3OperationName(wire.method, wire.rawUrl, request.headers, hostOf(this.env.baseUrl()))
        : target.operation;
    const decision = this.injector.decide(service.name, operation);
    if (decision.delayMs) {
      notes.push(`injected slow ${decision.delayMs} ms`);
      await delay(decision.delayMs);
    }
    if (decision.kind === 'reset')
      return { kind: 'reset', log: `${service.name}:${operation} injected reset (not processed)` };
    if (decision.kind === 'throttle' || decision.kind === 'serverError') {
      notes.push(`injected ${decision.kind === 'throttle' ? 'throttling' : 'server error'}`);
      return finish(injectedError(service.protocol, decision.kind, decision.status), service.protocol);
    }

    const outcome = await this.authorizeAndHandle(service, target, request, wire, requestId, notes, finish);
    if (decision.kind !== 'duplicate') return outcome;
    // Processed, but the answer never arrives: the client retries an operation that already happened.
    if (outcome.kind === 'reply' && outcome.body instanceof Readable) outcome.body.destroy();
    return {
      kind: 'reset',
      log: `${outcome.log}${outcome.kind === 'reply' ? ` -> ${outcome.status}` : ''} processed; injected duplicate (answer dropped)`,
    };
  }

  private async authorizeAndHandle(
    service: AwsService,
    target: Target,
    request: IncomingMessage,
    wire: WireRequest,
    requestId: string,
    notes: string[],
    finish: (reply: AwsReply | AwsError, protocol: Protocol) => AwsOutcome,
  ): Promise<AwsOutcome> {
    let caller: Caller | undefined;
    const anonymous = service.anonymousOperations?.has(target.operation) ?? false;
    if (hasSigV4(wire)) {
      const verified = verifySigV4(wire, {
        nowMs: this.env.clock.now(),
        signingName: service.signingName,
        uriEscapePath: service.protocol.kind !== 'rest-xml',
        lookupKey: (id) => this.env.sessions.lookup(id),
      });
      if (!verified.ok) {
        notes.push(`auth: ${verified.failure.kind}`);
        return finish(authError(service.protocol, verified.failure), service.protocol);
      }
      caller = verified.principal;
    } else if (!anonymous) {
      return finish(authError(service.protocol, { kind: 'missing' }), service.protocol);
    }

    const call: AwsCall = {
      operation: target.operation,
      params: target.params,
      json: target.json,
      wire,
      headers: request.headers,
      caller,
      bodyStream: wire.bodyStreamed ? request : undefined,
      requestId,
      note: (text) => notes.push(text),
    };
    try {
      return finish(await service.handle(call), service.protocol);
    } catch (error) {
      if (error instanceof AwsError) return finish(error, service.protocol);
      notes.push(`internal error: ${(error as Error).message}`);
      return finish(
        new AwsError('InternalFailure', 'An internal error occurred.', 500, 'Receiver'),
        service.protocol,
      );
    }
  }

  private classify(request: IncomingMessage, wire: WireRequest): Target {
    const amzTarget = request.headers['x-amz-target'];
    if (typeof amzTarget === 'string') {
      const dot = amzTarget.lastIndexOf('.');
      const prefix = dot < 0 ? amzTarget : amzTarget.slice(0, dot);
      const operation = dot < 0 ? '' : amzTarget.slice(dot + 1);
      const service = this.jsonByTarget.get(prefix);
      if (!service)
        return {
          service: undefined,
          operation,
          protocol: JSON_PROTOCOL,
          unknown: new AwsError('UnknownOperationException', ''),
        };
      let json: unknown = {};
      const text = wire.body.toString('utf8');
      if (text.trim() !== '') {
        try {
          json = JSON.parse(text);
        } catch {
          return {
            service,
            operation,
            protocol: service.protocol,
            unknown: new AwsError(
              'SerializationException',
              'Start of structure or map found where not expected.',
            ),
          };
        }
      }
      return { service, operation, protocol: service.protocol, json };
    }

    const flat = parseFormEncoded(splitUrl(wire.rawUrl).rawQuery);
    if (request.method === 'POST' && isForm(request)) {
      for (const [name, value] of parseFormEncoded(wire.body.toString('utf8'))) flat.set(name, value);
    }
    const action = flat.get('Action');
    if (action !== undefined) {
      const version = flat.get('Version') ?? '';
      const service = this.queryByVersion.get(version);
      if (!service) {
        const bySigning = [...this.queryByVersion.values()].find(
          (s) => s.signingName === claimedSigningName(wire),
        );
        return {
          service: undefined,
          operation: action,
          protocol: bySigning?.protocol ?? FALLBACK_QUERY_PROTOCOL,
          unknown: new AwsError(
            'InvalidAction',
            `Could not find operation ${action} for version ${version || 'NO_VERSION_SPECIFIED'}`,
          ),
        };
      }
      return { service, operation: action, protocol: service.protocol, params: new QueryParams(flat) };
    }

    const signingName = claimedSigningName(wire);
    const rest =
      signingName === undefined
        ? this.isBucketPath(wire.rawUrl)
          ? this.restBySigningName.get('s3')
          : undefined
        : this.restBySigningName.get(signingName);
    if (rest)
      return {
        service: rest,
        operation: `${wire.method} ${splitUrl(wire.rawUrl).rawPath}`,
        protocol: rest.protocol,
      };
    return {
      service: undefined,
      operation: '',
      protocol: JSON_PROTOCOL,
      unknown: new AwsError(
        'UnknownOperationException',
        `The sandbox serves no AWS service '${signingName ?? '?'}' at this endpoint.`,
      ),
    };
  }
}

function hostOf(baseUrl: string): string | undefined {
  try {
    return new URL(baseUrl).host;
  } catch {
    return undefined;
  }
}

function isForm(request: IncomingMessage): boolean {
  return (request.headers['content-type'] ?? '')
    .toLowerCase()
    .startsWith('application/x-www-form-urlencoded');
}

/** AWS-shaped bodies for injected failures of a given status. */
function faultError(protocol: Protocol, status: number): AwsError {
  const json = protocol.kind === 'json';
  if (status === 429 || status === 400)
    return new AwsError(json ? 'ThrottlingException' : 'Throttling', 'Rate exceeded', status);
  if (status === 503) return new AwsError('ServiceUnavailable', 'Service is unavailable', 503, 'Receiver');
  if (status >= 500)
    return new AwsError(
      json ? 'InternalFailure' : 'InternalFailure',
      'An internal error occurred.',
      status,
      'Receiver',
    );
  if (status === 403) return new AwsError('AccessDenied', 'Access Denied', 403);
  return new AwsError('ServiceFailure', `Injected failure with status ${status}`, status);
}

export type { AwsEnvironment };
