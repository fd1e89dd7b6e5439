import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MissingParameterError, ParameterFormatError, UnknownParameterError } from './errors';
import { mergeParameters, parseParameterOverrides, parseParameters, resolveParameters } from './parameters';

const values = (map: ReturnType<typeof parseParameters>) => Object.fromEntries(map);

describe('parseParameters', () => {
  it('reads the CloudFormation array in JSON, stringifying numbers and booleans (toolkit #410)', () => {
    const map = parseParameters(
      '[{"ParameterKey":"Port","ParameterValue":8080},{"ParameterKey":"Public","ParameterValue":true},{"ParameterKey":"Name","ParameterValue":"web"},{"ParameterKey":"Ami","UsePreviousValue":true}]',
      'params.json',
    );
    assert.deepEqual(values(map), {
      Port: { value: '8080' },
      Public: { value: 'true' },
      Name: { value: 'web' },
      Ami: { usePrevious: true },
    });
  });

  it('reads the array in YAML with bare numbers', () => {
    const map = parseParameters(
      '- ParameterKey: Port\n  ParameterValue: 8080\n- ParameterKey: Ratio\n  ParameterValue: 0.5\n',
      'p.yml',
    );
    assert.deepEqual(values(map), { Port: { value: '8080' }, Ratio: { value: '0.5' } });
  });

  it('reads the CodePipeline template configuration object (toolkit #554), ignoring its Tags', () => {
    const map = parseParameters(
      '{"Parameters": {"InstanceType": "t3.small", "Count": 2}, "Tags": {"team": "web"}}',
      'cp.json',
    );
    assert.deepEqual(values(map), { InstanceType: { value: 't3.small' }, Count: { value: '2' } });
  });

  it('reads a flat map, joining lists for CommaDelimitedList parameters', () => {
    const map = parseParameters('Subnets: [subnet-1, subnet-2]\nDesired: 3\n', 'flat.yml');
    assert.deepEqual(values(map), { Subnets: { value: 'subnet-1,subnet-2' }, Desired: { value: '3' } });
  });

  it('treats an empty file as no parameters', () => {
    assert.equal(parseParameters('  \n', 'empty.json').size, 0);
  });

  it('names the file and the item when the format is wrong', () => {
    assert.throws(
      () => parseParameters('[{"ParameterValue": "x"}]', 'bad.json'),
      (error: unknown) =>
        error instanceof ParameterFormatError &&
        /Item 1 of the parameters in bad\.json has no ParameterKey/.test(error.message),
    );
    assert.throws(
      () => parseParameters('{"A": {"nested": 1}}', 'bad.json'),
      /Parameter A in bad\.json has a map/,
    );
    assert.throws(
      () => parseParameters('[{"ParameterKey":"A","ParameterValue":"1","UsePreviousValue":true}]', 'x'),
      /both a ParameterValue and UsePreviousValue/,
    );
    assert.throws(() => parseParameters('{"a": [1,', 'broken.json'), /not valid JSON or YAML/);
  });

  it('overrides are Key=Value, values may contain "=", and later sources win', () => {
    const file = parseParameters('{"A": "1", "B": "2"}', 'f.json');
    const overrides = parseParameterOverrides(['B=x=y', 'C=']);
    assert.deepEqual(values(mergeParameters(file, overrides)), {
      A: { value: '1' },
      B: { value: 'x=y' },
      C: { value: '' },
    });
    assert.throws(
      () => parseParameterOverrides(['novalue']),
      /"novalue" in --parameter-overrides is not Key=Value/,
    );
  });
});

describe('resolveParameters', () => {
  const declared = [
    { ParameterKey: 'Label' },
    { ParameterKey: 'Env', DefaultValue: 'dev' },
    { ParameterKey: 'KeyName' },
  ];

  it('rejects unknown names, listing the valid ones', () => {
    assert.throws(
      () => resolveParameters({ given: parseParameterOverrides(['Lable=x']), declared, stackName: 'web' }),
      (error: unknown) =>
        error instanceof UnknownParameterError &&
        error.message ===
          'The template does not declare parameter Lable; valid parameters: Label, Env, KeyName.' &&
        error.exitCode === 2,
    );
  });

  it('on create, names every required parameter without a value', () => {
    assert.throws(
      () => resolveParameters({ given: parseParameterOverrides(['Env=prod']), declared, stackName: 'web' }),
      (error: unknown) =>
        error instanceof MissingParameterError &&
        /^Parameters Label, KeyName have no value/.test(error.message) &&
        /Label=… KeyName=…/.test(error.fix ?? ''),
    );
  });

  it('on update, keeps previous values for parameters not given', () => {
    const result = resolveParameters({
      given: parseParameterOverrides(['Label=new']),
      declared,
      previous: ['Label', 'Env', 'KeyName'],
      stackName: 'web',
    });
    assert.deepEqual(result, [
      { ParameterKey: 'Label', ParameterValue: 'new' },
      { ParameterKey: 'Env', UsePreviousValue: true },
      { ParameterKey: 'KeyName', UsePreviousValue: true },
    ]);
  });

  it('on update, a new required parameter with no previous value is missing', () => {
    assert.throws(
      () => resolveParameters({ given: new Map(), declared, previous: ['Label'], stackName: 'web' }),
      /Parameter KeyName has no value: stack web has no previous value and the template gives no default/,
    );
  });

  it('on create, UsePreviousValue entries are dropped (a default applies) or reported missing', () => {
    const given = parseParameters(
      '[{"ParameterKey":"Env","UsePreviousValue":true},{"ParameterKey":"Label","ParameterValue":"a"},{"ParameterKey":"KeyName","ParameterValue":"k"}]',
      'p',
    );
    assert.deepEqual(resolveParameters({ given, declared, stackName: 'web' }), [
      { ParameterKey: 'Label', ParameterValue: 'a' },
      { ParameterKey: 'KeyName', ParameterValue: 'k' },
    ]);
  });
});
