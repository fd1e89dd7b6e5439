/**
 * Azure Pipelines expressions for `condition:` and whole-value `$[ … ]` variables, evaluated the way the
 * agent and server do (DistributedTask.Expressions).
 */
import { evaluateNode, type ExpressionContext } from './evaluate';
import { parseExpression, type Node } from './parse';
import { toBoolean, toDisplayString } from './values';

export { ExpressionError } from './errors';
export type { DependencyOutcome, ExpressionContext } from './evaluate';

// Conditions repeat for every step of every job; parsing once per text is enough.
const cache = new Map<string, Node>();
const CACHE_LIMIT = 1000;

function parsed(expression: string, condition: boolean): Node {
  const key = `${condition ? 'c' : 'v'}:${expression}`;
  let node = cache.get(key);
  if (!node) {
    node = parseExpression(expression, { condition });
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, node);
  }
  return node;
}

/** A `condition:`: status functions allowed; the result is cast to Boolean (null, '', 0 are false). */
export function evaluateCondition(expression: string, ctx: ExpressionContext): boolean {
  return toBoolean(evaluateNode(parsed(expression, true), expression, ctx));
}

/**
 * A `$[ … ]` value (the brackets may be included or not). The result as Azure stores it in the variable:
 * True/False, numbers without exponent below 1e15, null → ''.
 */
export function evaluateExpression(expression: string, ctx: ExpressionContext): string {
  const inner = /^\s*\$\[([\s\S]*)\]\s*$/.exec(expression)?.[1] ?? expression;
  return toDisplayString(evaluateNode(parsed(inner, false), inner, ctx));
}
