import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTemplate, templateSize, TEMPLATE_BODY_MAX_BYTES } from './index';
import { jsonErrorOffset } from './parse';
import { assertTemplateError } from './test-support';

const bucket = 'Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n';

test('short tags become the long forms, nested and in every shape', () => {
  const template = parseTemplate(`Parameters:
  Env: {Type: String, Default: dev}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  NotProd: !Not [!Condition IsProd]
  Both: !And [!Condition IsProd, !Or [!Condition NotProd, !Equals [a, a]]]
Mappings:
  Sizes: {dev: {Count: 1}}
Resources:
  Role: {Type: AWS::IAM::Role}
  Stack: {Type: AWS::CloudFormation::Stack}
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      Scalar: !Ref Env
      Dotted: !GetAtt Role.Arn
      DeepDot: !GetAtt Stack.Outputs.Name
      ListGetAtt: !GetAtt [Role, RoleId]
      SubScalar: !Sub '\${AWS::StackName}-\${Env}'
      SubList: !Sub
        - 'x-\${A}'
        - A: !GetAtt Role.Arn
      Nested: !If [IsProd, !Join ['-', [!Sub '\${Env}', !Select [0, !GetAZs '']]], !Ref AWS::NoValue]
      Split: !Split [',', 'a,b']
      Map: !FindInMap [Sizes, !Ref Env, Count]
      B64: !Base64 {'Fn::Sub': 'x'}
      Import: !ImportValue shared-vpc
      Cidr: !Cidr ['10.0.0.0/16', 2, 8]
`);
  const properties = template.resources.get('Bucket')?.properties;
  assert.deepEqual(properties, {
    Scalar: { Ref: 'Env' },
    Dotted: { 'Fn::GetAtt': ['Role', 'Arn'] },
    DeepDot: { 'Fn::GetAtt': ['Stack', 'Outputs.Name'] },
    ListGetAtt: { 'Fn::GetAtt': ['Role', 'RoleId'] },
    SubScalar: { 'Fn::Sub': '${AWS::StackName}-${Env}' },
    SubList: { 'Fn::Sub': ['x-${A}', { A: { 'Fn::GetAtt': ['Role', 'Arn'] } }] },
    Nested: {
      'Fn::If': [
        'IsProd',
        { 'Fn::Join': ['-', [{ 'Fn::Sub': '${Env}' }, { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] }]] },
        { Ref: 'AWS::NoValue' },
      ],
    },
    Split: { 'Fn::Split': [',', 'a,b'] },
    Map: { 'Fn::FindInMap': ['Sizes', { Ref: 'Env' }, 'Count'] },
    B64: { 'Fn::Base64': { 'Fn::Sub': 'x' } },
    Import: { 'Fn::ImportValue': 'shared-vpc' },
    Cidr: { 'Fn::Cidr': ['10.0.0.0/16', 2, 8] },
  });
  assert.deepEqual(template.conditions, {
    IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] },
    NotProd: { 'Fn::Not': [{ Condition: 'IsProd' }] },
    Both: {
      'Fn::And': [
        { Condition: 'IsProd' },
        { 'Fn::Or': [{ Condition: 'NotProd' }, { 'Fn::Equals': ['a', 'a'] }] },
      ],
    },
  });
});

test('YAML anchors and aliases expand, even under tags', () => {
  const template = parseTemplate(`Resources:
  A:
    Type: AWS::S3::Bucket
    Properties:
      Tags: &tags [{Key: k, Value: !Sub '\${AWS::Region}'}]
  B:
    Type: AWS::S3::Bucket
    Properties:
      Tags: *tags
`);
  assert.deepEqual(template.resources.get('B')?.properties, {
    Tags: [{ Key: 'k', Value: { 'Fn::Sub': '${AWS::Region}' } }],
  });
});

test('the template keeps its body byte for byte, its format, sections and attributes', () => {
  const body = `\uFEFFAWSTemplateFormatVersion: "2010-09-09"  # comment kept
Description: The sample
Transform: AWS::Serverless-2016-10-31
Parameters:
  Size:
    Type: Number
    Default: 3
    MinValue: '1'
    MaxValue: 10
    NoEcho: 'TRUE'
    AllowedValues: [1, 3, 5]
    Description: How many
    ConstraintDescription: one of 1, 3, 5
Conditions:
  Always: !Equals [a, a]
Resources:
  Queue: {Type: AWS::SQS::Queue}
  Bucket:
    Type: AWS::S3::Bucket
    DependsOn: Queue
    Condition: Always
    DeletionPolicy: Retain
    UpdateReplacePolicy: Snapshot
    Metadata: {Note: x}
Outputs:
  Name:
    Value: !Ref Bucket
    Description: The bucket
    Condition: Always
    Export: {Name: !Sub '\${AWS::StackName}-bucket'}
`;
  const template = parseTemplate(body);
  assert.equal(template.body, body);
  assert.equal(template.format, 'yaml');
  assert.equal(template.description, 'The sample');
  assert.deepEqual(template.transform, ['AWS::Serverless-2016-10-31']);
  assert.deepEqual(template.parameters.get('Size'), {
    name: 'Size',
    type: 'Number',
    noEcho: true,
    default: '3',
    allowedValues: ['1', '3', '5'],
    minValue: 1,
    maxValue: 10,
    description: 'How many',
    constraintDescription: 'one of 1, 3, 5',
  });
  assert.deepEqual(template.resources.get('Bucket'), {
    logicalId: 'Bucket',
    type: 'AWS::S3::Bucket',
    properties: {},
    dependsOn: ['Queue'],
    condition: 'Always',
    deletionPolicy: 'Retain',
    updateReplacePolicy: 'Snapshot',
    metadata: { Note: 'x' },
  });
  assert.deepEqual(template.outputs.get('Name'), {
    logicalId: 'Name',
    value: { Ref: 'Bucket' },
    description: 'The bucket',
    condition: 'Always',
    exportName: { 'Fn::Sub': '${AWS::StackName}-bucket' },
  });
  assert.deepEqual(template.resources.get('Queue')?.dependsOn, []);
});

test('JSON templates parse as JSON, DependsOn lists included', () => {
  const body = JSON.stringify({
    Resources: {
      A: { Type: 'AWS::SQS::Queue' },
      B: { Type: 'AWS::SQS::Queue', DependsOn: ['A'], Properties: { DelaySeconds: 5 } },
    },
  });
  const template = parseTemplate(`  \n${body}`);
  assert.equal(template.format, 'json');
  assert.deepEqual(template.resources.get('B')?.dependsOn, ['A']);
  assert.deepEqual(template.resources.get('B')?.properties, { DelaySeconds: 5 });
});

test('YAML errors carry a 1-based line and column', () => {
  assertTemplateError(
    () => parseTemplate('Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n   Properties: {}\n'),
    // The column is the yaml library's (where the bad indentation starts); SnakeYAML's may differ.
    'Template format error: YAML not well-formed. (line 4, column 1)',
  );
  assertTemplateError(
    () => parseTemplate('Resources:\n  A: {Type: X\n'),
    'Template format error: YAML not well-formed. (line 3, column 1)',
  );
  // Duplicate keys and unknown tags are refused, as AWS's parser does.
  assertTemplateError(
    () => parseTemplate('Resources:\n  A: {Type: X}\n  A: {Type: Y}\n'),
    'Template format error: YAML not well-formed. (line 3, column 3)',
  );
  assertTemplateError(
    () => parseTemplate('Resources:\n  A:\n    Type: !Bogus X\n'),
    'Template format error: YAML not well-formed. (line 3, column 11)',
  );
});

test('JSON errors carry a 1-based line and column', () => {
  assertTemplateError(
    () => parseTemplate('{\n  "Resources": {\n    "A": {"Type": "X"},\n  }\n}'),
    'Template format error: JSON not well-formed. (line 4, column 3)',
  );
  assertTemplateError(
    () => parseTemplate('{"Resources": {"A": {"Type": "X"}}} trailing'),
    'Template format error: JSON not well-formed. (line 1, column 37)',
  );
  assertTemplateError(
    () => parseTemplate('{\n "Resources": {\n'),
    'Template format error: JSON not well-formed. (line 3, column 1)',
  );
  assert.equal(jsonErrorOffset('{"a": tru}'), 9);
  assert.equal(jsonErrorOffset('{"a": "\\x"}'), 8);
  assert.equal(jsonErrorOffset('[1, 2]'), 6);
});

test('structural errors use AWS texts', () => {
  const cases: Array<[string, string]> = [
    ['just a string', 'Template format error: unsupported structure.'],
    [
      `${bucket}Bogus: 1\nOther: 2\n`,
      'Template format error: Invalid template property or properties [Bogus, Other]',
    ],
    [
      `AWSTemplateFormatVersion: "2010-09-10"\n${bucket}`,
      'Template format error: unsupported value for AWSTemplateFormatVersion.',
    ],
    ['Description: only\n', 'Template format error: At least one Resources member must be defined.'],
    ['Resources: {}\n', 'Template format error: At least one Resources member must be defined.'],
    [
      `Resources:\n${Array.from({ length: 501 }, (_, i) => `  W${i}: {Type: AWS::CloudFormation::WaitConditionHandle}\n`).join('')}`,
      'Template format error: Number of resources, 501, is greater than maximum allowed, 500',
    ],
    [
      'Resources:\n  Bucket:\n    Properties: {}\n',
      'Template format error: [/Resources/Bucket] Every Resources object must contain a Type member.',
    ],
    [
      'Resources:\n  my-bucket: {Type: AWS::S3::Bucket}\n',
      'Template format error: Resource name my-bucket is non alphanumeric.',
    ],
    [
      'Resources:\n  B: {Type: AWS::S3::Bucket, Description: x}\n',
      "Invalid template resource property 'Description'",
    ],
    [
      'Resources:\n  B: {Type: AWS::S3::Bucket, DependsOn: {A: 1}}\n',
      'Template format error: DependsOn must be a string or list of strings.',
    ],
    [
      'Resources:\n  B: {Type: AWS::S3::Bucket, DeletionPolicy: Keep}\n',
      'Template format error: Unrecognized DeletionPolicy Keep for resource B',
    ],
    [
      'Resources:\n  B: {Type: AWS::S3::Bucket, Condition: Nope}\n',
      'Template format error: Condition Nope is not defined.',
    ],
    [
      'Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName:\n',
      "[/Resources/B/Properties/BucketName] 'null' values are not allowed in templates",
    ],
    [
      `Parameters:\n  P: {Type: Strin}\n${bucket}`,
      'Template format error: Unrecognized parameter type: Strin',
    ],
    [
      `Parameters:\n  P: {Default: x}\n${bucket}`,
      'Template format error: Every Parameters object must contain a Type member.',
    ],
    [
      `Parameters:\n  P: {Type: String, Bogus: 1}\n${bucket}`,
      'Invalid template parameter property or properties [Bogus]',
    ],
    [
      `Parameters:\n  P: {Type: String, MinLength: many}\n${bucket}`,
      "Template format error: Parameter 'P' MinLength must be a number.",
    ],
    [`Mappings:\n  M: [1]\n${bucket}`, 'Template format error: Every Mappings member M must be a map'],
    [`Mappings:\n  M: {k: 1}\n${bucket}`, 'Template format error: Every Mappings member k must be a map'],
    [
      `Mappings:\n  M: {k: {a: {b: c}}}\n${bucket}`,
      'Template format error: Every Mappings attribute must be a String or a List.',
    ],
    [
      `Mappings:\n  M: {k: {ca-central-1: x}}\n${bucket}`,
      "Template format error: Mappings attribute name 'ca-central-1' must contain only alphanumeric characters.",
    ],
    [
      `${bucket}Outputs:\n  O: {Description: d}\n`,
      'Template format error: Every Outputs member must contain a Value object',
    ],
    [
      `${bucket}Outputs:\n  O: {Value: v, Export: {Value: x}}\n`,
      'Template format error: [/Outputs/O/Export] Every Export member must contain a Name.',
    ],
    [
      `${bucket}Outputs:\n  O: {Value: v, Condition: Nope}\n`,
      'Template format error: Condition Nope is not defined.',
    ],
    [
      `Parameters:\n  Bucket: {Type: String}\n${bucket}`,
      'Template error: all resources and parameters must have unique names. Common name(s):[Bucket]',
    ],
    [
      `Transform: {Name: x}\n${bucket}`,
      'Template format error: Transform must be a string or list of strings.',
    ],
  ];
  for (const [body, message] of cases) assertTemplateError(() => parseTemplate(body), message);
});

test('references are checked before any parameter is known', () => {
  assertTemplateError(
    () =>
      parseTemplate(
        'Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      A: !Ref Nope\n      C: !Sub "${Gone.Arn}-${AWS::Region}-${!Literal}"\n',
      ),
    'Template format error: Unresolved resource dependencies [Nope, Gone] in the Resources block of the template',
  );
  assertTemplateError(
    () => parseTemplate('Resources:\n  B:\n    Type: AWS::S3::Bucket\n    DependsOn: [Ghost]\n'),
    'Template format error: Unresolved resource dependencies [Ghost] in the Resources block of the template',
  );
  assertTemplateError(
    () => parseTemplate(`${bucket}Outputs:\n  O: {Value: !GetAtt Ghost.Arn}\n`),
    'Unresolved resource dependencies [Ghost] in the Outputs block of the template',
  );
  assertTemplateError(
    () => parseTemplate(`Conditions:\n  C: !Equals [!Ref Bucket, x]\n${bucket}`),
    'Template format error: Unresolved dependencies [Bucket]. Cannot reference resources in the Conditions block of the template',
  );
  assertTemplateError(
    () => parseTemplate(`Conditions:\n  C: !Not [!Condition Missing]\n${bucket}`),
    'Template format error: Unresolved condition dependencies [Missing] in the Conditions block of the template',
  );
  assertTemplateError(
    () => parseTemplate(`${bucket}    Properties:\n      A: !If [Missing, a, b]\n`),
    'Template error: unresolved condition dependency Missing in Fn::If',
  );
  // Sub variables given in the map are not references; `${!x}` is a literal.
  parseTemplate(`${bucket}    Properties:\n      A: !Sub ['\${X}-\${!Y}', {X: 1}]\n`);
});

test('templateSize counts UTF-8 bytes', () => {
  assert.equal(templateSize('é'), 2);
  assert.equal(TEMPLATE_BODY_MAX_BYTES, 51_200);
});
