import { parseDocument } from 'yaml';
import { messages } from './messages';
import { isRecognizedParameterType } from './parameter-types';
import {
  collectConditionReferences,
  collectReferences,
  isPseudoParameter,
  isRecord,
  unique,
} from './references';
import { TemplateError } from './types';
import type { OutputDeclaration, ParameterDeclaration, ResourceDeclaration, Template } from './types';
import { cloudFormationTags } from './yaml-tags';

const TOP_LEVEL_SECTIONS = new Set([
  'AWSTemplateFormatVersion',
  'Description',
  'Metadata',
  'Parameters',
  'Rules',
  'Mappings',
  'Conditions',
  'Transform',
  'Resources',
  'Outputs',
  'Hooks',
]);

const RESOURCE_ATTRIBUTES = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'CreationPolicy',
  'DeletionPolicy',
  'UpdatePolicy',
  'UpdateReplacePolicy',
  'Metadata',
  'Version',
]);

const PARAMETER_ATTRIBUTES = new Set([
  'Type',
  'Default',
  'NoEcho',
  'AllowedValues',
  'AllowedPattern',
  'MinLength',
  'MaxLength',
  'MinValue',
  'MaxValue',
  'Description',
  'ConstraintDescription',
]);

const DELETION_POLICIES = ['Delete', 'Retain', 'Snapshot', 'RetainExceptOnCreate'] as const;
const UPDATE_REPLACE_POLICIES = ['Delete', 'Retain', 'Snapshot'] as const;

const ALPHANUMERIC = /^[A-Za-z0-9]+$/;

/** TemplateBody is limited to 51,200 bytes (the service enforces it; the rule lives here). */
export const TEMPLATE_BODY_MAX_BYTES = 51_200;

export function templateSize(body: string): number {
  return Buffer.byteLength(body, 'utf8');
}

/** Parses and validates a template body, throwing AWS's ValidationError texts as TemplateError. */
export function parseTemplate(body: string): Template {
  // A byte-order mark is invisible to users and tolerated by AWS; the stored body keeps it.
  const text = body.startsWith('\uFEFF') ? body.slice(1) : body;
  const format = /^\s*\{/.test(text) ? 'json' : 'yaml';
  const root = format === 'json' ? parseJson(text) : parseYaml(text);
  return buildTemplate(root, body, format);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // V8's messages do not always carry a position, so the error is located by a scan of our own.
    const { line, column } = lineAndColumn(text, jsonErrorOffset(text));
    throw new TemplateError(messages.jsonNotWellFormed(line, column));
  }
}

function parseYaml(text: string): unknown {
  const document = parseDocument(text, {
    customTags: cloudFormationTags,
    prettyErrors: true,
    uniqueKeys: true,
  });
  // An unknown `!Tag` is only a warning to the yaml library; AWS's parser refuses it.
  const problem =
    document.errors[0] ?? document.warnings.find((warning) => warning.code === 'TAG_RESOLVE_FAILED');
  if (problem) {
    const position = problem.linePos?.[0];
    throw new TemplateError(messages.yamlNotWellFormed(position?.line ?? 1, position?.col ?? 1));
  }
  try {
    return document.toJS() as unknown;
  } catch {
    // toJS only fails on alias abuse (billion laughs), which has no single position.
    throw new TemplateError(messages.yamlNotWellFormed(1, 1));
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column };
}

/** The offset of the first character a strict JSON grammar rejects (the end of input if it ran out). */
export function jsonErrorOffset(text: string): number {
  let index = 0;
  const fail = (): never => {
    throw new JsonScanFailure(index);
  };
  const skipWhitespace = (): void => {
    while (index < text.length && ' \t\n\r'.includes(text[index] as string)) index++;
  };
  const expect = (literal: string): void => {
    for (const character of literal) {
      if (text[index] !== character) fail();
      index++;
    }
  };
  const scanString = (): void => {
    expect('"');
    for (;;) {
      const character = text[index];
      if (character === undefined || character < ' ') fail();
      if (character === '"') {
        index++;
        return;
      }
      if (character === '\\') {
        index++;
        const escaped = text[index];
        if (escaped === 'u') {
          index++;
          for (let digit = 0; digit < 4; digit++) {
            if (!/[0-9a-fA-F]/.test(text[index] ?? '')) fail();
            index++;
          }
          continue;
        }
        if (escaped === undefined || !'"\\/bfnrt'.includes(escaped)) fail();
      }
      index++;
    }
  };
  const scanDigits = (): void => {
    if (!/[0-9]/.test(text[index] ?? '')) fail();
    while (/[0-9]/.test(text[index] ?? '')) index++;
  };
  const scanNumber = (): void => {
    if (text[index] === '-') index++;
    if (text[index] === '0') index++;
    else scanDigits();
    if (text[index] === '.') {
      index++;
      scanDigits();
    }
    if (text[index] === 'e' || text[index] === 'E') {
      index++;
      if (text[index] === '+' || text[index] === '-') index++;
      scanDigits();
    }
  };
  const scanValue = (): void => {
    skipWhitespace();
    const character = text[index];
    if (character === '{') {
      index++;
      skipWhitespace();
      if (text[index] === '}') {
        index++;
        return;
      }
      for (;;) {
        skipWhitespace();
        scanString();
        skipWhitespace();
        expect(':');
        scanValue();
        skipWhitespace();
        if (text[index] === ',') {
          index++;
          continue;
        }
        expect('}');
        return;
      }
    }
    if (character === '[') {
      index++;
      skipWhitespace();
      if (text[index] === ']') {
        index++;
        return;
      }
      for (;;) {
        scanValue();
        skipWhitespace();
        if (text[index] === ',') {
          index++;
          continue;
        }
        expect(']');
        return;
      }
    }
    if (character === '"') return scanString();
    if (character === '-' || /[0-9]/.test(character ?? '')) return scanNumber();
    if (character === 't') return expect('true');
    if (character === 'f') return expect('false');
    if (character === 'n') return expect('null');
    fail();
  };
  try {
    scanValue();
    skipWhitespace();
    return index < text.length ? index : text.length;
  } catch (error) {
    if (error instanceof JsonScanFailure) return error.offset;
    throw error;
  }
}

class JsonScanFailure {
  constructor(readonly offset: number) {}
}

function firstNullPath(value: unknown, path: string): string | undefined {
  if (value === null || value === undefined) return path;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = firstNullPath(item, `${path}/${index}`);
      if (found) return found;
    }
  } else if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) {
      const found = firstNullPath(item, `${path}/${key}`);
      if (found) return found;
    }
  }
  return undefined;
}

function buildTemplate(root: unknown, body: string, format: Template['format']): Template {
  if (!isRecord(root)) throw new TemplateError(messages.unsupportedStructure());

  const unknownSections = Object.keys(root).filter((key) => !TOP_LEVEL_SECTIONS.has(key));
  if (unknownSections.length > 0)
    throw new TemplateError(messages.invalidTopLevelProperties(unknownSections));

  const version = root.AWSTemplateFormatVersion;
  if (version !== undefined && version !== '2010-09-09') {
    throw new TemplateError(messages.unsupportedFormatVersion());
  }

  const nullPath = firstNullPath(root, '');
  if (nullPath !== undefined) throw new TemplateError(messages.nullValue(nullPath));

  if (root.Description !== undefined && typeof root.Description !== 'string') {
    throw new TemplateError(messages.descriptionNotString());
  }

  const parameters = parseParameters(root.Parameters);
  const mappings = parseMappings(root.Mappings);
  const conditions = parseConditions(root.Conditions);
  const resources = parseResources(root.Resources, conditions);
  const outputs = parseOutputs(root.Outputs, conditions);

  const template: Template = {
    body,
    format,
    parameters,
    mappings,
    conditions,
    resources,
    outputs,
  };
  if (typeof root.Description === 'string') template.description = root.Description;
  const transform = parseTransform(root.Transform);
  if (transform) template.transform = transform;

  checkReferences(template);
  return template;
}

function requireRecord(value: unknown, path: string): Record<string, unknown> {
  if (!isRecord(value)) throw new TemplateError(messages.notAnObject(path));
  return value;
}

function requireAlphanumeric(kind: Parameters<typeof messages.nonAlphanumericName>[0], name: string): void {
  if (!ALPHANUMERIC.test(name)) throw new TemplateError(messages.nonAlphanumericName(kind, name));
}

function parseTransform(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  throw new TemplateError(messages.transformShape());
}

const scalarText = (value: unknown): string | undefined =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : undefined;

function numericAttribute(name: string, attribute: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  // MinLength: '8' is as good as MinLength: 8; a blank string is not 0.
  const number =
    typeof value === 'number' ? value : typeof value === 'string' && value.trim() ? Number(value) : NaN;
  if (!Number.isFinite(number))
    throw new TemplateError(messages.parameterAttributeNotNumber(name, attribute));
  return number;
}

function parseParameters(section: unknown): Map<string, ParameterDeclaration> {
  const parameters = new Map<string, ParameterDeclaration>();
  if (section === undefined) return parameters;
  for (const [name, raw] of Object.entries(requireRecord(section, '/Parameters'))) {
    requireAlphanumeric('Parameter', name);
    const declaration = requireRecord(raw, `/Parameters/${name}`);
    const unknown = Object.keys(declaration).filter((key) => !PARAMETER_ATTRIBUTES.has(key));
    if (unknown.length > 0) throw new TemplateError(messages.invalidParameterAttributes(unknown));
    if (typeof declaration.Type !== 'string') throw new TemplateError(messages.parameterWithoutType());
    if (!isRecognizedParameterType(declaration.Type)) {
      throw new TemplateError(messages.unrecognizedParameterType(declaration.Type));
    }
    const parameter: ParameterDeclaration = {
      name,
      type: declaration.Type,
      noEcho: String(declaration.NoEcho).toLowerCase() === 'true',
    };
    if (declaration.Default !== undefined) {
      const text = scalarText(declaration.Default);
      if (text === undefined) throw new TemplateError(messages.parameterDefaultNotString(name));
      parameter.default = text;
    }
    if (declaration.AllowedValues !== undefined) {
      const values = Array.isArray(declaration.AllowedValues)
        ? declaration.AllowedValues.map(scalarText)
        : [];
      if (!Array.isArray(declaration.AllowedValues) || values.some((value) => value === undefined)) {
        throw new TemplateError(messages.notAnObject(`/Parameters/${name}/AllowedValues`));
      }
      parameter.allowedValues = values as string[];
    }
    const pattern = scalarText(declaration.AllowedPattern);
    if (pattern !== undefined) parameter.allowedPattern = pattern;
    for (const [attribute, key] of [
      ['MinLength', 'minLength'],
      ['MaxLength', 'maxLength'],
      ['MinValue', 'minValue'],
      ['MaxValue', 'maxValue'],
    ] as const) {
      const number = numericAttribute(name, attribute, declaration[attribute]);
      if (number !== undefined) parameter[key] = number;
    }
    const description = scalarText(declaration.Description);
    if (description !== undefined) parameter.description = description;
    const constraint = scalarText(declaration.ConstraintDescription);
    if (constraint !== undefined) parameter.constraintDescription = constraint;
    parameters.set(name, parameter);
  }
  return parameters;
}

function parseMappings(section: unknown): Template['mappings'] {
  const mappings: Template['mappings'] = {};
  if (section === undefined) return mappings;
  for (const [name, map] of Object.entries(requireRecord(section, '/Mappings'))) {
    requireAlphanumeric('Mapping', name);
    if (!isRecord(map)) throw new TemplateError(messages.mappingNotAMap(name));
    const entries: Record<string, Record<string, unknown>> = {};
    for (const [topKey, attributes] of Object.entries(map)) {
      if (!isRecord(attributes)) throw new TemplateError(messages.mappingNotAMap(topKey));
      for (const [attribute, value] of Object.entries(attributes)) {
        if (!ALPHANUMERIC.test(attribute)) throw new TemplateError(messages.mappingAttributeName(attribute));
        const isScalar = scalarText(value) !== undefined;
        const isList = Array.isArray(value) && value.every((item) => scalarText(item) !== undefined);
        if (!isScalar && !isList) throw new TemplateError(messages.mappingAttributeValue());
      }
      entries[topKey] = attributes;
    }
    mappings[name] = entries;
  }
  return mappings;
}

function parseConditions(section: unknown): Record<string, unknown> {
  if (section === undefined) return {};
  const conditions = requireRecord(section, '/Conditions');
  for (const name of Object.keys(conditions)) requireAlphanumeric('Condition', name);
  return conditions;
}

function parseDependsOn(value: unknown): string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  throw new TemplateError(messages.dependsOnShape());
}

function requireDefinedCondition(
  name: unknown,
  conditions: Record<string, unknown>,
  path: string,
): string | undefined {
  if (name === undefined) return undefined;
  if (typeof name !== 'string') throw new TemplateError(messages.notAnObject(path));
  if (!Object.hasOwn(conditions, name)) throw new TemplateError(messages.conditionNotDefined(name));
  return name;
}

/** CloudFormation's quota of resources per template. */
const MAX_RESOURCES = 500;

function parseResources(
  section: unknown,
  conditions: Record<string, unknown>,
): Map<string, ResourceDeclaration> {
  if (section === undefined || (isRecord(section) && Object.keys(section).length === 0)) {
    throw new TemplateError(messages.noResources());
  }
  const declared = Object.entries(requireRecord(section, '/Resources'));
  if (declared.length > MAX_RESOURCES)
    throw new TemplateError(messages.tooManyResources(declared.length, MAX_RESOURCES));
  const resources = new Map<string, ResourceDeclaration>();
  for (const [logicalId, raw] of declared) {
    requireAlphanumeric('Resource', logicalId);
    if (!isRecord(raw) || typeof raw.Type !== 'string' || raw.Type === '') {
      throw new TemplateError(messages.resourceWithoutType(logicalId));
    }
    const unknown = Object.keys(raw).find((key) => !RESOURCE_ATTRIBUTES.has(key));
    if (unknown !== undefined) throw new TemplateError(messages.invalidResourceAttribute(unknown));
    const resource: ResourceDeclaration = {
      logicalId,
      type: raw.Type,
      properties:
        raw.Properties === undefined
          ? {}
          : requireRecord(raw.Properties, `/Resources/${logicalId}/Properties`),
      dependsOn: parseDependsOn(raw.DependsOn),
    };
    const condition = requireDefinedCondition(raw.Condition, conditions, `/Resources/${logicalId}/Condition`);
    if (condition !== undefined) resource.condition = condition;
    if (raw.DeletionPolicy !== undefined) {
      const policy = DELETION_POLICIES.find((known) => known === raw.DeletionPolicy);
      if (!policy)
        throw new TemplateError(messages.unrecognizedDeletionPolicy(String(raw.DeletionPolicy), logicalId));
      resource.deletionPolicy = policy;
    }
    if (raw.UpdateReplacePolicy !== undefined) {
      const policy = UPDATE_REPLACE_POLICIES.find((known) => known === raw.UpdateReplacePolicy);
      if (!policy) {
        throw new TemplateError(
          messages.unrecognizedUpdateReplacePolicy(String(raw.UpdateReplacePolicy), logicalId),
        );
      }
      resource.updateReplacePolicy = policy;
    }
    if (raw.Metadata !== undefined) {
      resource.metadata = requireRecord(raw.Metadata, `/Resources/${logicalId}/Metadata`);
    }
    resources.set(logicalId, resource);
  }
  return resources;
}

function parseOutputs(section: unknown, conditions: Record<string, unknown>): Map<string, OutputDeclaration> {
  const outputs = new Map<string, OutputDeclaration>();
  if (section === undefined) return outputs;
  for (const [logicalId, raw] of Object.entries(requireRecord(section, '/Outputs'))) {
    requireAlphanumeric('Output', logicalId);
    if (!isRecord(raw) || !('Value' in raw)) throw new TemplateError(messages.outputWithoutValue());
    const output: OutputDeclaration = { logicalId, value: raw.Value };
    const description = scalarText(raw.Description);
    if (description !== undefined) output.description = description;
    if (raw.Export !== undefined) {
      if (!isRecord(raw.Export) || raw.Export.Name === undefined) {
        throw new TemplateError(messages.exportWithoutName(logicalId));
      }
      output.exportName = raw.Export.Name;
    }
    const condition = requireDefinedCondition(raw.Condition, conditions, `/Outputs/${logicalId}/Condition`);
    if (condition !== undefined) output.condition = condition;
    outputs.set(logicalId, output);
  }
  return outputs;
}

/**
 * The checks AWS makes before looking at parameter values: names that exist nowhere, resources referenced
 * from Conditions, conditions that Fn::If names but nobody declares.
 */
function checkReferences(template: Template): void {
  const clash = [...template.resources.keys()].filter((id) => template.parameters.has(id));
  if (clash.length > 0) throw new TemplateError(messages.nameClash(clash));

  const conditionNames = new Set(Object.keys(template.conditions));
  const isKnownValue = (name: string): boolean =>
    isPseudoParameter(name) || template.parameters.has(name) || template.resources.has(name);

  const fromConditions = unique(
    collectReferences(Object.values(template.conditions))
      .map((reference) => reference.target)
      .filter((name) => !isPseudoParameter(name) && !template.parameters.has(name)),
  );
  if (fromConditions.length > 0) throw new TemplateError(messages.resourceInConditions(fromConditions));
  const unknownConditions = unique(
    collectConditionReferences(Object.values(template.conditions)).filter(
      (name) => !conditionNames.has(name),
    ),
  );
  if (unknownConditions.length > 0) {
    throw new TemplateError(messages.unresolvedConditionsInConditions(unknownConditions));
  }

  const requireCondition = (name: string): void => {
    if (!conditionNames.has(name)) throw new TemplateError(messages.unresolvedConditionInIf(name));
  };
  const unresolvedInResources: string[] = [];
  for (const resource of template.resources.values()) {
    const references = collectReferences([resource.properties, resource.metadata ?? {}], {
      onIfCondition: requireCondition,
    });
    for (const { target } of references) if (!isKnownValue(target)) unresolvedInResources.push(target);
    for (const target of resource.dependsOn)
      if (!template.resources.has(target)) unresolvedInResources.push(target);
  }
  if (unresolvedInResources.length > 0) {
    throw new TemplateError(messages.unresolvedResources(unique(unresolvedInResources)));
  }

  const unresolvedInOutputs: string[] = [];
  for (const output of template.outputs.values()) {
    const references = collectReferences([output.value, output.exportName ?? ''], {
      onIfCondition: requireCondition,
    });
    for (const { target } of references) if (!isKnownValue(target)) unresolvedInOutputs.push(target);
  }
  if (unresolvedInOutputs.length > 0)
    throw new TemplateError(messages.unresolvedOutputs(unique(unresolvedInOutputs)));
}
