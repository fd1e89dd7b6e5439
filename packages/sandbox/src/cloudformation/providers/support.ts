import { randomBytes, randomUUID } from 'node:crypto';
import { AwsError } from '../../aws/errors';
import type { ProgressEvent, ProviderContext, ResourceRequest } from './types';

/**
 * Helpers shared by providers: stabilization (the callback loop that makes in-progress states observable),
 * AWS-style generated physical names, and property coercion.
 */

/**
 * The first call does the work and, when the type has a delay, reports IN_PROGRESS until it has "stabilized";
 * the next call reports SUCCESS with the same result. Real handlers poll their service in exactly this shape.
 */
export async function stabilized(
  request: ResourceRequest,
  context: ProviderContext,
  service: string,
  work: () => Promise<{ physicalId: string; attributes?: Record<string, unknown> }>,
): Promise<ProgressEvent> {
  const pending = request.callbackContext?.['result'] as
    { physicalId: string; attributes?: Record<string, unknown> } | undefined;
  if (pending) return { status: 'SUCCESS', physicalId: pending.physicalId, attributes: pending.attributes };
  let result: { physicalId: string; attributes?: Record<string, unknown> };
  try {
    result = await work();
  } catch (error) {
    return failedFrom(error, service);
  }
  if (context.delaySeconds > 0) {
    return {
      status: 'IN_PROGRESS',
      physicalId: result.physicalId,
      callbackContext: { result },
      callbackDelaySeconds: context.delaySeconds,
    };
  }
  return { status: 'SUCCESS', physicalId: result.physicalId, attributes: result.attributes };
}

/** A delete in the same shape: the work, then (with a delay) one IN_PROGRESS round before SUCCESS. */
export async function stabilizedDelete(
  request: ResourceRequest,
  context: ProviderContext,
  service: string,
  work: () => Promise<void>,
): Promise<ProgressEvent> {
  if (request.callbackContext?.['deleted']) return { status: 'SUCCESS' };
  try {
    await work();
  } catch (error) {
    return failedFrom(error, service);
  }
  if (context.delaySeconds > 0) {
    return {
      status: 'IN_PROGRESS',
      callbackContext: { deleted: true },
      callbackDelaySeconds: context.delaySeconds,
    };
  }
  return { status: 'SUCCESS' };
}

/** Handler error codes as the CloudFormation registry names them, from the service error that caused them. */
export function failedFrom(error: unknown, service: string): ProgressEvent {
  if (error instanceof AwsError) {
    const errorCode = /NotFound|NoSuch/.test(error.code)
      ? 'NotFound'
      : /AlreadyExists|AlreadyOwned/.test(error.code)
        ? 'AlreadyExists'
        : /Validation|Invalid|Malformed/.test(error.code)
          ? 'InvalidRequest'
          : 'GeneralServiceException';
    // As handlers quote SDK exceptions, e.g. "The bucket you tried to delete is not empty (Service: S3, Status Code: 409, Request ID: …)".
    return {
      status: 'FAILED',
      message: `${error.message} (Service: ${service}, Status Code: ${error.status}, Request ID: ${randomUUID()})`,
      errorCode,
    };
  }
  if (error instanceof PropertyError)
    return { status: 'FAILED', message: error.message, errorCode: 'InvalidRequest' };
  throw error;
}

export class PropertyError extends Error {}

const ALNUM_UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomSuffix(length: number): string {
  let out = '';
  for (const byte of randomBytes(length)) out += ALNUM_UPPER[byte % 36];
  return out;
}

/**
 * CloudFormation's generated names: `<stack>-<logicalId>-<random>`, with stack and logical id truncated so the
 * whole fits `maxLength` (S3 lower-cases; AWS uses 12 random characters for buckets, 13 elsewhere).
 */
export function generatedName(
  request: ResourceRequest,
  options: { maxLength: number; suffixLength?: number; lowerCase?: boolean },
): string {
  const suffix = randomSuffix(options.suffixLength ?? 13);
  const room = options.maxLength - suffix.length - 2;
  let stack = request.stackName;
  let logical = request.logicalId;
  while (stack.length + logical.length > room) {
    if (stack.length >= logical.length) stack = stack.slice(0, -1);
    else logical = logical.slice(0, -1);
  }
  const name = `${stack}-${logical}-${suffix}`;
  return options.lowerCase ? name.toLowerCase() : name;
}

export function optionalString(properties: Record<string, unknown>, name: string): string | undefined {
  const value = properties[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new PropertyError(
    `Property validation failure: [Value of property {/${name}} does not match type {String}]`,
  );
}

export function requiredString(properties: Record<string, unknown>, name: string): string {
  const value = optionalString(properties, name);
  if (value === undefined)
    throw new PropertyError(`Property validation failure: [The property {/${name}} is required]`);
  return value;
}

export function stringList(properties: Record<string, unknown>, name: string): string[] {
  const value = properties[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value))
    throw new PropertyError(
      `Property validation failure: [Value of property {/${name}} does not match type {Array}]`,
    );
  return value.map((item) => String(item));
}

/** JSON policy documents may be given as objects or as JSON text. */
export function documentText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Replacement when any of `names` differs (deep, by JSON) between the two property sets. */
export function changedAny(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  names: readonly string[],
): boolean {
  return names.some((name) => JSON.stringify(before[name]) !== JSON.stringify(after[name]));
}
