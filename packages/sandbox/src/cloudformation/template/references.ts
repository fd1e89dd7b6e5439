import { parseSubString, splitSubVariable } from './sub-template';

/** A name some intrinsic points at: a resource, parameter or pseudo parameter, classified later. */
export interface Reference {
  target: string;
  /** Set for Fn::GetAtt and `${Res.Attr}`. */
  attribute?: string;
}

export interface ReferenceWalk {
  /**
   * Which branch of an Fn::If counts: true/false once conditions are known, undefined to walk both
   * (template validation, where every branch must name things that exist).
   */
  branch?(condition: string): boolean | undefined;
  /** Every condition an Fn::If names, whether or not it exists. */
  onIfCondition?(condition: string): void;
}

export function unique<T>(items: Iterable<T>): T[] {
  return [...new Set(items)];
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `{ "Ref": … }` or `{ "Fn::X": … }`: a one-key object whose key names an intrinsic function. */
export function intrinsicName(value: unknown): string | undefined {
  if (!isRecord(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const key = keys[0] as string;
  return key === 'Ref' || key.startsWith('Fn::') ? key : undefined;
}

export const PSEUDO_PARAMETERS = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

export function isPseudoParameter(name: string): boolean {
  return PSEUDO_PARAMETERS.has(name);
}

/** Collects the Ref / Fn::GetAtt / Fn::Sub targets inside a raw template value. */
export function collectReferences(
  node: unknown,
  walk: ReferenceWalk = {},
  into: Reference[] = [],
): Reference[] {
  if (Array.isArray(node)) {
    for (const item of node) collectReferences(item, walk, into);
    return into;
  }
  if (!isRecord(node)) return into;
  const fn = intrinsicName(node);
  const argument = fn === undefined ? undefined : node[fn];
  switch (fn) {
    case 'Ref':
      if (typeof argument === 'string') into.push({ target: argument });
      return into;
    case 'Fn::GetAtt':
      if (typeof argument === 'string') {
        const { target, attribute } = splitSubVariable(argument);
        into.push(attribute === undefined ? { target } : { target, attribute });
      } else if (Array.isArray(argument) && typeof argument[0] === 'string') {
        into.push(
          typeof argument[1] === 'string'
            ? { target: argument[0], attribute: argument[1] }
            : { target: argument[0] },
        );
        collectReferences(argument.slice(1), walk, into);
      }
      return into;
    case 'Fn::Sub': {
      const [source, variables] = Array.isArray(argument) ? argument : [argument, undefined];
      const local = isRecord(variables) ? new Set(Object.keys(variables)) : new Set<string>();
      if (typeof source === 'string') {
        for (const segment of parseSubString(source)) {
          if (segment.kind !== 'variable' || local.has(segment.name)) continue;
          const { target, attribute } = splitSubVariable(segment.name);
          into.push(attribute === undefined ? { target } : { target, attribute });
        }
      }
      if (isRecord(variables)) collectReferences(Object.values(variables), walk, into);
      return into;
    }
    case 'Fn::If': {
      if (!Array.isArray(argument) || typeof argument[0] !== 'string') {
        collectReferences(argument, walk, into);
        return into;
      }
      const condition = argument[0];
      walk.onIfCondition?.(condition);
      const chosen = walk.branch?.(condition);
      if (chosen !== false) collectReferences(argument[1], walk, into);
      if (chosen !== true) collectReferences(argument[2], walk, into);
      return into;
    }
    default:
      collectReferences(Object.values(node), walk, into);
      return into;
  }
}

/** Conditions named by `{ "Condition": X }` inside the Conditions block (the only place it is a function). */
export function collectConditionReferences(node: unknown, into: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const item of node) collectConditionReferences(item, into);
  } else if (isRecord(node)) {
    const keys = Object.keys(node);
    if (keys.length === 1 && keys[0] === 'Condition' && typeof node.Condition === 'string') {
      into.push(node.Condition);
    } else if (keys.length === 1 && keys[0] === 'Fn::If' && Array.isArray(node['Fn::If'])) {
      const [condition, ...branches] = node['Fn::If'] as unknown[];
      if (typeof condition === 'string') into.push(condition);
      collectConditionReferences(branches, into);
    } else {
      collectConditionReferences(Object.values(node), into);
    }
  }
  return into;
}
