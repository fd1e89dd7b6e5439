import { XMLParser } from 'fast-xml-parser';
import { escapeXml } from '../aws/xml';
import { s3Errors } from './errors';
import type { RequestedPart } from './multipart';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** An element tree in document order; arrays repeat the element (S3 lists have no wrapper elements). */
export type S3XmlNode =
  string | number | boolean | Date | undefined | S3XmlNode[] | { [name: string]: S3XmlNode };

function renderChildren(name: string, value: S3XmlNode): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map((item) => renderChildren(name, item)).join('');
  return `<${name}>${renderValue(value)}</${name}>`;
}

function renderValue(value: Exclude<S3XmlNode, undefined | S3XmlNode[]>): string {
  if (typeof value === 'string') return escapeXml(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  // S3 prints timestamps with milliseconds: 2024-01-02T03:04:05.000Z.
  if (value instanceof Date) return value.toISOString();
  return Object.entries(value)
    .map(([name, child]) => renderChildren(name, child))
    .join('');
}

/** A whole S3 response document: declaration, namespaced root element, children in the order given. */
export function renderS3Document(root: string, children: Record<string, S3XmlNode>): string {
  return `${DECLARATION}<${root} xmlns="${S3_XMLNS}">${renderValue(children)}</${root}>`;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  removeNSPrefix: true,
  isArray: (name) => name === 'Part',
});

function parseDocument(body: Buffer): Record<string, unknown> {
  try {
    const parsed: unknown = parser.parse(body.toString('utf8'), true);
    if (parsed && typeof parsed === 'object') return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw s3Errors.malformedXml();
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** `<CompleteMultipartUpload><Part><PartNumber/><ETag/></Part>…</CompleteMultipartUpload>` */
export function parseCompleteMultipartUpload(body: Buffer): RequestedPart[] {
  const root = asRecord(parseDocument(body)['CompleteMultipartUpload']);
  const parts = root?.['Part'];
  if (!Array.isArray(parts) || parts.length === 0) throw s3Errors.malformedXml();
  return parts.map((item) => {
    const part = asRecord(item);
    const number = part?.['PartNumber'];
    const etag = part?.['ETag'];
    if (typeof number !== 'string' || !/^\d+$/.test(number) || typeof etag !== 'string')
      throw s3Errors.malformedXml();
    return { partNumber: Number(number), etag };
  });
}

/** The LocationConstraint of a CreateBucket body; undefined for an empty body or an empty constraint. */
export function parseCreateBucketConfiguration(body: Buffer): string | undefined {
  if (body.toString('utf8').trim() === '') return undefined;
  const root = parseDocument(body)['CreateBucketConfiguration'];
  if (root === '') return undefined;
  const config = asRecord(root);
  if (!config) throw s3Errors.malformedXml();
  const constraint = config['LocationConstraint'];
  if (constraint === undefined || constraint === '') return undefined;
  if (typeof constraint !== 'string') throw s3Errors.malformedXml();
  return constraint;
}
