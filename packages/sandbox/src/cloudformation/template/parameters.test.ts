import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTemplate, resolveParameters } from './index';
import { assertTemplateError } from './test-support';

const bucket = 'Resources:\n  Bucket: {Type: AWS::S3::Bucket}\n';
const withParameters = (parameters: string) => parseTemplate(`Parameters:\n${parameters}${bucket}`);

test('given, previous and default values; lists become arrays; NoEcho is masked', () => {
  const template = withParameters(`  Env: {Type: String, Default: dev}
  Password: {Type: String, NoEcho: true}
  Subnets: {Type: 'List<AWS::EC2::Subnet::Id>'}
  Zones: {Type: CommaDelimitedList, Default: 'a,b'}
  Sizes: {Type: 'List<Number>', Default: '1,2'}
  Vpc: {Type: 'AWS::EC2::VPC::Id'}
  Ami: {Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>', Default: /aws/service/ami}
`);
  const resolved = resolveParameters(
    template,
    [
      { key: 'Password', usePreviousValue: true },
      { key: 'Subnets', value: 'subnet-1,subnet-2' },
      { key: 'Vpc', value: 'vpc-1' },
    ],
    new Map([['Password', 's3cret']]),
  );
  assert.deepEqual(
    resolved.values,
    new Map<string, string | string[]>([
      ['Env', 'dev'],
      ['Password', 's3cret'],
      ['Subnets', ['subnet-1', 'subnet-2']],
      ['Zones', ['a', 'b']],
      ['Sizes', ['1', '2']],
      ['Vpc', 'vpc-1'],
      // SSM-backed: the parameter name stands for its value until the sandbox has SSM.
      ['Ami', '/aws/service/ami'],
    ]),
  );
  assert.deepEqual(resolved.described, [
    { key: 'Env', value: 'dev' },
    { key: 'Password', value: '****' },
    { key: 'Subnets', value: 'subnet-1,subnet-2' },
    { key: 'Zones', value: 'a,b' },
    { key: 'Sizes', value: '1,2' },
    { key: 'Vpc', value: 'vpc-1' },
    { key: 'Ami', value: '/aws/service/ami' },
  ]);
});

test('a previous list value is reused as a list; an empty given value is a value', () => {
  const template = withParameters(`  Zones: {Type: CommaDelimitedList}\n  Suffix: {Type: String}\n`);
  const resolved = resolveParameters(
    template,
    [
      { key: 'Zones', usePreviousValue: true },
      { key: 'Suffix', value: '' },
    ],
    new Map([['Zones', ['a', 'b']]]),
  );
  assert.deepEqual(resolved.values.get('Zones'), ['a', 'b']);
  assert.equal(resolved.values.get('Suffix'), '');
});

test('missing, unknown and malformed parameters', () => {
  const template = withParameters(
    `  A: {Type: String}\n  B: {Type: String}\n  C: {Type: String, Default: c}\n`,
  );
  assertTemplateError(() => resolveParameters(template, []), 'Parameters: [A, B] must have values');
  assertTemplateError(
    () =>
      resolveParameters(template, [
        { key: 'A', value: 'a' },
        { key: 'B', value: 'b' },
        { key: 'X', value: 'x' },
        { key: 'Y', value: 'y' },
      ]),
    'Parameters: [X, Y] do not exist in the template',
  );
  assertTemplateError(
    () => resolveParameters(template, [{ key: 'A', value: 'a', usePreviousValue: true }], new Map()),
    'Invalid input for parameter key A. Cannot specify usePreviousValue as true and non empty value for a parameter',
  );
  assertTemplateError(
    () => resolveParameters(template, [{ key: 'A', usePreviousValue: true }]),
    'Cannot specify UsePreviousValue on Parameters when ChangeSetType is CREATE',
  );
  assertTemplateError(
    () =>
      resolveParameters(
        template,
        [
          { key: 'A', usePreviousValue: true },
          { key: 'B', value: 'b' },
        ],
        new Map([['B', 'old']]),
      ),
    'Cannot specify usePreviousValue as true for a parameter key not in the previous template',
  );
  assertTemplateError(
    () => resolveParameters(template, [{ key: 'A' }]),
    'Invalid input for parameter key A. Need to specify either usePreviousValue as true or a value for the parameter',
  );
});

test('each constraint, with and without a ConstraintDescription', () => {
  const template = withParameters(`  Env: {Type: String, AllowedValues: [dev, prod], Default: dev}
  Name: {Type: String, AllowedPattern: '[a-z]+', Default: abc}
  Password: {Type: String, MinLength: 8, MaxLength: 12, Default: password}
  Count: {Type: Number, MinValue: 1, MaxValue: 5, Default: 2}
  Ports: {Type: 'List<Number>', Default: '80,443'}
  Zones: {Type: CommaDelimitedList, AllowedValues: [a, b, c], Default: 'a,b'}
  Key: {Type: String, AllowedPattern: '[\\x20-\\x7E]*', ConstraintDescription: can contain only ASCII characters., Default: k}
`);
  const check = (key: string, value: string, message: string): void =>
    assertTemplateError(() => resolveParameters(template, [{ key, value }]), message);

  check('Env', 'test', "Parameter 'Env' must be one of AllowedValues");
  check('Name', 'abc1', "Parameter 'Name' must match pattern [a-z]+");
  // The pattern must match the whole value, not a part of it.
  check('Name', '1abc', "Parameter 'Name' must match pattern [a-z]+");
  check('Password', 'short', "Parameter 'Password' must contain at least 8 characters");
  check('Password', 'much-too-long-password', "Parameter 'Password' must contain at most 12 characters");
  check('Count', 'three', "Parameter 'Count' must be a number.");
  check('Count', '0x2', "Parameter 'Count' must be a number.");
  check('Count', '0', "Parameter 'Count' must be a number not less than 1");
  check('Count', '6', "Parameter 'Count' must be a number not greater than 5");
  check('Ports', '80,http', "Parameter 'Ports' must be a number.");
  check('Zones', 'a,d', "Parameter 'Zones' must be one of AllowedValues");
  check('Key', 'ключ', 'Parameter Key failed to satisfy constraint: can contain only ASCII characters.');

  const ok = resolveParameters(template, [
    { key: 'Count', value: '2.5' },
    { key: 'Zones', value: 'c' },
  ]);
  assert.equal(ok.values.get('Count'), '2.5');
  assert.deepEqual(ok.values.get('Zones'), ['c']);
});

test('an invalid default fails like an invalid given value', () => {
  const template = withParameters(`  Env: {Type: String, AllowedValues: [dev, prod], Default: qa}\n`);
  assertTemplateError(() => resolveParameters(template, []), "Parameter 'Env' must be one of AllowedValues");
});
