/**
 * Lexer and parser for Azure Pipelines expressions (DistributedTask.Expressions LexicalAnalyzer/Parser):
 * literals, function calls, named values (`variables`, `dependencies`, `stageDependencies`) and `.name` /
 * `[expr]` property access. There are no operators and no grouping parentheses, as in Azure.
 */
import { expressionError } from './errors';
import { Version } from './values';

export type Literal = null | boolean | number | string | Version;

export type NamedValue = 'variables' | 'dependencies' | 'stagedependencies';

export type Node =
  | { kind: 'literal'; value: Literal; position: number }
  | { kind: 'named'; name: NamedValue; position: number }
  | { kind: 'call'; name: FunctionName; args: Node[]; position: number }
  | { kind: 'index'; target: Node; key: Node; position: number };

/** [min, max] parameter counts (Azure's AzureWellKnownFunctions plus iif and trim from the current docs). */
export const FUNCTIONS = {
  and: [2, Infinity],
  or: [2, Infinity],
  not: [1, 1],
  xor: [2, 2],
  eq: [2, 2],
  ne: [2, 2],
  lt: [2, 2],
  le: [2, 2],
  gt: [2, 2],
  ge: [2, 2],
  contains: [2, 2],
  startswith: [2, 2],
  endswith: [2, 2],
  in: [1, Infinity],
  notin: [1, Infinity],
  containsvalue: [2, 2],
  format: [1, Infinity],
  join: [2, 2],
  coalesce: [2, Infinity],
  lower: [1, 1],
  upper: [1, 1],
  length: [1, 1],
  replace: [3, 3],
  split: [2, 2],
  trim: [1, 1],
  iif: [3, 3],
  converttojson: [1, 1],
  // Job status checks: conditions only, not `$[ ]` variable values.
  succeeded: [0, Infinity],
  succeededorfailed: [0, Infinity],
  failed: [0, Infinity],
  canceled: [0, 0],
  always: [0, 0],
} as const satisfies Record<string, readonly [number, number]>;

export type FunctionName = keyof typeof FUNCTIONS;

export const STATUS_FUNCTIONS: ReadonlySet<FunctionName> = new Set([
  'succeeded',
  'succeededorfailed',
  'failed',
  'canceled',
  'always',
]);

const NAMED_VALUES: ReadonlySet<string> = new Set(['variables', 'dependencies', 'stagedependencies']);
const MAX_LENGTH = 21000;
const MAX_DEPTH = 50;
const HELP = 'See https://learn.microsoft.com/azure/devops/pipelines/process/expressions for the syntax.';

type TokenKind = 'literal' | 'keyword' | 'property' | 'punctuation' | 'unrecognized';

interface Token {
  kind: TokenKind;
  text: string;
  position: number;
  value?: Literal;
}

const PUNCTUATION = '[(]),.';

function isBoundary(char: string): boolean {
  return PUNCTUATION.includes(char) || /\s/.test(char);
}

// After these (or at the start) a '.' begins a number like `.5`; anywhere else it dereferences.
function startsValue(token: Token | undefined): boolean {
  return !token || (token.kind === 'punctuation' && '([,'.includes(token.text));
}

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const last = () => tokens[tokens.length - 1];
  while (i < expression.length) {
    const char = expression[i]!;
    if (/\s/.test(char)) {
      i++;
      continue;
    }
    const start = i;
    if ('[(]),*'.includes(char)) {
      tokens.push({ kind: 'punctuation', text: char, position: i++ });
    } else if (char === "'") {
      let value = '';
      let closed = false;
      for (i++; i < expression.length; i++) {
        if (expression[i] === "'") {
          if (expression[i + 1] !== "'") {
            closed = true;
            i++;
            break;
          }
          i++;
        }
        value += expression[i];
      }
      const text = expression.slice(start, i);
      tokens.push(
        closed
          ? { kind: 'literal', text, position: start, value }
          : { kind: 'unrecognized', text, position: start },
      );
    } else if (char === '.' && !startsValue(last())) {
      tokens.push({ kind: 'punctuation', text: '.', position: i++ });
    } else if (char === '.' || char === '-' || (char >= '0' && char <= '9')) {
      // Numbers and versions run through periods; anything else up to the next boundary belongs to them.
      let periods = 0;
      do {
        if (expression[i] === '.') periods++;
        i++;
      } while (i < expression.length && (!isBoundary(expression[i]!) || expression[i] === '.'));
      const text = expression.slice(start, i);
      const value =
        periods >= 2 ? Version.parse(text) : /^[+-]?(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : undefined;
      tokens.push(
        value === undefined
          ? { kind: 'unrecognized', text, position: start }
          : { kind: 'literal', text, position: start, value },
      );
    } else {
      for (i++; i < expression.length && !isBoundary(expression[i]!); i++);
      const text = expression.slice(start, i);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(text)) {
        tokens.push({ kind: 'unrecognized', text, position: start });
      } else if (last()?.text === '.' && last()!.kind === 'punctuation') {
        tokens.push({ kind: 'property', text, position: start });
      } else {
        const lower = text.toLowerCase();
        if (lower === 'true' || lower === 'false') {
          tokens.push({ kind: 'literal', text, position: start, value: lower === 'true' });
        } else if (lower === 'null') {
          tokens.push({ kind: 'literal', text, position: start, value: null });
        } else {
          tokens.push({ kind: 'keyword', text, position: start });
        }
      }
    }
  }
  return tokens;
}

export interface ParseOptions {
  /** Status functions (succeeded(), always(), …) exist in conditions only. */
  condition: boolean;
}

export function parseExpression(expression: string, options: ParseOptions): Node {
  if (expression.length > MAX_LENGTH) {
    throw expressionError(
      `${expression.slice(0, 40)}…`,
      `longer than the ${MAX_LENGTH} characters Azure Pipelines allows`,
    );
  }
  const tokens = tokenize(expression);
  let index = 0;
  const fail = (problem: string, position?: number): never => {
    throw expressionError(expression, problem, position, HELP);
  };
  const peek = (): Token | undefined => tokens[index];
  const isPunctuation = (token: Token | undefined, text: string) =>
    token?.kind === 'punctuation' && token.text === text;

  const parseValue = (depth: number): Node => {
    if (depth > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`);
    const token = tokens[index++];
    if (!token) return fail('unexpected end of expression', expression.length);
    let node: Node;
    switch (token.kind) {
      case 'literal':
        return { kind: 'literal', value: token.value!, position: token.position };
      case 'keyword':
        node = isPunctuation(peek(), '(') ? parseCall(token, depth) : parseNamedValue(token);
        break;
      case 'unrecognized':
        return fail(`unrecognized value '${token.text}'`, token.position);
      default:
        return fail(`unexpected symbol '${token.text}'`, token.position);
    }
    for (let next = peek(); isPunctuation(next, '.') || isPunctuation(next, '['); next = peek()) {
      index++;
      if (next!.text === '.') {
        const name = tokens[index++];
        if (name?.kind !== 'property') {
          if (name?.text === '*') fail(`filtered arrays ('.*') are not supported`, name.position);
          fail(`expected a property name after '.'`, name?.position ?? expression.length);
        }
        node = {
          kind: 'index',
          target: node,
          key: { kind: 'literal', value: name!.text, position: name!.position },
          position: next!.position,
        };
      } else {
        if (peek()?.text === '*') fail(`filtered arrays ('[*]') are not supported`, peek()!.position);
        const key = parseValue(depth + 1);
        const close = tokens[index++];
        if (!isPunctuation(close, ']')) fail(`expected ']'`, close?.position ?? expression.length);
        node = { kind: 'index', target: node, key, position: next!.position };
      }
    }
    return node;
  };

  const parseNamedValue = (token: Token): Node => {
    const name = token.text.toLowerCase();
    if (!NAMED_VALUES.has(name)) {
      const known = Object.keys(FUNCTIONS).includes(name)
        ? ` ('${token.text}' is a function: call it with '()')`
        : '';
      return fail(
        `unrecognized value '${token.text}'${known}; the values available are variables, dependencies and stageDependencies`,
        token.position,
      );
    }
    return { kind: 'named', name: name as NamedValue, position: token.position };
  };

  const parseCall = (token: Token, depth: number): Node => {
    const name = token.text.toLowerCase();
    if (name === 'counter') {
      fail(
        `counter() is not supported by the local runner (it needs the server's per-pipeline state)`,
        token.position,
      );
    }
    if (!Object.hasOwn(FUNCTIONS, name)) fail(`unrecognized function '${token.text}'`, token.position);
    const fn = name as FunctionName;
    if (STATUS_FUNCTIONS.has(fn) && !options.condition) {
      fail(
        `'${token.text}()' is a job status check and works only in a condition, not in a $[ ] value`,
        token.position,
      );
    }
    index++; // '('
    const args: Node[] = [];
    if (isPunctuation(peek(), ')')) {
      index++;
    } else {
      for (;;) {
        args.push(parseValue(depth + 1));
        const separator = tokens[index++];
        if (isPunctuation(separator, ')')) break;
        if (!isPunctuation(separator, ',')) {
          fail(
            separator
              ? `unexpected symbol '${separator.text}' in the arguments of '${token.text}'`
              : `'${token.text}(' is never closed`,
            separator?.position ?? expression.length,
          );
        }
      }
    }
    const [min, max] = FUNCTIONS[fn];
    if (args.length < min)
      fail(`too few parameters supplied to '${token.text}' (at least ${min})`, token.position);
    if (args.length > max)
      fail(`too many parameters supplied to '${token.text}' (at most ${max})`, token.position);
    return { kind: 'call', name: fn, args, position: token.position };
  };

  if (tokens.length === 0) fail('the expression is empty');
  const root = parseValue(1);
  const extra = peek();
  if (extra) fail(`unexpected symbol '${extra.text}'`, extra.position);
  return root;
}
