import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateConditions, parseTemplate } from './index';
import type { ConditionContext } from './index';
import { assertTemplateError } from './test-support';

const bucket = 'Resources:\n  Bucket: {Type: AWS::S3::Bucket}\n';

const context = (parameters: Record<string, string | string[]>): ConditionContext => ({
  accountId: '123456789012',
  region: 'us-east-1',
  stackName: 'stack',
  stackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/stack/1',
  parameters: new Map(Object.entries(parameters)),
});

test('Equals, And, Or, Not and Condition over parameters, pseudo parameters and mappings', () => {
  const template = parseTemplate(`Parameters:
  Env: {Type: String}
  Count: {Type: Number}
  Zones: {Type: CommaDelimitedList}
Mappings:
  Stages: {prod: {Replicated: 'true'}, dev: {Replicated: 'false'}}
Conditions:
  Both: !And [!Condition IsProd, !Condition InVirginia]
  IsProd: !Equals [!Ref Env, prod]
  InVirginia: !Equals [!Ref 'AWS::Region', us-east-1]
  NotProd: !Not [!Condition IsProd]
  Either: !Or [!Condition NotProd, !Equals [!Sub '\${AWS::AccountId}', '000000000000']]
  Replicated: !Equals [!FindInMap [Stages, !Ref Env, Replicated], 'true']
  CountIsThree: !Equals [!Ref Count, 3]
  FirstZone: !Equals [!Select [0, !Ref Zones], a]
  ViaIf: !If [IsProd, !Condition InVirginia, !Condition NotProd]
${bucket}`);
  const prod = evaluateConditions(template, context({ Env: 'prod', Count: '3', Zones: ['a', 'b'] }));
  assert.deepEqual(
    prod,
    new Map([
      ['Both', true],
      ['IsProd', true],
      ['InVirginia', true],
      ['NotProd', false],
      ['Either', false],
      ['Replicated', true],
      ['CountIsThree', true],
      ['FirstZone', true],
      ['ViaIf', true],
    ]),
  );
  const dev = evaluateConditions(template, context({ Env: 'dev', Count: '4', Zones: ['b'] }));
  assert.equal(dev.get('Both'), false);
  assert.equal(dev.get('Either'), true);
  assert.equal(dev.get('Replicated'), false);
  assert.equal(dev.get('CountIsThree'), false);
  assert.equal(dev.get('FirstZone'), false);
  assert.equal(dev.get('ViaIf'), true);
});

test('malformed conditions and cycles', () => {
  const evaluate = (conditions: string) =>
    evaluateConditions(parseTemplate(`Conditions:\n${conditions}${bucket}`), context({}));
  assertTemplateError(
    () => evaluate('  A: !And [!Equals [a, a]]\n'),
    'Template error: every Fn::And object requires a list of at least 2 and at most 10 boolean parameters.',
  );
  assertTemplateError(
    () => evaluate('  A: !Not [!Equals [a, a], !Equals [b, b]]\n'),
    'Template error: every Fn::Not object requires a list with exactly one boolean parameter.',
  );
  assertTemplateError(
    () => evaluate('  A: !Equals [a]\n'),
    'Template error: every Fn::Equals object requires a list of 2 string parameters.',
  );
  assertTemplateError(
    () => evaluate('  A: yes\n'),
    'Template format error: Conditions can only be boolean operations on parameters and other conditions (condition A)',
  );
  assertTemplateError(
    () => evaluate('  A: !Not [!Condition B]\n  B: !Not [!Condition C]\n  C: !Not [!Condition A]\n'),
    'Template format error: Circular dependency between conditions: [A, B, C]',
  );
});
