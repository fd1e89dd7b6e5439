import { PropertyError, optionalString } from '../cloudformation/providers/support';

/** Reading CloudFormation property values the EC2 and Auto Scaling resource types use. */

export function tagList(properties: Record<string, unknown>, name = 'Tags'): Record<string, string> {
  return Object.fromEntries(tagEntries(properties, name).map((tag) => [tag.key, tag.value]));
}

export function tagEntries(
  properties: Record<string, unknown>,
  name = 'Tags',
): Array<{ key: string; value: string; propagateAtLaunch?: boolean }> {
  const value = properties[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value))
    throw new PropertyError(
      `Property validation failure: [Value of property {/${name}} does not match type {Array}]`,
    );
  return value.map((tag, index) => {
    const entry = record(tag, `${name}/${index}`);
    const key = optionalString(entry, 'Key');
    if (key === undefined)
      throw new PropertyError(
        `Property validation failure: [The property {/${name}/${index}/Key} is required]`,
      );
    const propagate = entry['PropagateAtLaunch'];
    return {
      key,
      value: optionalString(entry, 'Value') ?? '',
      propagateAtLaunch: propagate === undefined ? undefined : propagate === true || propagate === 'true',
    };
  });
}

export function record(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new PropertyError(
      `Property validation failure: [Value of property {/${path}} does not match type {Object}]`,
    );
  return value as Record<string, unknown>;
}

export function optionalRecord(
  properties: Record<string, unknown>,
  name: string,
): Record<string, unknown> | undefined {
  const value = properties[name];
  return value === undefined || value === null ? undefined : record(value, name);
}

/** Integers arrive as numbers or numeric strings (parameters are strings), as CloudFormation accepts both. */
export function optionalInteger(properties: Record<string, unknown>, name: string): number | undefined {
  const value = properties[name];
  if (value === undefined || value === null || value === '') return undefined;
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isInteger(number))
    throw new PropertyError(
      `Property validation failure: [Value of property {/${name}} does not match type {Integer}]`,
    );
  return number;
}

export function requiredInteger(properties: Record<string, unknown>, name: string): number {
  const value = optionalInteger(properties, name);
  if (value === undefined)
    throw new PropertyError(`Property validation failure: [The property {/${name}} is required]`);
  return value;
}

export function optionalBoolean(properties: Record<string, unknown>, name: string): boolean | undefined {
  const value = properties[name];
  if (value === undefined || value === null) return undefined;
  return value === true || value === 'true';
}
