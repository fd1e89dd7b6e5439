import { test } from 'node:test';
import assert from 'node:assert/strict';
import { creationWaves, deletionWaves, dependencyGraph, parseTemplate } from './index';
import { assertTemplateError } from './test-support';

const edges = (graph: Map<string, Set<string>>): Record<string, string[]> =>
  Object.fromEntries([...graph].map(([node, dependencies]) => [node, [...dependencies].sort()]));

test('edges from Ref, GetAtt (both forms), Sub variables, DependsOn and Metadata; parameters are not nodes', () => {
  const template = parseTemplate(`Parameters:
  Env: {Type: String}
Resources:
  Queue: {Type: AWS::SQS::Queue}
  Topic: {Type: AWS::SNS::Topic}
  Role: {Type: AWS::IAM::Role}
  Bucket:
    Type: AWS::S3::Bucket
    DependsOn: Topic
    Metadata:
      Uses: !Ref Role
    Properties:
      A: !Ref Env
      B: !Sub '\${AWS::StackName}-\${Queue.Arn}-\${!Literal}'
      C: !Sub ['\${Local}', {Local: x}]
  Policy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Queue]
      Arn: !GetAtt Bucket.Arn
      Other: !GetAtt [Topic, TopicName]
`);
  const graph = dependencyGraph(template, new Map());
  assert.deepEqual(edges(graph), {
    Queue: [],
    Topic: [],
    Role: [],
    Bucket: ['Queue', 'Role', 'Topic'],
    Policy: ['Bucket', 'Queue', 'Topic'],
  });
  assert.deepEqual(creationWaves(graph), [['Queue', 'Topic', 'Role'], ['Bucket'], ['Policy']]);
  assert.deepEqual(deletionWaves(graph), [['Policy'], ['Bucket'], ['Queue', 'Topic', 'Role']]);
});

test('conditions exclude resources, and only the Fn::If branch taken counts', () => {
  const template = parseTemplate(`Parameters:
  Env: {Type: String}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Replica:
    Type: AWS::S3::Bucket
    Condition: IsProd
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      Replication: !If [IsProd, !GetAtt Replica.Arn, !Ref AWS::NoValue]
Outputs:
  ReplicaName:
    Condition: IsProd
    Value: !Ref Replica
  Either:
    Value: !If [IsProd, !Ref Replica, none]
`);
  assert.deepEqual(edges(dependencyGraph(template, new Map([['IsProd', true]]))), {
    Replica: [],
    Bucket: ['Replica'],
  });
  assert.deepEqual(edges(dependencyGraph(template, new Map([['IsProd', false]]))), { Bucket: [] });
});

test('referencing an excluded resource is an unresolved dependency', () => {
  const template = parseTemplate(`Conditions:
  Never: !Equals [a, b]
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Condition: Never
  Function:
    Type: AWS::Lambda::Function
    Properties:
      Topic: !Ref Topic
`);
  assertTemplateError(
    () => dependencyGraph(template, new Map([['Never', false]])),
    'Template format error: Unresolved resource dependencies [Topic] in the Resources block of the template',
  );
  const dependsOn = parseTemplate(`Conditions:
  Never: !Equals [a, b]
Resources:
  Topic: {Type: AWS::SNS::Topic, Condition: Never}
  Queue: {Type: AWS::SQS::Queue, DependsOn: [Topic]}
`);
  assertTemplateError(
    () => dependencyGraph(dependsOn, new Map([['Never', false]])),
    'Template format error: Unresolved resource dependencies [Topic] in the Resources block of the template',
  );
  const output = parseTemplate(`Conditions:
  Never: !Equals [a, b]
Resources:
  Topic: {Type: AWS::SNS::Topic, Condition: Never}
  Queue: {Type: AWS::SQS::Queue}
Outputs:
  TopicArn: {Value: !Ref Topic}
`);
  assertTemplateError(
    () => dependencyGraph(output, new Map([['Never', false]])),
    'Unresolved resource dependencies [Topic] in the Outputs block of the template',
  );
});

test('cycles name every resource on them', () => {
  const template = parseTemplate(`Resources:
  Standalone: {Type: AWS::SQS::Queue}
  A:
    Type: AWS::EC2::SecurityGroup
    Properties: {Peer: !GetAtt B.GroupId}
  B:
    Type: AWS::EC2::SecurityGroup
    Properties: {Peer: !Sub '\${C}'}
  C:
    Type: AWS::EC2::SecurityGroup
    DependsOn: A
  Self:
    Type: AWS::SQS::Queue
    Properties: {Name: !Ref Self}
  Downstream:
    Type: AWS::SQS::Queue
    DependsOn: A
`);
  assertTemplateError(
    () => dependencyGraph(template, new Map()),
    'Circular dependency between resources: [A, B, C, Self]',
  );
});

test('waves layer a diamond, and a cyclic graph given directly is refused', () => {
  const diamond = new Map([
    ['Top', new Set<string>()],
    ['Left', new Set(['Top'])],
    ['Right', new Set(['Top'])],
    ['Bottom', new Set(['Left', 'Right'])],
  ]);
  assert.deepEqual(creationWaves(diamond), [['Top'], ['Left', 'Right'], ['Bottom']]);
  assert.deepEqual(deletionWaves(diamond), [['Bottom'], ['Left', 'Right'], ['Top']]);
  assertTemplateError(
    () =>
      creationWaves(
        new Map([
          ['A', new Set(['B'])],
          ['B', new Set(['A'])],
        ]),
      ),
    'Circular dependency between resources: [A, B]',
  );
});
