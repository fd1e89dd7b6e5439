import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTemplate, resolveParameters, structuralDiff } from './index';
import type { StructuralDiffOptions } from './index';

const options: StructuralDiffOptions = {
  replacementProperties: (type) => (type === 'AWS::S3::Bucket' ? ['BucketName'] : []),
  stack: {
    accountId: '123456789012',
    region: 'us-east-1',
    stackName: 'stack',
    stackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/stack/1',
  },
};

const base = `Parameters:
  Env: {Type: String, Default: dev}
  Unused: {Type: String, Default: x}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub '\${AWS::StackName}-data'
      Tags: [{Key: env, Value: !Ref Env}]
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      Name: !Sub '\${Bucket}-queue'
  Replica:
    Type: AWS::S3::Bucket
    Condition: IsProd
Outputs:
  BucketName: {Value: !Ref Bucket}
`;

/** Parameter values as the service has them: resolved against the template, defaults included. */
const values = (given: Record<string, string> = {}) =>
  resolveParameters(
    parseTemplate(base),
    Object.entries(given).map(([key, value]) => ({ key, value })),
  ).values;
const noParameters = values();

test('identical templates and parameters: no changes', () => {
  const diff = structuralDiff(
    parseTemplate(base),
    values({ Env: 'dev' }),
    parseTemplate(
      base.replace('Properties:\n      BucketName', 'Properties:   # reformatted\n      BucketName'),
    ),
    values({ Env: 'dev' }),
    options,
  );
  assert.deepEqual(diff, {
    resourceChanges: [],
    outputsChanged: false,
    parametersChanged: false,
    hasChanges: false,
  });
});

test('a parameter that reaches a property modifies the resource; an unused one changes nothing', () => {
  const template = parseTemplate(base);
  const used = structuralDiff(template, values({ Env: 'dev' }), template, values({ Env: 'test' }), options);
  assert.deepEqual(used.resourceChanges, [
    {
      action: 'Modify',
      logicalId: 'Bucket',
      resourceType: 'AWS::S3::Bucket',
      replacement: 'False',
      scope: ['Properties', 'Tags'],
      changedProperties: ['Tags'],
    },
  ]);
  const unused = structuralDiff(
    template,
    values({ Unused: 'x' }),
    template,
    values({ Unused: 'y' }),
    options,
  );
  assert.deepEqual(unused.resourceChanges, []);
  assert.equal(unused.parametersChanged, true);
  assert.equal(unused.hasChanges, false);
});

test('a condition turning true adds its resources; a replacement property or a type change replaces', () => {
  const template = parseTemplate(base);
  const toProd = structuralDiff(template, values({ Env: 'dev' }), template, values({ Env: 'prod' }), options);
  assert.deepEqual(
    toProd.resourceChanges.map((change) => [change.action, change.logicalId]),
    [
      ['Modify', 'Bucket'],
      ['Add', 'Replica'],
    ],
  );

  const renamed = parseTemplate(base.replace('-data', '-archive'));
  const rename = structuralDiff(template, noParameters, renamed, noParameters, options);
  assert.deepEqual(rename.resourceChanges, [
    {
      action: 'Modify',
      logicalId: 'Bucket',
      resourceType: 'AWS::S3::Bucket',
      replacement: 'True',
      scope: ['Properties'],
      changedProperties: ['BucketName'],
    },
  ]);

  const retyped = parseTemplate(base.replace('Type: AWS::SQS::Queue', 'Type: AWS::SNS::Topic'));
  const retype = structuralDiff(template, noParameters, retyped, noParameters, options);
  assert.deepEqual(retype.resourceChanges, [
    {
      action: 'Modify',
      logicalId: 'Queue',
      resourceType: 'AWS::SNS::Topic',
      replacement: 'True',
      scope: [],
      changedProperties: [],
    },
  ]);
});

test('resource references compare as written; removals come last; other attributes count', () => {
  const template = parseTemplate(base);
  const changed = parseTemplate(
    base
      .replace("Name: !Sub '${Bucket}-queue'", "Name: !Sub '${Replica}-queue'\n    DeletionPolicy: Retain")
      .replace(
        '  Replica:\n    Type: AWS::S3::Bucket\n    Condition: IsProd\n',
        '  Replica:\n    Type: AWS::S3::Bucket\n  Extra:\n    Type: AWS::SNS::Topic\n    Metadata: {Note: x}\n',
      ),
  );
  const diff = structuralDiff(template, noParameters, changed, noParameters, options);
  assert.deepEqual(
    diff.resourceChanges.map((change) => [change.action, change.logicalId, change.scope]),
    [
      ['Modify', 'Queue', ['Properties', 'DeletionPolicy']],
      ['Add', 'Replica', []],
      ['Add', 'Extra', []],
    ],
  );

  const removed = structuralDiff(changed, noParameters, template, noParameters, options);
  assert.deepEqual(
    removed.resourceChanges.map((change) => [change.action, change.logicalId]),
    [
      ['Modify', 'Queue'],
      ['Remove', 'Replica'],
      ['Remove', 'Extra'],
    ],
  );
});

test('an outputs-only change is a change', () => {
  const template = parseTemplate(base);
  const withOutput = parseTemplate(
    `${base}  QueueUrl: {Value: !Ref Queue, Export: {Name: !Sub '\${AWS::StackName}-queue'}}\n`,
  );
  const diff = structuralDiff(template, noParameters, withOutput, noParameters, options);
  assert.deepEqual(diff.resourceChanges, []);
  assert.equal(diff.outputsChanged, true);
  assert.equal(diff.hasChanges, true);
});
