import { isKeylessError, type KeylessError } from '../errors';
import { awsErrorCode, awsErrorMessage } from '../aws/aws-errors';
import {
  CloudFormationRequestError,
  InsufficientCapabilitiesError,
  ParameterValueError,
  TemplateSourceError,
  TemplateValidationError,
  TerminationProtectionError,
} from './errors';
import type { TemplateDocument } from './template';

/** IAM resource types that need CAPABILITY_IAM (or CAPABILITY_NAMED_IAM when they carry a name). */
const iamTypes = new Set([
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::User',
  'AWS::IAM::Group',
  'AWS::IAM::InstanceProfile',
  'AWS::IAM::AccessKey',
  'AWS::IAM::UserToGroupAddition',
]);

/** The template's IAM resources as "Logical (Type)", to say why a capability is needed. */
export function iamResources(document: TemplateDocument | undefined): string[] {
  return Object.entries(document?.Resources ?? {})
    .filter(([, resource]) => typeof resource?.Type === 'string' && iamTypes.has(resource.Type))
    .map(([logicalId, resource]) => `${logicalId} (${String(resource.Type)})`);
}

export function capabilitiesError(
  required: string[],
  stackName: string,
  document: TemplateDocument | undefined,
  reason?: string,
): InsufficientCapabilitiesError {
  const resources = iamResources(document);
  const why = resources.length
    ? `it creates IAM resources: ${resources.slice(0, 5).join(', ')}${resources.length > 5 ? ', …' : ''}`
    : (reason ?? 'the template requires it');
  const list = required.join(' ');
  return new InsufficientCapabilitiesError(
    required,
    `Stack ${stackName} needs ${list} acknowledged: ${why}.`,
    `Add --capabilities ${list} (task inputs capabilityIAM/capabilityNamedIAM/capabilityAutoExpand) after reviewing what the template grants.`,
  );
}

/** Turns an SDK error from a CloudFormation call into a typed error for a person (KeylessErrors pass through). */
export function explainCloudFormationError(
  error: unknown,
  operation: string,
  stackName: string,
  document?: TemplateDocument,
): KeylessError {
  if (isKeylessError(error)) return error;
  const code = awsErrorCode(error);
  const message = awsErrorMessage(error);
  if (code === 'InsufficientCapabilitiesException' || code === 'InsufficientCapabilities') {
    const required = /\[([^\]]*)\]/
      .exec(message)?.[1]
      ?.split(/[,\s]+/)
      .filter(Boolean) ?? ['CAPABILITY_IAM'];
    return capabilitiesError(required, stackName, document);
  }
  if (/TerminationProtection is enabled/i.test(message)) {
    return new TerminationProtectionError(
      `Stack ${stackName} cannot be deleted: termination protection is enabled.`,
      `If it really should go, turn protection off first: aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name ${stackName}`,
    );
  }
  if (
    code === 'ValidationError' &&
    /^Template (format )?error|Unresolved resource dependencies|Invalid template/i.test(message)
  ) {
    return new TemplateValidationError(
      `CloudFormation rejected the template for stack ${stackName}: ${message}`,
      'Fix the template (`aws cloudformation validate-template` shows the same check).',
    );
  }
  if (code === 'ValidationError' && /Circular dependency between resources/i.test(message)) {
    return new TemplateValidationError(
      `CloudFormation rejected the template for stack ${stackName}: ${message}`,
      'Break the cycle: one of those resources must stop referring to the other (Ref, Fn::GetAtt, Fn::Sub or DependsOn).',
    );
  }
  if (code === 'ValidationError' && /TemplateURL must be a supported URL/i.test(message)) {
    return new TemplateSourceError(
      `CloudFormation does not read templates from that URL (stack ${stackName}): ${message}`,
      'Give the https URL of an S3 object (https://<bucket>.s3.<region>.amazonaws.com/<key>), or the template as a file.',
    );
  }
  if (code === 'ValidationError' && /TemplateURL must reference a valid S3 object/i.test(message)) {
    return new TemplateSourceError(
      `CloudFormation cannot read the template for stack ${stackName} from S3: ${message}`,
      'Check the bucket, key and region of the template (keys are case-sensitive) and that the deploy role may s3:GetObject it.',
    );
  }
  if (code === 'ValidationError' && /^Parameters?\b/.test(message)) {
    return new ParameterValueError(
      `Stack ${stackName}: CloudFormation refused a parameter value: ${message}`,
      "Give the parameter a value its declaration allows (AllowedValues, AllowedPattern, length or range in the template's Parameters section).",
    );
  }
  if (
    code === 'AccessDenied' ||
    code === 'AccessDeniedException' ||
    /not authorized to perform/i.test(message)
  ) {
    return new CloudFormationRequestError(
      `The deploy role may not call cloudformation:${operation} on stack ${stackName}: ${message}`,
      `Allow cloudformation:${operation} (and iam:PassRole for a CloudFormation service role) in the role's policy.`,
    );
  }
  return new CloudFormationRequestError(
    `CloudFormation ${operation} failed for stack ${stackName}: ${message || code || 'no message'}`,
    code === 'ValidationError'
      ? 'Correct the input CloudFormation names in the message above, then re-run.'
      : 'Re-run; if it persists, check the stack in the CloudFormation console.',
    { cause: error },
  );
}
