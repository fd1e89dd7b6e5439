import { cidrSubnets } from './cidr';
import { messages } from './messages';
import { intrinsicName, isRecord } from './references';
import { parseSubString, splitSubVariable } from './sub-template';
import { TemplateError } from './types';
import type { EvaluationContext, Template } from './types';

/** What `Ref AWS::NoValue` evaluates to before the enclosing key or list element is dropped. */
const NO_VALUE: unique symbol = Symbol('AWS::NoValue');
type Evaluated = unknown;

/**
 * What the evaluator can see. EvaluationContext satisfies it; partial evaluation (change-set diffs) and
 * condition evaluation supply less.
 */
export interface EvaluationScope {
  accountId: string;
  region: string;
  stackName: string;
  stackId: string;
  parameters: ReadonlyMap<string, string | string[]>;
  mappings?: Template['mappings'];
  conditions?: ReadonlyMap<string, boolean>;
  resource?(logicalId: string): { ref: string; attributes: Record<string, unknown> } | undefined;
  importValue?(name: string): string | undefined;
  availabilityZones?(region: string): string[];
}

interface EvaluatorOptions {
  /**
   * Partial evaluation leaves what cannot be known yet (resources, imports, AZs) as the intrinsic it was,
   * with everything around it resolved: what the change-set diff compares.
   */
  partial: boolean;
  /** `{ "Condition": X }` and Fn::Equals/And/Or/Not are functions only inside the Conditions block. */
  inConditions: boolean;
  /** Looks a condition up (Fn::If, `{ Condition: X }`); the caller decides what an unknown name means. */
  condition(name: string, via: 'Fn::If' | 'Condition'): boolean;
  /** A resource reference inside Conditions is a template error, not a lookup. */
  onResourceReference?(name: string): never;
}

export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  return 'aws';
}

export function urlSuffixOf(region: string): string {
  return region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
}

/**
 * Evaluates every intrinsic function in a raw template value. `Ref AWS::NoValue` removes the enclosing key or
 * list element; at the top level it yields undefined. Numbers and booleans keep the type the template gave them.
 */
export function resolveValue(raw: unknown, context: EvaluationContext): unknown {
  const evaluator = new Evaluator(context, {
    partial: false,
    inConditions: false,
    condition: (name) => {
      const value = context.conditions.get(name);
      if (value === undefined) throw new TemplateError(messages.unresolvedConditionInIf(name));
      return value;
    },
  });
  const value = evaluator.evaluate(raw);
  return value === NO_VALUE ? undefined : value;
}

/**
 * Resolves what the parameters, pseudo parameters, mappings and conditions decide, and leaves references to
 * resources (and imports, AZs) in place: two templates compare equal exactly when they would create the same
 * thing. Used by the change-set diff.
 */
export function resolvePartially(raw: unknown, scope: EvaluationScope): unknown {
  const evaluator = new Evaluator(scope, {
    partial: true,
    inConditions: false,
    condition: (name) => {
      const value = scope.conditions?.get(name);
      if (value === undefined) throw new TemplateError(messages.unresolvedConditionInIf(name));
      return value;
    },
  });
  const value = evaluator.evaluate(raw);
  return value === NO_VALUE ? undefined : value;
}

/** Evaluates a Conditions-block expression to a boolean; used by ./conditions. */
export function evaluateConditionExpression(
  expression: unknown,
  scope: EvaluationScope,
  condition: (name: string) => boolean,
  conditionName: string,
): boolean {
  const evaluator = new Evaluator(scope, {
    partial: false,
    inConditions: true,
    condition,
    onResourceReference: (name) => {
      throw new TemplateError(messages.resourceInConditions([name]));
    },
  });
  const value = evaluator.evaluate(expression);
  if (typeof value !== 'boolean') throw new TemplateError(messages.notACondition(conditionName));
  return value;
}

/** True when a (partially) evaluated value still holds an intrinsic function. */
function isUnresolved(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(isUnresolved);
  if (!isRecord(value)) return false;
  return intrinsicName(value) !== undefined || Object.values(value).some(isUnresolved);
}

function textOf(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : undefined;
}

class Evaluator {
  constructor(
    private readonly scope: EvaluationScope,
    private readonly options: EvaluatorOptions,
  ) {}

  evaluate(node: unknown): Evaluated {
    if (Array.isArray(node)) {
      return node.map((item) => this.evaluate(item)).filter((item) => item !== NO_VALUE);
    }
    if (!isRecord(node)) return node;
    const keys = Object.keys(node);
    if (keys.length === 1) {
      const key = keys[0] as string;
      if (key === 'Ref' || key.startsWith('Fn::')) return this.apply(key, node[key]);
      if (key === 'Condition' && this.options.inConditions) {
        const name = node.Condition;
        if (typeof name !== 'string') throw new TemplateError(messages.notACondition(String(name)));
        return this.options.condition(name, 'Condition');
      }
    }
    const result: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      const evaluated = this.evaluate(value);
      if (evaluated !== NO_VALUE) result[key] = evaluated;
    }
    return result;
  }

  private apply(fn: string, argument: unknown): Evaluated {
    switch (fn) {
      case 'Ref':
        return this.ref(argument);
      case 'Fn::GetAtt':
        return this.getAtt(argument);
      case 'Fn::Sub':
        return this.sub(argument);
      case 'Fn::Join':
        return this.join(argument);
      case 'Fn::If':
        return this.if(argument);
      case 'Fn::Select':
        return this.select(argument);
      case 'Fn::Split':
        return this.split(argument);
      case 'Fn::FindInMap':
        return this.findInMap(argument);
      case 'Fn::Base64':
        return this.base64(argument);
      case 'Fn::ImportValue':
        return this.importValue(argument);
      case 'Fn::GetAZs':
        return this.getAzs(argument);
      case 'Fn::Cidr':
        return this.cidr(argument);
      case 'Fn::Equals':
      case 'Fn::And':
      case 'Fn::Or':
      case 'Fn::Not':
        if (!this.options.inConditions)
          throw new TemplateError(messages.conditionFunctionOutsideConditions(fn));
        return this.booleanFunction(fn, argument);
      case 'Fn::Transform':
        throw new TemplateError(messages.transformUnsupported());
      default:
        throw new TemplateError(messages.unsupportedFunction(fn));
    }
  }

  /** Pseudo parameters, then parameters, then resources (whose names never clash with parameters). */
  private lookup(name: string): Evaluated {
    switch (name) {
      case 'AWS::AccountId':
        return this.scope.accountId;
      case 'AWS::Region':
        return this.scope.region;
      case 'AWS::StackName':
        return this.scope.stackName;
      case 'AWS::StackId':
        return this.scope.stackId;
      case 'AWS::Partition':
        return partitionOf(this.scope.region);
      case 'AWS::URLSuffix':
        return urlSuffixOf(this.scope.region);
      case 'AWS::NoValue':
        return NO_VALUE;
      case 'AWS::NotificationARNs':
        // The sandbox does not publish stack events to SNS, so no stack has notification ARNs.
        return [];
    }
    const parameter = this.scope.parameters.get(name);
    if (parameter !== undefined) return parameter;
    if (this.options.onResourceReference) return this.options.onResourceReference(name);
    if (this.options.partial) return { Ref: name };
    const resource = this.scope.resource?.(name);
    if (!resource) throw new TemplateError(messages.unresolvedResources([name]));
    return resource.ref;
  }

  private ref(argument: unknown): Evaluated {
    if (typeof argument !== 'string') throw new TemplateError(messages.refShape());
    return this.lookup(argument);
  }

  private attribute(logicalId: string, attribute: string): Evaluated {
    if (this.options.onResourceReference) return this.options.onResourceReference(logicalId);
    if (this.options.partial) return { 'Fn::GetAtt': [logicalId, attribute] };
    const resource = this.scope.resource?.(logicalId);
    if (!resource) throw new TemplateError(messages.unresolvedResources([logicalId]));
    if (!Object.hasOwn(resource.attributes, attribute)) {
      throw new TemplateError(messages.unsupportedAttribute(logicalId, attribute));
    }
    return resource.attributes[attribute];
  }

  private getAtt(argument: unknown): Evaluated {
    let parts: unknown[];
    if (typeof argument === 'string') {
      const { target, attribute } = splitSubVariable(argument);
      parts = attribute === undefined ? [target] : [target, attribute];
    } else if (Array.isArray(argument)) {
      // The attribute name may itself come from a Ref (AWS allows it); the resource name may not.
      parts = [argument[0], ...argument.slice(1).map((item) => this.evaluate(item))];
    } else {
      throw new TemplateError(messages.getAttShape());
    }
    const [logicalId, attribute] = parts;
    if (parts.length !== 2 || typeof logicalId !== 'string' || !logicalId) {
      throw new TemplateError(messages.getAttShape());
    }
    if (this.options.partial && isUnresolved(attribute)) return { 'Fn::GetAtt': [logicalId, attribute] };
    if (typeof attribute !== 'string' || !attribute) throw new TemplateError(messages.getAttShape());
    return this.attribute(logicalId, attribute);
  }

  private sub(argument: unknown): Evaluated {
    const [source, variables, ...rest] = Array.isArray(argument) ? argument : [argument];
    if (typeof source !== 'string' || rest.length > 0 || (variables !== undefined && !isRecord(variables))) {
      throw new TemplateError(messages.subShape());
    }
    const local = new Map<string, Evaluated>();
    for (const [name, value] of Object.entries(variables ?? {})) local.set(name, this.evaluate(value));

    // Pieces are literal text or, in partial mode, variables that stay unresolved.
    const pieces: Array<{ text: string } | { variable: string }> = [];
    const unresolvedLocals = new Map<string, unknown>();
    for (const segment of parseSubString(source)) {
      if (segment.kind === 'text') {
        pieces.push({ text: segment.text });
        continue;
      }
      const value = local.has(segment.name) ? local.get(segment.name) : this.subVariable(segment.name);
      if (this.options.partial && isUnresolved(value)) {
        pieces.push({ variable: segment.name });
        if (local.has(segment.name)) unresolvedLocals.set(segment.name, value);
        continue;
      }
      const rendered = textOf(value);
      if (rendered === undefined) throw new TemplateError(messages.subVariableNotString(segment.name));
      pieces.push({ text: rendered });
    }
    if (pieces.every((piece) => 'text' in piece))
      return pieces.map((piece) => ('text' in piece ? piece.text : '')).join('');
    // Still a Sub: literal `${` must be escaped again so it is not read as a variable later.
    const remaining = pieces
      .map((piece) => ('text' in piece ? piece.text.replaceAll('${', '${!') : '${' + piece.variable + '}'))
      .join('');
    return unresolvedLocals.size > 0
      ? { 'Fn::Sub': [remaining, Object.fromEntries(unresolvedLocals)] }
      : { 'Fn::Sub': remaining };
  }

  private subVariable(name: string): Evaluated {
    const { target, attribute } = splitSubVariable(name);
    return attribute === undefined ? this.lookup(target) : this.attribute(target, attribute);
  }

  private join(argument: unknown): Evaluated {
    if (!Array.isArray(argument) || argument.length !== 2) throw new TemplateError(messages.joinShape());
    const delimiter = this.evaluate(argument[0]);
    const items = this.evaluate(argument[1]);
    if (this.options.partial && (isUnresolved(items) || isUnresolved(delimiter))) {
      return { 'Fn::Join': [delimiter, items] };
    }
    if (typeof delimiter !== 'string' || !Array.isArray(items)) throw new TemplateError(messages.joinShape());
    const texts = items.map(textOf);
    if (texts.some((text) => text === undefined)) throw new TemplateError(messages.joinShape());
    return texts.join(delimiter);
  }

  private if(argument: unknown): Evaluated {
    if (!Array.isArray(argument) || argument.length !== 3 || typeof argument[0] !== 'string') {
      throw new TemplateError(messages.ifShape());
    }
    return this.evaluate(this.options.condition(argument[0], 'Fn::If') ? argument[1] : argument[2]);
  }

  private select(argument: unknown): Evaluated {
    if (!Array.isArray(argument) || argument.length !== 2) throw new TemplateError(messages.selectShape());
    const index = this.evaluate(argument[0]);
    const items = this.evaluate(argument[1]);
    if (this.options.partial && (isUnresolved(items) || isUnresolved(index)))
      return { 'Fn::Select': [index, items] };
    const position = typeof index === 'number' ? index : Number(textOf(index) ?? Number.NaN);
    if (!Array.isArray(items) || !Number.isInteger(position)) throw new TemplateError(messages.selectShape());
    if (position < 0 || position >= items.length)
      throw new TemplateError(messages.selectOutOfRange(String(index)));
    return items[position];
  }

  private split(argument: unknown): Evaluated {
    if (!Array.isArray(argument) || argument.length !== 2) throw new TemplateError(messages.splitShape());
    const delimiter = this.evaluate(argument[0]);
    const source = this.evaluate(argument[1]);
    if (this.options.partial && isUnresolved(source)) return { 'Fn::Split': [delimiter, source] };
    if (typeof delimiter !== 'string' || delimiter === '' || typeof source !== 'string') {
      throw new TemplateError(messages.splitShape());
    }
    return source.split(delimiter);
  }

  private findInMap(argument: unknown): Evaluated {
    if (!Array.isArray(argument) || argument.length !== 3) throw new TemplateError(messages.findInMapShape());
    const keys = argument.map((item) => this.evaluate(item));
    if (this.options.partial && isUnresolved(keys)) return { 'Fn::FindInMap': keys };
    const [map, top, second] = keys.map(textOf);
    if (map === undefined || top === undefined || second === undefined) {
      throw new TemplateError(messages.findInMapShape());
    }
    const mapping = this.scope.mappings?.[map];
    const entry = mapping && Object.hasOwn(mapping, top) ? mapping[top] : undefined;
    if (!entry || !Object.hasOwn(entry, second))
      throw new TemplateError(messages.mappingNotFound(map, top, second));
    return entry[second];
  }

  private base64(argument: unknown): Evaluated {
    const value = this.evaluate(argument);
    if (this.options.partial && isUnresolved(value)) return { 'Fn::Base64': value };
    const text = textOf(value);
    if (text === undefined) throw new TemplateError(messages.base64Shape());
    return Buffer.from(text, 'utf8').toString('base64');
  }

  private importValue(argument: unknown): Evaluated {
    const name = this.evaluate(argument);
    if (this.options.partial) return { 'Fn::ImportValue': name };
    if (typeof name !== 'string') throw new TemplateError(messages.importValueShape());
    const value = this.scope.importValue?.(name);
    if (value === undefined) throw new TemplateError(messages.noExport(name));
    return value;
  }

  private getAzs(argument: unknown): Evaluated {
    const region = this.evaluate(argument);
    if (typeof region !== 'string' && !(this.options.partial && isUnresolved(region))) {
      throw new TemplateError(messages.getAzsShape());
    }
    if (this.options.partial && (isUnresolved(region) || !this.scope.availabilityZones)) {
      return { 'Fn::GetAZs': region };
    }
    return this.scope.availabilityZones?.(region === '' ? this.scope.region : (region as string)) ?? [];
  }

  private cidr(argument: unknown): Evaluated {
    if (!Array.isArray(argument) || argument.length !== 3) throw new TemplateError(messages.cidrShape());
    const [block, count, bits] = argument.map((item) => this.evaluate(item));
    if (this.options.partial && isUnresolved([block, count, bits]))
      return { 'Fn::Cidr': [block, count, bits] };
    const blockText = textOf(block);
    const countNumber = Number(textOf(count));
    const bitsNumber = Number(textOf(bits));
    if (blockText === undefined || !Number.isInteger(countNumber) || !Number.isInteger(bitsNumber)) {
      throw new TemplateError(messages.cidrShape());
    }
    return cidrSubnets(blockText, countNumber, bitsNumber);
  }

  private booleanFunction(fn: 'Fn::Equals' | 'Fn::And' | 'Fn::Or' | 'Fn::Not', argument: unknown): boolean {
    if (!Array.isArray(argument)) throw new TemplateError(messages.conditionFunctionArity(fn));
    if (fn === 'Fn::Equals') {
      if (argument.length !== 2) throw new TemplateError(messages.conditionFunctionArity(fn));
      const [left, right] = argument.map((item) => this.evaluate(item));
      return comparable(left) === comparable(right);
    }
    const operands = argument.map((item) => this.evaluate(item));
    if (operands.some((operand) => typeof operand !== 'boolean')) {
      throw new TemplateError(messages.conditionFunctionArity(fn));
    }
    if (fn === 'Fn::Not') {
      if (operands.length !== 1) throw new TemplateError(messages.conditionFunctionArity(fn));
      return !operands[0];
    }
    if (operands.length < 2 || operands.length > 10)
      throw new TemplateError(messages.conditionFunctionArity(fn));
    return fn === 'Fn::And' ? operands.every(Boolean) : operands.some(Boolean);
  }
}

/** Fn::Equals compares what the values print as: the parameter "1" equals the template's number 1. */
function comparable(value: unknown): string {
  return textOf(value) ?? JSON.stringify(value);
}
