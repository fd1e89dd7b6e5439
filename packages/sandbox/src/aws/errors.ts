import { escapeXml } from './xml';

/** How a service speaks on the wire; errors must come back in the same dialect the client parses. */
export type Protocol =
  | { kind: 'query'; xmlns: string }
  | { kind: 'json'; version: '1.0' | '1.1' }
  | { kind: 'rest-xml' }
  /** EC2's own query dialect: awsQuery requests, but errors as `<Response><Errors><Error>…` without a namespace. */
  | { kind: 'ec2' };

/** An error the sandbox answers exactly as AWS would: code, message, HTTP status, fault type. */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly fault: 'Sender' | 'Receiver' = 'Sender',
    /** Extra elements for REST-XML errors (e.g. BucketName, Key). */
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
    this.name = code;
  }

  /** Why, in more words than AWS puts on the wire — for the sandbox log line only (never secrets). */
  detail: string | undefined;

  withDetail(detail: string): this {
    this.detail = detail;
    return this;
  }
}

export interface RenderedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function renderError(protocol: Protocol, error: AwsError, requestId: string): RenderedResponse {
  switch (protocol.kind) {
    case 'query':
      return {
        status: error.status,
        headers: { 'content-type': 'text/xml' },
        body:
          `<ErrorResponse xmlns="${escapeXml(protocol.xmlns)}">` +
          `<Error><Type>${error.fault}</Type><Code>${escapeXml(error.code)}</Code>` +
          `<Message>${escapeXml(error.message)}</Message></Error>` +
          `<RequestId>${requestId}</RequestId></ErrorResponse>\n`,
      };
    case 'ec2':
      return {
        status: error.status,
        headers: { 'content-type': 'text/xml;charset=UTF-8' },
        body:
          `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(error.code)}</Code>` +
          `<Message>${escapeXml(error.message)}</Message></Error></Errors>` +
          `<RequestID>${requestId}</RequestID></Response>`,
      };
    case 'json':
      // The SDK reads x-amzn-ErrorType first, then __type; both carry the bare shape name.
      return {
        status: error.status,
        headers: {
          'content-type': `application/x-amz-json-${protocol.version}`,
          'x-amzn-errortype': error.code,
        },
        body: JSON.stringify({ __type: error.code, message: error.message }),
      };
    case 'rest-xml': {
      const extra = Object.entries(error.extra)
        .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
        .join('');
      return {
        status: error.status,
        headers: { 'content-type': 'application/xml' },
        body:
          `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(error.code)}</Code>` +
          `<Message>${escapeXml(error.message)}</Message>${extra}<RequestId>${requestId}</RequestId></Error>`,
      };
    }
  }
}

/**
 * Authentication failures, named once and rendered per protocol: AWS answers the same failure with different
 * codes, statuses and wording depending on the service family (awsQuery, JSON, S3).
 */
export type AuthFailure =
  | { kind: 'missing' }
  | { kind: 'incomplete'; detail: string }
  | { kind: 'unknown-key' }
  | { kind: 'invalid-token' }
  | { kind: 'bad-signature' }
  | { kind: 'expired-token' }
  | { kind: 'skewed'; requestTime: string; now: string; boundary: string; direction: 'past' | 'future' }
  | { kind: 'presign-expired' }
  | { kind: 'wrong-scope'; detail: string }
  | { kind: 'content-sha-mismatch' };

// Wordings confirmed in public issue threads (issues corpus): InvalidClientTokenId "The security token included in
// the request is invalid." (aws-azure-login#251, jrl84/amazon-sp-api#218, 403); ExpiredToken "The security token
// included in the request is expired" (pulumi/pulumi-aws#3866, 403); MissingAuthenticationToken "Request is missing
// Authentication Token" (amzn/selling-partner-api-docs#3081, STS ErrorResponse, 403); SignatureDoesNotMatch "The
// request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and
// signing method. Consult the service documentation for details." (aws/aws-cli#135, GetCallerIdentity in
// apancutt/deploy-aws-s3-cloudfront#25); "Signature expired: X is now earlier than Y (Z - 15 min.)"
// (aws/aws-sdk-js#254 as InvalidSignatureException for JSON services, convox/rack#235 as SignatureDoesNotMatch).
const BAD_SIGNATURE =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
const INVALID_TOKEN = 'The security token included in the request is invalid.';
const EXPIRED_TOKEN = 'The security token included in the request is expired';

function skewMessage(f: Extract<AuthFailure, { kind: 'skewed' }>): string {
  return f.direction === 'past'
    ? `Signature expired: ${f.requestTime} is now earlier than ${f.boundary} (${f.now} - 15 min.)`
    : `Signature not yet current: ${f.requestTime} is still later than ${f.boundary} (${f.now} + 15 min.)`;
}

export function authError(protocol: Protocol, failure: AuthFailure): AwsError {
  if (protocol.kind === 'rest-xml') return s3AuthError(failure);
  const json = protocol.kind === 'json';
  switch (failure.kind) {
    case 'missing':
      return json
        ? new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 400)
        : new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
    case 'incomplete':
      return new AwsError(json ? 'IncompleteSignatureException' : 'IncompleteSignature', failure.detail, 400);
    case 'unknown-key':
    case 'invalid-token':
      return json
        ? new AwsError('UnrecognizedClientException', INVALID_TOKEN, 400)
        : new AwsError('InvalidClientTokenId', INVALID_TOKEN, 403);
    case 'bad-signature':
    case 'content-sha-mismatch':
      return json
        ? new AwsError('InvalidSignatureException', BAD_SIGNATURE, 400)
        : new AwsError('SignatureDoesNotMatch', BAD_SIGNATURE, 403);
    case 'wrong-scope':
      return json
        ? new AwsError('InvalidSignatureException', failure.detail, 400)
        : new AwsError('SignatureDoesNotMatch', failure.detail, 403);
    case 'expired-token':
      return json
        ? new AwsError('ExpiredTokenException', EXPIRED_TOKEN, 400)
        : new AwsError('ExpiredToken', EXPIRED_TOKEN, 403);
    case 'skewed':
      return json
        ? new AwsError('InvalidSignatureException', skewMessage(failure), 400)
        : new AwsError('SignatureDoesNotMatch', skewMessage(failure), 403);
    case 'presign-expired':
      return new AwsError(
        json ? 'InvalidSignatureException' : 'SignatureDoesNotMatch',
        'Signature expired',
        403,
      );
  }
}

function s3AuthError(failure: AuthFailure): AwsError {
  switch (failure.kind) {
    case 'missing':
      return new AwsError('AccessDenied', 'Access Denied', 403);
    case 'incomplete':
      return new AwsError('AuthorizationHeaderMalformed', failure.detail, 400);
    case 'unknown-key':
      return new AwsError(
        'InvalidAccessKeyId',
        'The AWS Access Key Id you provided does not exist in our records.',
        403,
      );
    case 'invalid-token':
      return new AwsError('InvalidToken', 'The provided token is malformed or otherwise invalid.', 400);
    case 'bad-signature':
      return new AwsError(
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
        403,
      );
    case 'wrong-scope':
      return new AwsError('AuthorizationHeaderMalformed', failure.detail, 400);
    case 'expired-token':
      return new AwsError('ExpiredToken', 'The provided token has expired.', 400);
    case 'skewed':
      return new AwsError(
        'RequestTimeTooSkewed',
        'The difference between the request time and the current time is too large.',
        403,
      );
    case 'presign-expired':
      return new AwsError('AccessDenied', 'Request has expired', 403);
    case 'content-sha-mismatch':
      return new AwsError(
        'XAmzContentSHA256Mismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        400,
      );
  }
}
