/**
 * Classifies SDK v3 errors by their wire codes and HTTP status. Codes are matched, never message prefixes,
 * except where AWS offers nothing else (documented at each use).
 */
interface SdkErrorShape {
  name?: string;
  message?: string;
  Code?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
}

function shape(error: unknown): SdkErrorShape {
  return typeof error === 'object' && error !== null ? (error as SdkErrorShape) : {};
}

/** The wire code of an SDK error (`ValidationError`, `Throttling`, `ExpiredToken`, …), if it has one. */
export function awsErrorCode(error: unknown): string | undefined {
  const { Code, name } = shape(error);
  const code = Code ?? name;
  return code && code !== 'Error' ? code : undefined;
}

export function awsErrorMessage(error: unknown): string {
  if (typeof error === 'object' && error !== null) return shape(error).message ?? String(error);
  return String(error);
}

export function httpStatusOf(error: unknown): number | undefined {
  const { $metadata, $response } = shape(error);
  return $metadata?.httpStatusCode ?? $response?.statusCode;
}

const throttlingCodes = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'RequestThrottled',
  'RequestThrottledException',
]);

/** Throttling in every form AWS uses: codes, 429/503, and "Rate exceeded" (CloudFormation's message). */
export function isThrottlingError(error: unknown): boolean {
  const code = awsErrorCode(error);
  if (code && throttlingCodes.has(code)) return true;
  const status = httpStatusOf(error);
  if (status === 429 || status === 503) return true;
  return /rate exceeded/i.test(awsErrorMessage(error));
}

/** The session's credentials expired: query services and S3 say `ExpiredToken`, JSON services `ExpiredTokenException`. */
export function isExpiredCredentialsError(error: unknown): boolean {
  const code = awsErrorCode(error);
  return code === 'ExpiredToken' || code === 'ExpiredTokenException' || code === 'RequestExpired';
}

/** A network-level failure that says nothing about the request itself. */
export function isTransientNetworkError(error: unknown): boolean {
  const { code, name } = shape(error);
  if (name === 'TimeoutError') return true;
  return (
    code !== undefined &&
    ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ECONNABORTED'].includes(code)
  );
}

/**
 * A 5xx answer (InternalFailure, ServiceUnavailable, S3's InternalError…): the service failed, not the request,
 * so asking again is right. The SDK retries these itself; this is for loops that outlast its attempts.
 */
export function isServerError(error: unknown): boolean {
  const status = httpStatusOf(error);
  return status !== undefined && status >= 500 && status <= 599;
}

/** Anything worth asking again: throttling, a 5xx, or a network failure that says nothing about the request. */
export function isRetryableError(error: unknown): boolean {
  return isThrottlingError(error) || isServerError(error) || isTransientNetworkError(error);
}
