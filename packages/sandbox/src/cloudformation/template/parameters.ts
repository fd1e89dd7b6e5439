import { messages } from './messages';
import { isListParameterType, isNumericParameterType } from './parameter-types';
import { unique } from './references';
import { TemplateError } from './types';
import type { GivenParameter, ParameterDeclaration, ResolvedParameters, Template } from './types';

/** How DescribeStacks shows a NoEcho parameter. */
export const NO_ECHO_MASK = '****';

// Java's Double.parseDouble grammar (AWS validates with it): no hex, no Infinity, surrounding blanks allowed.
const NUMBER = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/**
 * Gives every declared parameter its value: the given one, the previous one (UsePreviousValue; pass
 * `previous` on updates, leave it undefined on creates) or the Default, then checks the constraints.
 * List types become arrays. The order of the checks follows AWS: the shape of each given entry, missing
 * values, unknown keys, then each parameter's constraints.
 */
export function resolveParameters(
  template: Template,
  given: readonly GivenParameter[],
  previous?: ReadonlyMap<string, string | string[]>,
): ResolvedParameters {
  for (const parameter of given) {
    const hasValue = parameter.value !== undefined && parameter.value !== '';
    if (parameter.usePreviousValue && hasValue) {
      throw new TemplateError(messages.previousValueWithValue(parameter.key));
    }
    if (parameter.usePreviousValue && previous === undefined) {
      throw new TemplateError(messages.previousValueOnCreate());
    }
    if (!parameter.usePreviousValue && parameter.value === undefined) {
      throw new TemplateError(messages.parameterWithoutValue(parameter.key));
    }
  }
  const givenByKey = new Map(given.map((parameter) => [parameter.key, parameter]));

  const rawValues = new Map<string, string>();
  const missing: string[] = [];
  for (const declaration of template.parameters.values()) {
    const entry = givenByKey.get(declaration.name);
    if (entry?.usePreviousValue) {
      const previousValue = previous?.get(declaration.name);
      if (previousValue === undefined) throw new TemplateError(messages.previousValueMissing());
      rawValues.set(declaration.name, Array.isArray(previousValue) ? previousValue.join(',') : previousValue);
    } else if (entry?.value !== undefined) {
      rawValues.set(declaration.name, entry.value);
    } else if (declaration.default !== undefined) {
      rawValues.set(declaration.name, declaration.default);
    } else {
      missing.push(declaration.name);
    }
  }
  if (missing.length > 0) throw new TemplateError(messages.parametersMustHaveValues(missing));

  const unknown = unique(
    given.map((parameter) => parameter.key).filter((key) => !template.parameters.has(key)),
  );
  if (unknown.length > 0) throw new TemplateError(messages.parametersDoNotExist(unknown));

  const values = new Map<string, string | string[]>();
  const described: ResolvedParameters['described'] = [];
  for (const declaration of template.parameters.values()) {
    const raw = rawValues.get(declaration.name) as string;
    checkConstraints(declaration, raw);
    values.set(declaration.name, isListParameterType(declaration.type) ? raw.split(',') : raw);
    described.push({ key: declaration.name, value: declaration.noEcho ? NO_ECHO_MASK : raw });
  }
  return { values, described };
}

function checkConstraints(declaration: ParameterDeclaration, raw: string): void {
  const { name } = declaration;
  // A ConstraintDescription replaces AWS's own reason, whichever constraint failed.
  const fail = (reason: string): never => {
    throw new TemplateError(
      declaration.constraintDescription === undefined
        ? reason
        : messages.constraintFailed(name, declaration.constraintDescription),
    );
  };
  const elements = isListParameterType(declaration.type) ? raw.split(',') : [raw];

  if (
    declaration.allowedValues &&
    !elements.every((element) => declaration.allowedValues?.includes(element))
  ) {
    fail(messages.notAllowedValue(name));
  }

  if (isNumericParameterType(declaration.type)) {
    for (const element of elements) {
      if (!NUMBER.test(element)) fail(messages.notANumber(name));
      const number = Number(element);
      if (declaration.minValue !== undefined && number < declaration.minValue) {
        fail(messages.tooSmall(name, declaration.minValue));
      }
      if (declaration.maxValue !== undefined && number > declaration.maxValue) {
        fail(messages.tooLarge(name, declaration.maxValue));
      }
    }
    return;
  }

  if (declaration.minLength !== undefined && raw.length < declaration.minLength) {
    fail(messages.tooShort(name, declaration.minLength));
  }
  if (declaration.maxLength !== undefined && raw.length > declaration.maxLength) {
    fail(messages.tooLong(name, declaration.maxLength));
  }
  if (declaration.allowedPattern !== undefined) {
    const pattern = wholeValuePattern(declaration.allowedPattern, name);
    if (!elements.every((element) => pattern.test(element))) {
      fail(messages.patternMismatch(name, declaration.allowedPattern));
    }
  }
}

/** AllowedPattern must match the entire value, as Java's String.matches does. */
function wholeValuePattern(source: string, name: string): RegExp {
  try {
    return new RegExp(`^(?:${source})$`);
  } catch {
    throw new TemplateError(messages.invalidAllowedPattern(name));
  }
}
