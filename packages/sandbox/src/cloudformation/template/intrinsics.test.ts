import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTemplate, resolvePartially, resolveValue } from './index';
import { assertTemplateError, fakeContext } from './test-support';

const template = parseTemplate(`Parameters:
  Env: {Type: String}
  Subnets: {Type: CommaDelimitedList}
Mappings:
  RegionMap:
    us-east-1: {Ami: ami-east, Zones: [a, b], Count: 2}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Bucket: {Type: AWS::S3::Bucket}
  LoadBalancer: {Type: AWS::ElasticLoadBalancingV2::LoadBalancer}
  Stack: {Type: AWS::CloudFormation::Stack}
`);

const context = fakeContext({
  template,
  parameters: { Env: 'prod', Subnets: ['subnet-1', 'subnet-2'] },
  conditions: { IsProd: true, IsDev: false },
  resources: {
    Bucket: { ref: 'my-bucket', attributes: { Arn: 'arn:aws:s3:::my-bucket' } },
    LoadBalancer: {
      ref: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/lb/1',
      attributes: { DNSName: 'lb-1.us-east-1.elb.amazonaws.com', 'Canonical.Zone': 'Z35' },
    },
    Stack: { ref: 'arn:stack', attributes: { 'Outputs.Name': 'nested' } },
  },
  exports: { 'shared-vpc': 'vpc-123' },
});

const resolve = (raw: unknown): unknown => resolveValue(raw, context);

test('Ref: parameters, resources and every pseudo parameter', () => {
  assert.equal(resolve({ Ref: 'Env' }), 'prod');
  assert.deepEqual(resolve({ Ref: 'Subnets' }), ['subnet-1', 'subnet-2']);
  assert.equal(resolve({ Ref: 'Bucket' }), 'my-bucket');
  assert.equal(resolve({ Ref: 'AWS::AccountId' }), '123456789012');
  assert.equal(resolve({ Ref: 'AWS::Region' }), 'us-east-1');
  assert.equal(resolve({ Ref: 'AWS::StackName' }), 'aws-sample-app');
  assert.match(
    resolve({ Ref: 'AWS::StackId' }) as string,
    /^arn:aws:cloudformation:us-east-1:123456789012:stack\//,
  );
  assert.equal(resolve({ Ref: 'AWS::Partition' }), 'aws');
  assert.equal(resolve({ Ref: 'AWS::URLSuffix' }), 'amazonaws.com');
  assert.deepEqual(resolve({ Ref: 'AWS::NotificationARNs' }), []);
  assert.equal(resolve({ Ref: 'AWS::NoValue' }), undefined);
  const china = fakeContext({ region: 'cn-north-1' });
  assert.equal(resolveValue({ Ref: 'AWS::Partition' }, china), 'aws-cn');
  assert.equal(resolveValue({ Ref: 'AWS::URLSuffix' }, china), 'amazonaws.com.cn');
  assert.equal(
    resolveValue({ Ref: 'AWS::Partition' }, fakeContext({ region: 'us-gov-west-1' })),
    'aws-us-gov',
  );
  assertTemplateError(
    () => resolve({ Ref: 'NotCreated' }),
    'Template format error: Unresolved resource dependencies [NotCreated] in the Resources block of the template',
  );
  assertTemplateError(
    () => resolve({ Ref: ['Env'] }),
    'Template format error: Every Ref object must have a single String value.',
  );
});

test('Fn::GetAtt: list and dotted forms, dotted attribute names, Ref as attribute name', () => {
  assert.equal(resolve({ 'Fn::GetAtt': ['Bucket', 'Arn'] }), 'arn:aws:s3:::my-bucket');
  assert.equal(resolve({ 'Fn::GetAtt': 'LoadBalancer.DNSName' }), 'lb-1.us-east-1.elb.amazonaws.com');
  assert.equal(resolve({ 'Fn::GetAtt': ['LoadBalancer', 'Canonical.Zone'] }), 'Z35');
  assert.equal(resolve({ 'Fn::GetAtt': 'Stack.Outputs.Name' }), 'nested');
  const withAttributeParameter = fakeContext({
    parameters: { Attribute: 'Arn' },
    resources: { Bucket: { ref: 'b', attributes: { Arn: 'arn' } } },
  });
  assert.equal(
    resolveValue({ 'Fn::GetAtt': ['Bucket', { Ref: 'Attribute' }] }, withAttributeParameter),
    'arn',
  );
  assertTemplateError(
    () => resolve({ 'Fn::GetAtt': ['Bucket', 'WebsiteURL'] }),
    'Template error: resource Bucket does not support attribute type WebsiteURL in Fn::GetAtt',
  );
  assertTemplateError(
    () => resolve({ 'Fn::GetAtt': ['Bucket'] }),
    'Template error: every Fn::GetAtt object requires two non-empty parameters, the resource name and the resource attribute',
  );
  assertTemplateError(
    () => resolve({ 'Fn::GetAtt': 'Bucket' }),
    'Template error: every Fn::GetAtt object requires two non-empty parameters, the resource name and the resource attribute',
  );
});

test('Fn::Sub: parameters, resources, attributes, pseudo parameters, escapes and the variable map', () => {
  assert.equal(
    resolve({
      'Fn::Sub': 'http://${LoadBalancer.DNSName}/${Env}/${Bucket}/${AWS::Region}/${!Literal}/$x/${ Env }',
    }),
    'http://lb-1.us-east-1.elb.amazonaws.com/prod/my-bucket/us-east-1/${Literal}/$x/prod',
  );
  assert.equal(
    resolve({
      'Fn::Sub': [
        '${Greeting}, ${Env}: ${Arn}',
        { Greeting: 'hi', Arn: { 'Fn::GetAtt': ['Bucket', 'Arn'] } },
      ],
    }),
    'hi, prod: arn:aws:s3:::my-bucket',
  );
  assert.equal(resolve({ 'Fn::Sub': ['${Count}', { Count: 3 }] }), '3');
  assert.equal(resolve({ 'Fn::Sub': 'no variables ${unclosed' }), 'no variables ${unclosed');
  assertTemplateError(
    () => resolve({ 'Fn::Sub': '${Subnets}' }),
    'Template error: variable Subnets in Fn::Sub expression does not resolve to a string',
  );
  assertTemplateError(
    () => resolve({ 'Fn::Sub': ['a', 'b'] }),
    "Template error: One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string",
  );
});

test('Fn::Join, Fn::Split and Fn::Select, alone and nested', () => {
  assert.equal(resolve({ 'Fn::Join': [',', { Ref: 'Subnets' }] }), 'subnet-1,subnet-2');
  assert.equal(resolve({ 'Fn::Join': ['', ['a', 1, true]] }), 'a1true');
  assert.equal(resolve({ 'Fn::Join': ['-', ['a', { Ref: 'AWS::NoValue' }, 'b']] }), 'a-b');
  assert.deepEqual(resolve({ 'Fn::Split': ['|', 'a|b||c'] }), ['a', 'b', '', 'c']);
  assert.equal(resolve({ 'Fn::Select': ['1', { Ref: 'Subnets' }] }), 'subnet-2');
  assert.equal(
    resolve({ 'Fn::Select': [0, { 'Fn::Split': [',', { 'Fn::Join': [',', ['x', 'y']] }] }] }),
    'x',
  );
  assert.equal(resolve({ 'Fn::Select': [2, [1, 2, 3]] }), 3);
  assertTemplateError(
    () => resolve({ 'Fn::Select': [2, { Ref: 'Subnets' }] }),
    'Template error: Fn::Select cannot select nonexistent value at index 2',
  );
  assertTemplateError(
    () => resolve({ 'Fn::Join': [',', 'not a list'] }),
    'Template error: every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined.',
  );
  assertTemplateError(
    () => resolve({ 'Fn::Split': [',', ['a']] }),
    'Template error: every Fn::Split object requires two parameters, (1) a string delimiter and (2) a string to be split or a function that returns a string to be split.',
  );
});

test('Fn::If picks a branch, and AWS::NoValue removes the property or the list element', () => {
  assert.deepEqual(
    resolve({
      Keep: { 'Fn::If': ['IsProd', 'yes', 'no'] },
      Drop: { 'Fn::If': ['IsDev', 'yes', { Ref: 'AWS::NoValue' }] },
      List: ['a', { 'Fn::If': ['IsDev', 'b', { Ref: 'AWS::NoValue' }] }, 'c'],
      Nested: { 'Fn::If': ['IsProd', { 'Fn::Join': ['-', [{ 'Fn::Sub': '${Env}' }, 'x']] }, 'no'] },
    }),
    { Keep: 'yes', List: ['a', 'c'], Nested: 'prod-x' },
  );
  // The branch not taken is never evaluated, so it may name things that do not exist.
  assert.equal(resolve({ 'Fn::If': ['IsProd', 'ok', { Ref: 'NotCreated' }] }), 'ok');
  assertTemplateError(
    () => resolve({ 'Fn::If': ['Unknown', 'a', 'b'] }),
    'Template error: unresolved condition dependency Unknown in Fn::If',
  );
  assertTemplateError(
    () => resolve({ 'Fn::If': ['IsProd', 'a'] }),
    'Template error: every Fn::If object requires three parameters, the condition, the value if true and the value if false',
  );
});

test('Fn::FindInMap with Ref keys, keeping the mapped value type', () => {
  assert.equal(resolve({ 'Fn::FindInMap': ['RegionMap', { Ref: 'AWS::Region' }, 'Ami'] }), 'ami-east');
  assert.deepEqual(resolve({ 'Fn::FindInMap': ['RegionMap', 'us-east-1', 'Zones'] }), ['a', 'b']);
  assert.equal(resolve({ 'Fn::FindInMap': ['RegionMap', 'us-east-1', 'Count'] }), 2);
  assertTemplateError(
    () => resolve({ 'Fn::FindInMap': ['RegionMap', 'eu-west-1', 'Ami'] }),
    'Template error: Unable to get mapping for RegionMap::eu-west-1::Ami',
  );
  assertTemplateError(
    () => resolve({ 'Fn::FindInMap': ['RegionMap', 'us-east-1'] }),
    'Template error: every Fn::FindInMap object requires three parameters, the map name, map key and the attribute for return value',
  );
});

test('Fn::Base64, Fn::ImportValue, Fn::GetAZs and Fn::Cidr', () => {
  assert.equal(
    resolve({ 'Fn::Base64': { 'Fn::Sub': '#!/bin/bash\necho ${Env}' } }),
    Buffer.from('#!/bin/bash\necho prod').toString('base64'),
  );
  assertTemplateError(
    () => resolve({ 'Fn::ImportValue': { 'Fn::Sub': 'shared-${Env}' } }),
    'No export named shared-prod found.',
  );
  assert.equal(resolve({ 'Fn::ImportValue': 'shared-vpc' }), 'vpc-123');
  assertTemplateError(() => resolve({ 'Fn::ImportValue': 'missing' }), 'No export named missing found.');
  assert.deepEqual(resolve({ 'Fn::GetAZs': '' }), ['us-east-1a', 'us-east-1b', 'us-east-1c']);
  assert.deepEqual(resolve({ 'Fn::GetAZs': { Ref: 'AWS::Region' } }), [
    'us-east-1a',
    'us-east-1b',
    'us-east-1c',
  ]);
  assert.deepEqual(resolve({ 'Fn::GetAZs': 'eu-west-1' }), ['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
  assert.deepEqual(resolve({ 'Fn::Cidr': ['192.168.0.0/24', 6, 5] }), [
    '192.168.0.0/27',
    '192.168.0.32/27',
    '192.168.0.64/27',
    '192.168.0.96/27',
    '192.168.0.128/27',
    '192.168.0.160/27',
  ]);
  assert.deepEqual(resolve({ 'Fn::Cidr': ['10.0.0.0/16', '2', '8'] }), ['10.0.0.0/24', '10.0.1.0/24']);
  assertTemplateError(
    () => resolve({ 'Fn::Cidr': ['10.0.0.0/24', 3, 7] }),
    'Template error: Fn::Cidr cannot fit the requested subnets into 10.0.0.0/24',
  );
});

test('values keep their types; unknown and out-of-place functions are refused', () => {
  assert.deepEqual(resolve({ Port: 80, Enabled: true, Ratio: 0.5, Name: 'x', Nested: [{ A: 1 }] }), {
    Port: 80,
    Enabled: true,
    Ratio: 0.5,
    Name: 'x',
    Nested: [{ A: 1 }],
  });
  // A property called Condition (IAM policies have them) is data outside the Conditions block.
  assert.deepEqual(
    resolve({ Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }),
    {
      Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
    },
  );
  assertTemplateError(
    () => resolve({ 'Fn::Bogus': 1 }),
    'Template format error: Encountered unsupported function: Fn::Bogus',
  );
  assertTemplateError(
    () => resolve({ 'Fn::Equals': ['a', 'a'] }),
    'Template error: Fn::Equals can only be used in the Conditions block of the template',
  );
  assertTemplateError(
    () => resolve({ 'Fn::Transform': { Name: 'AWS::Include' } }),
    'Template error: Fn::Transform (macros) is not supported by the sandbox',
  );
});

test('partial resolution settles parameters and conditions, keeps resource references', () => {
  const scope = {
    accountId: '123456789012',
    region: 'us-east-1',
    stackName: 's',
    stackId: 'id',
    parameters: new Map([['Env', 'prod']]),
    conditions: new Map([['IsProd', true]]),
    mappings: template.mappings,
  };
  assert.deepEqual(
    resolvePartially(
      {
        A: { 'Fn::Sub': '${Env}-${Bucket}-${!Lit}' },
        B: { 'Fn::Sub': '${Env}-${AWS::Region}-${!Lit}' },
        C: { 'Fn::Join': ['-', [{ Ref: 'Env' }, { 'Fn::GetAtt': ['Bucket', 'Arn'] }]] },
        D: { 'Fn::If': ['IsProd', { Ref: 'Bucket' }, 'x'] },
        E: { 'Fn::FindInMap': ['RegionMap', { Ref: 'AWS::Region' }, 'Ami'] },
        F: { 'Fn::ImportValue': 'shared' },
        G: { 'Fn::Sub': ['${X}', { X: { Ref: 'Bucket' } }] },
      },
      scope,
    ),
    {
      A: { 'Fn::Sub': 'prod-${Bucket}-${!Lit}' },
      B: 'prod-us-east-1-${Lit}',
      C: { 'Fn::Join': ['-', ['prod', { 'Fn::GetAtt': ['Bucket', 'Arn'] }]] },
      D: { Ref: 'Bucket' },
      E: 'ami-east',
      F: { 'Fn::ImportValue': 'shared' },
      G: { 'Fn::Sub': ['${X}', { X: { Ref: 'Bucket' } }] },
    },
  );
});
