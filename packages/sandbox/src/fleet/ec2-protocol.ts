import { AwsError } from '../aws/errors';
import type { QueryTree } from '../aws/query';
import { escapeXml } from '../aws/xml';

/**
 * EC2's own query dialect. Requests are form-encoded like awsQuery, but lists are `Name.N` (no `.member`), and
 * responses are `<OpResponse xmlns=…><requestId>…</requestId>…fields…</OpResponse>` with no `<OpResult>` wrapper
 * and lists as `<item>` elements.
 */
export const EC2_XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

/** A value the EC2 serializer renders: objects are child elements in key order, arrays `<item>` lists. */
export type Ec2Xml = string | number | boolean | Date | Ec2Xml[] | { [name: string]: Ec2Xml | undefined };

export function renderEc2Value(value: Ec2Xml): string {
  if (typeof value === 'string') return escapeXml(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  // EC2 prints times with milliseconds (`2024-05-01T10:00:00.000Z`), unlike the awsQuery services.
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => `<item>${renderEc2Value(item)}</item>`).join('');
  let out = '';
  for (const [name, child] of Object.entries(value)) {
    if (child === undefined) continue;
    out += `<${name}>${renderEc2Value(child)}</${name}>`;
  }
  return out;
}

export function renderEc2Response(
  operation: string,
  fields: Record<string, Ec2Xml | undefined>,
  requestId: string,
): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="${EC2_XMLNS}">` +
    `<requestId>${requestId}</requestId>${renderEc2Value(fields)}</${operation}Response>`
  );
}

export type Ec2Struct = { [name: string]: QueryTree };

/** Typed reads of one request's (sub)tree: `field`, `Name.N` lists, nested structs. */
export class Ec2Params {
  constructor(readonly tree: Ec2Struct) {}

  string(name: string): string | undefined {
    const value = this.tree[name];
    return typeof value === 'string' ? value : undefined;
  }

  requiredString(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === '')
      throw new AwsError('MissingParameter', `The request must contain the parameter ${name}`);
    return value;
  }

  integer(name: string): number | undefined {
    const raw = this.string(name);
    if (raw === undefined || raw === '') return undefined;
    if (!/^-?\d+$/.test(raw.trim()))
      throw new AwsError('InvalidParameterValue', `Invalid value '${raw}' for ${name}. Must be an integer.`);
    return Number(raw);
  }

  boolean(name: string): boolean | undefined {
    const raw = this.string(name);
    return raw === undefined ? undefined : raw === 'true';
  }

  /** A `Name.N` list of strings. */
  strings(name: string): string[] {
    const value = this.tree[name];
    if (value === undefined) return [];
    if (typeof value === 'string') return value === '' ? [] : [value];
    if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
    return [];
  }

  struct(name: string): Ec2Params | undefined {
    const value = this.tree[name];
    return typeof value === 'object' && !Array.isArray(value) ? new Ec2Params(value) : undefined;
  }

  /** A `Name.N.Field` list of structures. */
  structs(name: string): Ec2Params[] {
    const value = this.tree[name];
    if (!Array.isArray(value)) return [];
    return value
      .filter((v): v is Ec2Struct => typeof v === 'object' && !Array.isArray(v))
      .map((v) => new Ec2Params(v));
  }

  /** `Tag.N.Key/Value` (and any other `Name.N.Key/Value` list) as a map. */
  tags(name = 'Tag'): Record<string, string> {
    const tags: Record<string, string> = {};
    for (const tag of this.structs(name)) {
      const key = tag.string('Key');
      if (key !== undefined) tags[key] = tag.string('Value') ?? '';
    }
    return tags;
  }

  /** `TagSpecification.N.ResourceType` + `.Tag.N`. */
  tagSpecifications(
    name = 'TagSpecification',
  ): Array<{ resourceType: string; tags: Record<string, string> }> {
    return this.structs(name).map((spec) => ({
      resourceType: spec.string('ResourceType') ?? '',
      tags: spec.tags(),
    }));
  }

  /** `Filter.N.Name` + `Filter.N.Value.N`. */
  filters(): Array<{ name: string; values: string[] }> {
    return this.structs('Filter').map((filter) => ({
      name: filter.string('Name') ?? '',
      values: filter.strings('Value'),
    }));
  }
}

/** EC2 filter values may use `*` and `?` wildcards. */
export function filterMatches(pattern: string, value: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === value;
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`, 's').test(value);
}

export function tagSet(tags: Record<string, string>): Ec2Xml[] | undefined {
  const entries = Object.entries(tags);
  return entries.length === 0 ? undefined : entries.map(([key, value]) => ({ key, value }));
}
