import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { explainCloudFormationError } from './explain';
import {
  CloudFormationRequestError,
  ParameterValueError,
  TemplateSourceError,
  TemplateValidationError,
} from './errors';

function validationError(message: string): CloudFormationServiceException {
  return new CloudFormationServiceException({
    name: 'ValidationError',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message,
  });
}

test('a refused parameter value is a usage error that says what to change', () => {
  const error = explainCloudFormationError(
    validationError("Parameter 'Env' must be one of AllowedValues"),
    'CreateChangeSet',
    'web',
  );
  assert.ok(error instanceof ParameterValueError);
  assert.equal(error.exitCode, 2);
  assert.match(error.message, /Stack web: .*Parameter 'Env' must be one of AllowedValues/);
  assert.match(error.fix ?? '', /AllowedValues/);
  assert.equal(error.toUserText().split('\n').length, 2);
});

test('template errors and other validation errors keep their own kinds', () => {
  const template = explainCloudFormationError(
    validationError('Template format error: Unrecognized resource types: [AWS::EC2::Nope]'),
    'CreateChangeSet',
    'web',
  );
  assert.ok(template instanceof TemplateValidationError);
  const other = explainCloudFormationError(validationError('Something else entirely'), 'UpdateStack', 'web');
  assert.ok(other instanceof CloudFormationRequestError);
  assert.match(other.fix ?? '', /Correct the input/);
});

test('a circular dependency is a template error that says how to break it', () => {
  const error = explainCloudFormationError(
    validationError('Circular dependency between resources: [A, B]'),
    'CreateChangeSet',
    'web',
  );
  assert.ok(error instanceof TemplateValidationError);
  assert.equal(error.exitCode, 2);
  assert.match(error.message, /stack web: Circular dependency between resources: \[A, B\]/);
  assert.match(error.fix ?? '', /Break the cycle/);
});

test('a template URL CloudFormation cannot read names the template, not "CloudFormation names"', () => {
  const error = explainCloudFormationError(
    validationError('TemplateURL must reference a valid S3 object to which you have access.'),
    'ValidateTemplate',
    'web',
  );
  assert.ok(error instanceof TemplateSourceError);
  assert.match(error.message, /cannot read the template for stack web from S3/);
  assert.match(error.fix ?? '', /bucket, key and region/);
});

test('a template URL that is not an S3 URL says which URLs CloudFormation reads', () => {
  const error = explainCloudFormationError(
    validationError('TemplateURL must be a supported URL.'),
    'ValidateTemplate',
    'web',
  );
  assert.ok(error instanceof TemplateSourceError);
  assert.match(error.message, /does not read templates from that URL \(stack web\)/);
  assert.match(error.fix ?? '', /https:\/\/<bucket>\.s3\.<region>\.amazonaws\.com\/<key>/);
});
