import { KeylessError } from '@keyless/core';

/** A condition or `$[ ]` expression that does not parse or cannot be evaluated. */
export class ExpressionError extends KeylessError {
  readonly code = 'PipelineExpression';
}

/** `Expression 'eq(1,': <problem> (position 5).` — positions are 1-based like the agent's messages. */
export function expressionError(expression: string, problem: string, position?: number, fix?: string) {
  const at = position === undefined ? '' : ` (position ${position + 1})`;
  return new ExpressionError(`Expression '${expression}': ${problem}${at}.`, fix);
}
