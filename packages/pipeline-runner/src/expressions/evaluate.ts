/**
 * Evaluates a parsed expression against the runner's state: the built-in functions with Azure's coercion
 * rules, the job status checks, and the `variables` / `dependencies` / `stageDependencies` named values.
 */
import type { TaskResult } from '../model';
import { ExpressionError, expressionError } from './errors';
import type { FunctionName, NamedValue, Node } from './parse';
import {
  CoercionError,
  ObjectValue,
  compare,
  equals,
  foldCase,
  toBoolean,
  toJson,
  toStringValue,
  tryNumber,
  tryString,
  type Value,
} from './values';

export interface DependencyOutcome {
  result: TaskResult;
  outputs: Record<string, string>;
}

export interface ExpressionContext {
  /** Case-insensitive variable lookup for variables['X'] / variables.X. */
  variable(name: string): string | undefined;
  /** Status used by succeeded()/failed()/… with no arguments: for a step, Agent.JobStatus; for a job/stage, the merged result of its dependencies. */
  status(): TaskResult;
  /** Result of a named dependency, for succeeded('JobA') etc. and dependencies.X.result. undefined = not a dependency → error. */
  dependency(name: string): DependencyOutcome | undefined;
  /** stageDependencies.<stage>.<job> for job-level expressions in later stages. */
  stageDependency(stage: string, job: string): DependencyOutcome | undefined;
  /** True once the run was cancelled. */
  canceled(): boolean;
}

/** A name looked up under `dependencies` / `stageDependencies` that the context does not know. */
class UnknownName extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

type Implementation = (args: readonly Node[], run: Evaluation) => Value;

const SUCCEEDED: readonly TaskResult[] = ['Succeeded', 'SucceededWithIssues'];
const SUCCEEDED_OR_FAILED: readonly TaskResult[] = ['Succeeded', 'SucceededWithIssues', 'Failed'];

class Evaluation {
  constructor(
    readonly expression: string,
    readonly context: ExpressionContext,
  ) {}

  value(node: Node): Value {
    switch (node.kind) {
      case 'literal':
        return node.value;
      case 'named':
        return this.named(node.name);
      case 'index': {
        const target = this.value(node.target);
        const key = this.value(node.key);
        try {
          return access(target, key);
        } catch (error) {
          if (error instanceof UnknownName)
            throw expressionError(this.expression, error.message, node.position, error.fix);
          throw error;
        }
      }
      case 'call':
        try {
          return IMPLEMENTATIONS[node.name](node.args, this);
        } catch (error) {
          if (error instanceof CoercionError) {
            throw expressionError(this.expression, `${node.name}(): ${error.message}`, node.position);
          }
          throw error;
        }
    }
  }

  text(node: Node): string {
    return toStringValue(this.value(node));
  }

  truthy(node: Node): boolean {
    return toBoolean(this.value(node));
  }

  fail(problem: string, node: Node, fix?: string): never {
    throw expressionError(this.expression, problem, node.position, fix);
  }

  /** Results of the jobs/stages named as status-function arguments. */
  dependencyResults(args: readonly Node[]): TaskResult[] {
    return args.map((arg) => {
      const name = this.text(arg);
      const outcome = this.context.dependency(name);
      if (!outcome) this.fail(notADependency(name).message, arg, notADependency(name).fix);
      return outcome.result;
    });
  }

  private named(name: NamedValue): Value {
    const context = this.context;
    switch (name) {
      case 'variables':
        return new ObjectValue((key) => context.variable(key) ?? null);
      case 'dependencies':
        return new ObjectValue((key) => {
          const outcome = context.dependency(key);
          if (!outcome) throw notADependency(key);
          return dependencyValue(outcome);
        });
      case 'stagedependencies':
        return new ObjectValue(
          (stage) =>
            new ObjectValue((job) => {
              const outcome = context.stageDependency(stage, job);
              if (!outcome) {
                throw new UnknownName(
                  `'${stage}.${job}' is not a job of a stage this stage depends on`,
                  `Add '${stage}' to the dependsOn of this job's stage and check the job name '${job}'.`,
                );
              }
              return dependencyValue(outcome);
            }),
        );
    }
  }
}

function notADependency(name: string): UnknownName {
  return new UnknownName(
    `'${name}' is not a dependency of this job or stage`,
    `Add '${name}' to dependsOn (only the jobs or stages listed there are visible), or correct the name.`,
  );
}

function dependencyValue(outcome: DependencyOutcome): ObjectValue {
  return ObjectValue.of({ result: outcome.result, outputs: ObjectValue.of(outcome.outputs) });
}

function access(target: Value, key: Value): Value {
  if (target instanceof ObjectValue) {
    const name = tryString(key);
    return name === undefined ? null : target.get(name);
  }
  if (Array.isArray(target) && key !== null) {
    const index = tryNumber(key);
    return index !== undefined && Number.isInteger(index) ? (target[index] ?? null) : null;
  }
  return null;
}

/** `{0}` arguments, `{{`/`}}` escapes; format specifiers apply to dates only, which the runner never has. */
function format(args: readonly Node[], run: Evaluation): string {
  const template = run.text(args[0]!);
  const invalid = () => run.fail(`format(): the format string '${template}' is invalid`, args[0]!);
  let out = '';
  for (let i = 0; i < template.length;) {
    const char = template[i]!;
    if (char === '{' && template[i + 1] === '{') {
      out += '{';
      i += 2;
    } else if (char === '}' && template[i + 1] === '}') {
      out += '}';
      i += 2;
    } else if (char === '}') {
      invalid();
    } else if (char === '{') {
      const match = /^\{(\d+)(:[^}]*)?\}/.exec(template.slice(i));
      if (!match) invalid();
      const argIndex = Number(match![1]);
      if (match![2] !== undefined) {
        run.fail(`format(): format specifiers '${match![2].slice(1)}' apply to dates only`, args[0]!);
      }
      const arg = args[argIndex + 1];
      if (argIndex > 255 || !arg) {
        run.fail(`format(): '{${argIndex}}' refers to an argument that was not supplied`, args[0]!);
      }
      out += run.text(arg!);
      i += match![0].length;
    } else {
      out += char;
      i++;
    }
  }
  return out;
}

function replaceIgnoreCase(input: string, search: string, replacement: string): string {
  const haystack = foldCase(input);
  const needle = foldCase(search);
  let out = '';
  let cursor = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, cursor)) {
    out += input.slice(cursor, at) + replacement;
    cursor = at + needle.length;
  }
  return out + input.slice(cursor);
}

function stringTest(test: (haystack: string, needle: string) => boolean): Implementation {
  return ([left, right], run) => test(foldCase(run.text(left!)), foldCase(run.text(right!)));
}

function ordering(test: (order: number) => boolean): Implementation {
  return ([left, right], run) => test(compare(run.value(left!), run.value(right!)));
}

function isIn(args: readonly Node[], run: Evaluation): boolean {
  const left = run.value(args[0]!);
  return args.slice(1).some((arg) => equals(left, run.value(arg)));
}

const IMPLEMENTATIONS: Record<FunctionName, Implementation> = {
  and: (args, run) => args.every((arg) => run.truthy(arg)),
  or: (args, run) => args.some((arg) => run.truthy(arg)),
  not: ([arg], run) => !run.truthy(arg!),
  xor: ([left, right], run) => run.truthy(left!) !== run.truthy(right!),
  eq: ([left, right], run) => equals(run.value(left!), run.value(right!)),
  ne: ([left, right], run) => !equals(run.value(left!), run.value(right!)),
  lt: ordering((order) => order < 0),
  le: ordering((order) => order <= 0),
  gt: ordering((order) => order > 0),
  ge: ordering((order) => order >= 0),
  contains: stringTest((haystack, needle) => haystack.includes(needle)),
  startswith: stringTest((haystack, needle) => haystack.startsWith(needle)),
  endswith: stringTest((haystack, needle) => haystack.endsWith(needle)),
  in: isIn,
  notin: (args, run) => !isIn(args, run),
  containsvalue: ([collection, item], run) => {
    const left = run.value(collection!);
    if (!Array.isArray(left) && !(left instanceof ObjectValue)) return false;
    const right = run.value(item!);
    const values =
      left instanceof ObjectValue ? left.entries().map(([, value]) => value) : (left as readonly Value[]);
    return values.some((value) => equals(right, value));
  },
  format,
  join: ([separator, items], run) => {
    const right = run.value(items!);
    if (!Array.isArray(right)) return tryString(right) ?? '';
    const list = right as readonly Value[];
    if (list.length < 2) return list.length === 0 ? '' : (tryString(list[0]!) ?? '');
    const glue = run.text(separator!);
    return list.map((item) => tryString(item) ?? '').join(glue);
  },
  coalesce: (args, run) => {
    let value: Value = null;
    for (const arg of args) {
      value = run.value(arg);
      if (value !== null && value !== '') break;
    }
    return value;
  },
  lower: ([arg], run) => run.text(arg!).toLowerCase(),
  upper: ([arg], run) => run.text(arg!).toUpperCase(),
  length: ([arg], run) => {
    const value = run.value(arg!);
    if (value instanceof ObjectValue) return value.entries().length;
    if (Array.isArray(value)) return value.length;
    return (tryString(value) ?? '').length;
  },
  replace: ([input, search, replacement], run) => {
    const text = run.text(input!);
    const needle = run.text(search!);
    if (needle === '') run.fail('replace(): the text to replace must not be empty', search!);
    return replaceIgnoreCase(text, needle, run.text(replacement!));
  },
  split: ([input, separator], run) => {
    const text = run.text(input!);
    const glue = run.text(separator!);
    return glue === '' ? [text] : text.split(glue);
  },
  trim: ([arg], run) => run.text(arg!).trim(),
  iif: ([condition, then, otherwise], run) => {
    const chosen = run.truthy(condition!);
    const a = run.value(then!);
    const b = run.value(otherwise!);
    return chosen ? a : b;
  },
  converttojson: ([arg], run) => JSON.stringify(toJson(run.value(arg!)), null, 2) ?? 'null',
  succeeded: (args, run) => statusCheck(args, run, SUCCEEDED, 'all'),
  succeededorfailed: (args, run) => statusCheck(args, run, SUCCEEDED_OR_FAILED, 'all'),
  failed: (args, run) => statusCheck(args, run, ['Failed'], 'any'),
  canceled: (_args, run) => run.context.canceled(),
  always: () => true,
};

/** Without arguments the context's status decides; with job/stage names, their results do. */
function statusCheck(
  args: readonly Node[],
  run: Evaluation,
  accepted: readonly TaskResult[],
  mode: 'all' | 'any',
): boolean {
  const results = args.length === 0 ? [run.context.status()] : run.dependencyResults(args);
  if (run.context.canceled()) return false;
  return mode === 'all'
    ? results.every((result) => accepted.includes(result))
    : results.some((result) => accepted.includes(result));
}

export function evaluateNode(node: Node, expression: string, context: ExpressionContext): Value {
  try {
    return new Evaluation(expression, context).value(node);
  } catch (error) {
    if (error instanceof ExpressionError || !(error instanceof CoercionError)) throw error;
    throw expressionError(expression, error.message);
  }
}
