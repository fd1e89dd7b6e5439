import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TemplateScope, isWholeRuntimeExpression, resolveTemplateExpressions } from './template-expressions';

const fail = (problem: string): never => {
  throw new Error(problem);
};

test('resolves every ${{ variables.x }} / ${{ variables[...] }} in a value; unknown is empty', () => {
  const values: Record<string, string> = { a: 'A', 'x.y': 'XY', "it's": 'quoted' };
  const lookup = (name: string) => values[name];
  assert.equal(
    resolveTemplateExpressions("${{variables.a}}-${{ variables['x.y'] }}-${{ variables.x.y }}", lookup, fail),
    'A-XY-XY',
  );
  assert.equal(resolveTemplateExpressions("${{ variables['it''s'] }}", lookup, fail), 'quoted');
  assert.equal(
    resolveTemplateExpressions('[${{ variables.missing }}] $(a) $[ x ]', lookup, fail),
    '[] $(a) $[ x ]',
  );
  // A '}}' inside a quoted name does not end the expression.
  assert.equal(
    resolveTemplateExpressions("${{ variables['a}}'] }}!", () => 'v', fail),
    'v!',
  );
});

test('everything other than variables is refused with the reason', () => {
  const resolve = (text: string) => () => resolveTemplateExpressions(text, () => 'x', fail);
  assert.throws(resolve('${{ parameters.env }}'), /template parameters/);
  assert.throws(resolve('${{ if true }}'), /template directive/);
  assert.throws(resolve('${{ else }}'), /template directive/);
  assert.throws(resolve('${{ variables }}'), /only \$\{\{ variables\.x \}\}/);
  assert.throws(resolve('${{ variables.a }'), /not closed/);
});

test('a runtime expression is whole only when its own closing bracket ends the value', () => {
  assert.equal(isWholeRuntimeExpression('$[ counter(1, 0) ]'), true);
  assert.equal(isWholeRuntimeExpression("  $[ eq(variables['a'], ']') ]  "), true);
  assert.equal(isWholeRuntimeExpression("$[ dependencies.A.outputs['s.v'] ]"), true);
  assert.equal(isWholeRuntimeExpression('$[ a ] and $[ b ]'), false);
  assert.equal(isWholeRuntimeExpression('x $[ a ]'), false);
  assert.equal(isWholeRuntimeExpression('$[ a ] x'), false);
  assert.equal(isWholeRuntimeExpression('$[ unclosed'), false);
});

test('TemplateScope: innermost layer wins, overrides win over all, names are case-insensitive', () => {
  const root = new TemplateScope(
    [
      new Map([
        ['a', 'root'],
        ['b', 'root'],
      ]),
    ],
    new Map([['c', 'queued']]),
  );
  const job = root.with(
    new Map([
      ['a', 'job'],
      ['c', 'job'],
    ]),
  );
  assert.equal(job.lookup('A'), 'job');
  assert.equal(job.lookup('b'), 'root');
  assert.equal(job.lookup('C'), 'queued');
  assert.equal(root.lookup('a'), 'root');
  assert.equal(job.lookup('none'), undefined);
});
