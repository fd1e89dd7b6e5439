import { test } from 'node:test';
import assert from 'node:assert/strict';
import { missingCapabilities, parseTemplate, summarize } from './index';
import { assertTemplateError } from './test-support';

const known = (type: string): boolean => type.startsWith('AWS::IAM::') || type === 'AWS::S3::Bucket';

test('parameters, description and CAPABILITY_IAM for unnamed IAM resources', () => {
  const template = parseTemplate(`Description: Sample
Parameters:
  Env: {Type: String, Default: dev, Description: Stage}
  Secret: {Type: String, NoEcho: true}
Resources:
  Role: {Type: AWS::IAM::Role}
  Profile: {Type: AWS::IAM::InstanceProfile, Properties: {Roles: [!Ref Role]}}
  Policy: {Type: AWS::IAM::Policy, Properties: {PolicyName: inline}}
  OtherRole: {Type: AWS::IAM::Role}
  Bucket: {Type: AWS::S3::Bucket}
`);
  assert.deepEqual(summarize(template, known), {
    description: 'Sample',
    parameters: [
      { key: 'Env', defaultValue: 'dev', noEcho: false, description: 'Stage' },
      { key: 'Secret', noEcho: true },
    ],
    capabilities: ['CAPABILITY_IAM'],
    capabilitiesReason:
      'The following resource(s) require capabilities: [AWS::IAM::Role, AWS::IAM::InstanceProfile, AWS::IAM::Policy]',
    declaredTransforms: [],
  });
});

test('a named IAM resource needs CAPABILITY_NAMED_IAM; a transform needs CAPABILITY_AUTO_EXPAND', () => {
  const template = parseTemplate(`Transform: AWS::Serverless-2016-10-31
Resources:
  Role: {Type: AWS::IAM::Role, Properties: {RoleName: !Sub '\${AWS::StackName}-role'}}
`);
  const summary = summarize(template, known);
  assert.deepEqual(summary.capabilities, ['CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND']);
  assert.deepEqual(summary.declaredTransforms, ['AWS::Serverless-2016-10-31']);
  assert.deepEqual(missingCapabilities(summary, ['CAPABILITY_IAM']), [
    'CAPABILITY_NAMED_IAM',
    'CAPABILITY_AUTO_EXPAND',
  ]);
  assert.deepEqual(missingCapabilities(summary, ['CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND']), []);
  const unnamed = summarize(parseTemplate('Resources:\n  Role: {Type: AWS::IAM::Role}\n'), known);
  assert.deepEqual(missingCapabilities(unnamed, ['CAPABILITY_NAMED_IAM']), []);
  assert.deepEqual(missingCapabilities(unnamed, []), ['CAPABILITY_IAM']);
});

test('no capabilities, no reason', () => {
  const summary = summarize(parseTemplate('Resources:\n  Bucket: {Type: AWS::S3::Bucket}\n'), known);
  assert.deepEqual(summary.capabilities, []);
  assert.equal(summary.capabilitiesReason, undefined);
});

test('unrecognized resource types are listed once, in template order', () => {
  const template = parseTemplate(`Resources:
  A: {Type: AWS::Lambda::Function}
  B: {Type: AWS::S3::Bucket}
  C: {Type: AWS::EC2::VPC}
  D: {Type: AWS::Lambda::Function}
`);
  assertTemplateError(
    () => summarize(template, known),
    'Template format error: Unrecognized resource types: [AWS::Lambda::Function, AWS::EC2::VPC]',
  );
});
