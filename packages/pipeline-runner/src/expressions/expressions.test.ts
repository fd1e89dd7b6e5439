import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeylessError } from '@keyless/core';
import type { TaskResult } from '../model';
import { evaluateCondition, evaluateExpression, ExpressionError, type ExpressionContext } from './index';

interface Options {
  variables?: Record<string, string>;
  status?: TaskResult;
  canceled?: boolean;
  dependencies?: Record<string, { result: TaskResult; outputs?: Record<string, string> }>;
  stages?: Record<string, Record<string, { result: TaskResult; outputs?: Record<string, string> }>>;
}

function ctx(options: Options = {}): ExpressionContext {
  const find = <T>(record: Record<string, T> | undefined, name: string): T | undefined =>
    Object.entries(record ?? {}).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
  const outcome = (found: { result: TaskResult; outputs?: Record<string, string> } | undefined) =>
    found && { result: found.result, outputs: found.outputs ?? {} };
  return {
    variable: (name) => find(options.variables, name),
    status: () => options.status ?? 'Succeeded',
    canceled: () => options.canceled ?? false,
    dependency: (name) => outcome(find(options.dependencies, name)),
    stageDependency: (stage, job) => outcome(find(find(options.stages, stage), job)),
  };
}

const cond = (expression: string, options?: Options) => evaluateCondition(expression, ctx(options));
const value = (expression: string, options?: Options) => evaluateExpression(expression, ctx(options));

function rejects(run: () => unknown, pattern: RegExp): ExpressionError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ExpressionError, `expected an ExpressionError, got ${String(error)}`);
    assert.ok(error instanceof KeylessError);
    assert.equal(error.code, 'PipelineExpression');
    assert.match(error.message, pattern);
    return error;
  }
  assert.fail(`expected ${pattern} to be thrown`);
}

test('literals: strings with doubled quotes, numbers, booleans in any case, null, versions', () => {
  assert.equal(value("'It''s OK'"), "It's OK");
  assert.equal(value("''"), '');
  assert.equal(value('42'), '42');
  assert.equal(value('-1.5'), '-1.5');
  assert.equal(value('.5'), '0.5');
  assert.equal(value('true'), 'True');
  assert.equal(value('FALSE'), 'False');
  assert.equal(value('null'), '');
  assert.equal(value('1.2.3'), '1.2.3');
  assert.equal(value('$[ 7 ]'), '7');
});

test('string comparisons ignore case; eq converts the right side to the left type', () => {
  assert.equal(cond("eq('A', 'a')"), true);
  assert.equal(cond("ne('A', 'a')"), false);
  assert.equal(cond("eq(1, '1.0')"), true);
  assert.equal(cond("eq('1.0', 1)"), false);
  assert.equal(cond("eq(5, 'five')"), false);
  assert.equal(cond("ne(5, 'five')"), true);
  assert.equal(cond("eq(1, ' 1,000 ')"), false);
  assert.equal(cond("eq(1000, ' 1,000 ')"), true);
  // Any non-empty string is true, so 'false' converts to True.
  assert.equal(cond("eq(true, 'false')"), true);
  assert.equal(cond("eq('True', true)"), true);
  assert.equal(cond("eq(null, '')"), true);
  assert.equal(cond('eq(null, false)'), false);
  assert.equal(cond("eq(1.2.3, '1.2.3')"), true);
  assert.equal(cond("eq(variables['missing'], '')"), true);
  assert.equal(cond("eq(variables['missing'], 'x')"), false);
  assert.equal(cond("eq('', variables['missing'])"), true);
});

test('ordering: numbers, strings ordinal ignore-case, versions; unconvertible right side is an error', () => {
  assert.equal(cond('gt(5, 2)'), true);
  assert.equal(cond("lt(2, '10')"), true);
  assert.equal(cond("lt('2', '10')"), false);
  assert.equal(cond("le('abc', 'ABC')"), true);
  assert.equal(cond("ge('b', 'A')"), true);
  assert.equal(cond("lt(1.2.3, '1.10.0')"), true);
  assert.equal(cond('gt(true, false)'), true);
  rejects(() => cond("gt(5, 'abc')"), /gt\(\): cannot convert String 'abc' to Number/);
});

test('truthiness: empty string, 0 and null are false', () => {
  assert.equal(cond("''"), false);
  assert.equal(cond("'false'"), true);
  assert.equal(cond('0'), false);
  assert.equal(cond('0.1'), true);
  assert.equal(cond('null'), false);
  assert.equal(cond("variables['missing']"), false);
  assert.equal(cond('variables.set', { variables: { set: 'x' } }), true);
});

test('logical functions cast to Boolean and short-circuit', () => {
  assert.equal(cond("and(true, 'x', 1)"), true);
  assert.equal(cond("and(true, '')"), false);
  assert.equal(cond('or(false, 0, null)'), false);
  assert.equal(cond('or(false, 1)'), true);
  assert.equal(cond('not(0)'), true);
  assert.equal(cond('xor(true, false)'), true);
  assert.equal(cond('xor(true, 1)'), false);
  // The failing comparison is never reached.
  assert.equal(cond("and(false, gt(1, 'x'))"), false);
  assert.equal(cond('or(true, dependencies.nope.result)'), true);
});

test('string functions', () => {
  assert.equal(cond("contains('ABCDE', 'bcd')"), true);
  assert.equal(cond("startsWith('refs/heads/main', 'REFS/heads')"), true);
  assert.equal(cond("endsWith('ABCDE', 'de')"), true);
  assert.equal(cond('contains(123, 2)'), true);
  assert.equal(value("format('{0}.{1} {{x}}', 'a', 2)"), 'a.2 {x}');
  assert.equal(value("format('{1}{0}{1}', 'a', 'b')"), 'bab');
  rejects(() => value("format('{2}', 'a')"), /argument that was not supplied/);
  rejects(() => value("format('{0', 'a')"), /format string/);
  rejects(() => value("format('{0:yyyy}', 'a')"), /dates only/);
  assert.equal(value("lower('AbC')"), 'abc');
  assert.equal(value("upper('AbC')"), 'ABC');
  assert.equal(value("length('abcd')"), '4');
  assert.equal(value("length(variables['missing'])"), '0');
  assert.equal(value("replace('a-B-b', 'b', 'x')"), 'a-x-x');
  assert.equal(value("trim('  x  ')"), 'x');
  assert.equal(value("join(';', split('a,b,c', ','))"), 'a;b;c');
  assert.equal(value("length(split('a,b,c', ','))"), '3');
  assert.equal(value("join(',', 'single')"), 'single');
  assert.equal(value("split('a,b', ',')[1]"), 'b');
});

test('in, notIn, coalesce, iif, containsValue', () => {
  assert.equal(cond("in('B', 'a', 'b', 'c')"), true);
  assert.equal(cond("in('D', 'a', 'b')"), false);
  assert.equal(cond("notIn('D', 'a', 'b')"), true);
  assert.equal(cond("in(2, '1', '2.0')"), true);
  assert.equal(value("coalesce(variables.a, '', variables.b, 'fallback')"), 'fallback');
  assert.equal(value('coalesce(variables.a, variables.b)', { variables: { b: 'B' } }), 'B');
  assert.equal(value("iif(eq(1, 1), 'yes', 'no')"), 'yes');
  assert.equal(value("iif('', 'yes', 'no')"), 'no');
  assert.equal(cond("containsValue(split('a,b', ','), 'B')"), true);
  assert.equal(cond("containsValue(split('a,b', ','), 'c')"), false);
  assert.equal(cond("containsValue('ab', 'a')"), false);
});

test('numbers print like .NET G15; booleans as True/False; null as empty', () => {
  assert.equal(value('1.0'), '1');
  assert.equal(value('0.1'), '0.1');
  assert.equal(value('123456789012345678'), '1.23456789012346E+17');
  assert.equal(value('0.000001'), '1E-06');
  assert.equal(value('eq(1, 1)'), 'True');
  assert.equal(value("variables['nope']"), '');
  assert.equal(value("convertToJson(split('a,b', ','))"), '[\n  "a",\n  "b"\n]');
});

test('variables by index or property, case-insensitively; dotted names need the index syntax', () => {
  const options = { variables: { 'Build.SourceBranch': 'refs/heads/main', isMain: 'True' } };
  assert.equal(cond("eq(variables['build.sourcebranch'], 'refs/heads/main')", options), true);
  assert.equal(cond("eq(Variables['BUILD.SOURCEBRANCH'], 'refs/heads/main')", options), true);
  assert.equal(cond('eq(variables.ismain, true)', options), true);
  assert.equal(value('variables.Build.SourceBranch', options), '');
});

test('status functions for steps follow Agent.JobStatus', () => {
  const table: Array<[TaskResult, boolean, boolean, boolean]> = [
    // status, succeeded(), succeededOrFailed(), failed()
    ['Succeeded', true, true, false],
    ['SucceededWithIssues', true, true, false],
    ['Failed', false, true, true],
    ['Canceled', false, false, false],
    ['Skipped', false, false, false],
  ];
  for (const [status, succeeded, succeededOrFailed, failed] of table) {
    assert.equal(cond('succeeded()', { status }), succeeded, `succeeded() at ${status}`);
    assert.equal(
      cond('succeededOrFailed()', { status }),
      succeededOrFailed,
      `succeededOrFailed() at ${status}`,
    );
    assert.equal(cond('failed()', { status }), failed, `failed() at ${status}`);
    assert.equal(cond('always()', { status }), true);
  }
  assert.equal(cond('canceled()', { canceled: true }), true);
  assert.equal(cond('canceled()'), false);
  assert.equal(cond('succeededOrFailed()', { status: 'Failed', canceled: true }), false);
  assert.equal(cond('succeeded()', { canceled: true }), false);
  assert.equal(cond('always()', { canceled: true }), true);
  assert.equal(
    cond("and(succeeded(), eq(variables['Build.Reason'], 'Manual'))", {
      variables: { 'build.reason': 'manual' },
    }),
    true,
  );
});

test('status functions with job names check those dependencies', () => {
  const dependencies = {
    A: { result: 'Succeeded' as const },
    B: { result: 'Failed' as const },
    C: { result: 'SucceededWithIssues' as const },
  };
  assert.equal(cond("succeeded('A', 'C')", { dependencies }), true);
  assert.equal(cond("succeeded('A', 'B')", { dependencies }), false);
  assert.equal(cond("failed('A', 'B')", { dependencies }), true);
  assert.equal(cond("failed('a')", { dependencies }), false);
  assert.equal(cond("succeededOrFailed('A', 'B')", { dependencies }), true);
  const error = rejects(() => cond("succeeded('Nope')", { dependencies }), /'Nope' is not a dependency/);
  assert.match(error.fix ?? '', /dependsOn/);
});

test('dependencies and stageDependencies: result and outputs', () => {
  const options: Options = {
    dependencies: {
      Build: { result: 'Succeeded', outputs: { 'setVars.version': '1.2.3' } },
      Stage1: { result: 'SucceededWithIssues', outputs: { 'Job1.step.flag': 'yes' } },
    },
    stages: { Deploy: { Approve: { result: 'Succeeded', outputs: { 'gate.ok': 'true' } } } },
  };
  assert.equal(value("dependencies.Build.outputs['setVars.version']", options), '1.2.3');
  assert.equal(value("dependencies['build'].outputs['SETVARS.VERSION']", options), '1.2.3');
  assert.equal(cond("eq(dependencies.Build.result, 'succeeded')", options), true);
  assert.equal(value("dependencies.Build.outputs['missing.var']", options), '');
  assert.equal(value("dependencies.Stage1.outputs['Job1.step.flag']", options), 'yes');
  assert.equal(
    cond("in(dependencies.Stage1.result, 'Succeeded', 'SucceededWithIssues', 'Skipped')", options),
    true,
  );
  assert.equal(value("stageDependencies.Deploy.Approve.outputs['gate.ok']", options), 'true');
  assert.equal(cond("eq(stageDependencies.Deploy.Approve.result, 'Succeeded')", options), true);

  const missing = rejects(
    () => value('dependencies.Unknown.result', options),
    /'Unknown' is not a dependency/,
  );
  assert.match(missing.fix ?? '', /Add 'Unknown' to dependsOn/);
  const stageMissing = rejects(
    () => value("stageDependencies.Deploy.Nope.outputs['a.b']", options),
    /'Deploy\.Nope' is not a job of a stage/,
  );
  assert.match(stageMissing.fix ?? '', /dependsOn/);
});

test('syntax errors name the expression and the position', () => {
  const unknown = rejects(() => cond('foo(1)'), /unrecognized function 'foo'/);
  assert.match(unknown.message, /Expression 'foo\(1\)'/);
  assert.match(unknown.message, /position 1/);
  rejects(() => cond('eq(1, 2'), /never closed/);
  rejects(() => cond('eq(1, 2))'), /unexpected symbol '\)' \(position 9\)/);
  rejects(() => cond('eq(1)'), /too few parameters supplied to 'eq'/);
  rejects(() => cond('not(1, 2)'), /too many parameters supplied to 'not'/);
  rejects(() => cond('somevalue'), /unrecognized value 'somevalue'/);
  rejects(() => cond('succeeded'), /'succeeded' is a function/);
  rejects(() => cond("'unterminated"), /unrecognized value/);
  rejects(() => cond('variables.'), /property name/);
  rejects(() => cond("variables['a'"), /expected '\]'/);
  rejects(() => cond('(true)'), /unexpected symbol '\('/);
  rejects(() => cond(''), /empty/);
  rejects(() => cond('1e5'), /unrecognized value '1e5'/);
  rejects(() => value("counter('x', 1)"), /counter\(\) is not supported/);
  rejects(() => value('succeeded()'), /only in a condition/);
  rejects(() => cond(`${'not('.repeat(60)}true${')'.repeat(60)}`), /deeper than 50/);
});

test('multi-line conditions parse', () => {
  assert.equal(
    cond(
      `and
      (
        in(dependencies.a.result, 'Succeeded', 'SucceededWithIssues', 'Skipped'),
        in(dependencies.b.result, 'Succeeded', 'SucceededWithIssues', 'Skipped')
      )`,
      { dependencies: { a: { result: 'Skipped' }, b: { result: 'Succeeded' } } },
    ),
    true,
  );
});
