import YAML from 'yaml';
import type { Parameter, TemplateParameter } from '@aws-sdk/client-cloudformation';
import { MissingParameterError, ParameterFormatError, UnknownParameterError } from './errors';

/** A parameter as the user gave it: a value, or "keep the stack's previous value". */
export type ParameterValue = { value: string } | { usePrevious: true };

/** Parameters by name, in the order given; later sources replace earlier ones. */
export type ParameterMap = Map<string, ParameterValue>;

/**
 * Parses parameters in every form users have:
 * - CloudFormation's array `[{ParameterKey, ParameterValue, UsePreviousValue}]`,
 * - CodePipeline's template configuration `{"Parameters": {...}}`,
 * - a flat map `{Key: value}`,
 * in JSON or YAML. Numbers and booleans become strings (YAML `Port: 8080` is a number).
 * `origin` names the file or input in error messages.
 */
export function parseParameters(text: string, origin: string): ParameterMap {
  if (text.trim() === '') return new Map();
  let data: unknown;
  try {
    data = YAML.parse(text, { uniqueKeys: false });
  } catch (error) {
    const firstLine =
      error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
    // The YAML parser ends its first line with "at line L, column C:" before a code frame; the position is enough.
    const reason = firstLine.replace(/:\s*$/, '.');
    throw new ParameterFormatError(
      `The parameters in ${origin} are not valid JSON or YAML: ${reason}`,
      'Give a JSON/YAML array of {ParameterKey, ParameterValue}, a {"Parameters": {...}} object or a flat map.',
    );
  }
  if (data === null || data === undefined) return new Map();
  if (Array.isArray(data)) return fromCloudFormationArray(data, origin);
  if (typeof data === 'object') {
    const object = data as Record<string, unknown>;
    const keys = Object.keys(object);
    if (keys.includes('Parameters') && isPlainObject(object.Parameters)) {
      // CodePipeline template configuration files also hold Tags and StackPolicy; only Parameters matter here.
      return fromFlatMap(object.Parameters, origin);
    }
    return fromFlatMap(object, origin);
  }
  throw new ParameterFormatError(
    `The parameters in ${origin} are a single ${typeof data}, not a list or map of parameters.`,
    'Give a JSON/YAML array of {ParameterKey, ParameterValue}, a {"Parameters": {...}} object or a flat map.',
  );
}

/** Parses `Key=Value` overrides (the value may contain `=`; an empty value is allowed). */
export function parseParameterOverrides(overrides: string[], origin = '--parameter-overrides'): ParameterMap {
  const map: ParameterMap = new Map();
  for (const item of overrides) {
    const equals = item.indexOf('=');
    if (equals <= 0) {
      throw new ParameterFormatError(
        `The parameter override "${item}" in ${origin} is not Key=Value.`,
        'Write each override as Name=value, e.g. InstanceType=t3.small.',
      );
    }
    map.set(item.slice(0, equals).trim(), { value: item.slice(equals + 1) });
  }
  return map;
}

/** Later maps win, key by key. */
export function mergeParameters(...maps: ParameterMap[]): ParameterMap {
  const merged: ParameterMap = new Map();
  for (const map of maps) for (const [key, value] of map) merged.set(key, value);
  return merged;
}

function fromCloudFormationArray(items: unknown[], origin: string): ParameterMap {
  const map: ParameterMap = new Map();
  items.forEach((item, index) => {
    if (!isPlainObject(item) || typeof item.ParameterKey !== 'string' || item.ParameterKey === '') {
      throw new ParameterFormatError(
        `Item ${index + 1} of the parameters in ${origin} has no ParameterKey.`,
        'Each item needs "ParameterKey" and either "ParameterValue" or "UsePreviousValue": true.',
      );
    }
    const key = item.ParameterKey;
    if (item.UsePreviousValue === true || item.UsePreviousValue === 'true') {
      if (item.ParameterValue !== undefined) {
        throw new ParameterFormatError(
          `Parameter ${key} in ${origin} has both a ParameterValue and UsePreviousValue.`,
          'Keep one: a value, or UsePreviousValue: true to keep what the stack has.',
        );
      }
      map.set(key, { usePrevious: true });
      return;
    }
    map.set(key, { value: stringify(item.ParameterValue, key, origin) });
  });
  return map;
}

function fromFlatMap(object: Record<string, unknown>, origin: string): ParameterMap {
  const map: ParameterMap = new Map();
  for (const [key, value] of Object.entries(object)) map.set(key, { value: stringify(value, key, origin) });
  return map;
}

/** CloudFormation takes every value as a string; lists (CommaDelimitedList, List<…>) are comma-joined. */
function stringify(value: unknown, key: string, origin: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (Array.isArray(value) && value.every((item) => ['string', 'number', 'boolean'].includes(typeof item))) {
    return value.map(String).join(',');
  }
  const what =
    value === null || value === undefined ? 'no value' : `a ${Array.isArray(value) ? 'nested list' : 'map'}`;
  throw new ParameterFormatError(
    `Parameter ${key} in ${origin} has ${what}; CloudFormation parameters are strings, numbers, booleans or lists of them.`,
    `Give ${key} a value such as ${key}: "value" (or UsePreviousValue: true in the array form).`,
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface ResolveParametersInput {
  given: ParameterMap;
  /** The template's parameters, from ValidateTemplate (authoritative: it applies transforms). */
  declared: TemplateParameter[];
  /** The existing stack's parameter names; undefined when the stack is being created. */
  previous?: string[];
  stackName: string;
}

/**
 * The parameter list for CreateStack/UpdateStack/CreateChangeSet, checked against the template:
 * unknown names and missing required values fail here, before anything changes; on update, every declared
 * parameter the user did not give keeps its previous value (as `aws cloudformation deploy` does).
 */
export function resolveParameters(input: ResolveParametersInput): Parameter[] {
  const { given, declared, previous, stackName } = input;
  const declaredNames = declared.map((parameter) => parameter.ParameterKey ?? '').filter(Boolean);
  const unknown = [...given.keys()].filter((name) => !declaredNames.includes(name));
  if (unknown.length > 0) {
    const valid = declaredNames.length
      ? declaredNames.join(', ')
      : 'none: the template declares no parameters';
    throw new UnknownParameterError(
      unknown,
      declaredNames,
      `The template does not declare parameter${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; valid parameters: ${valid}.`,
      'Fix the name (they are case-sensitive) or remove it from the parameters.',
    );
  }
  const previousNames = new Set(previous ?? []);
  const isUpdate = previous !== undefined;
  const result: Parameter[] = [];
  const missing: string[] = [];
  for (const parameter of declared) {
    const name = parameter.ParameterKey;
    if (!name) continue;
    const value = given.get(name);
    const hasDefault = parameter.DefaultValue !== undefined;
    if (value && 'value' in value) {
      result.push({ ParameterKey: name, ParameterValue: value.value });
    } else if (isUpdate && previousNames.has(name)) {
      result.push({ ParameterKey: name, UsePreviousValue: true });
    } else if (!hasDefault) {
      missing.push(name);
    }
  }
  if (missing.length > 0) {
    const when = isUpdate ? `stack ${stackName} has no previous value and ` : '';
    throw new MissingParameterError(
      missing,
      `Parameter${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'have' : 'has'} no value: ${when}the template gives no default.`,
      `Pass ${missing.map((name) => `${name}=…`).join(' ')} with --parameter-overrides or in the parameters file.`,
    );
  }
  return result;
}
