import { KeylessError } from '../errors';

/** Where to look at a stack that may still be changing: the exact CLI command and the console page. */
export function howToWatch(stackName: string, region: string): string {
  return (
    `watch it with \`aws cloudformation describe-stack-events --stack-name ${stackName} --region ${region}\` ` +
    `or https://${region}.console.aws.amazon.com/cloudformation/home?region=${region}#/stacks`
  );
}

/** The template is over a limit: 51,200 bytes inline (needs a bucket) or 1 MB in all. Exit 2. */
export class TemplateTooLargeError extends KeylessError {
  readonly code = 'TemplateTooLarge';
  override readonly exitCode = 2;
}

/** The template file is not valid YAML/JSON, or not a CloudFormation template at all. Exit 2. */
export class TemplateSyntaxError extends KeylessError {
  readonly code = 'TemplateSyntax';
  override readonly exitCode = 2;
}

/** CloudFormation rejected the template (ValidateTemplate or a synchronous ValidationError). */
export class TemplateValidationError extends KeylessError {
  readonly code = 'TemplateValidation';
  override readonly exitCode = 2;
}

/** The template could not be read or uploaded (file missing, bucket missing or denied). */
export class TemplateSourceError extends KeylessError {
  readonly code = 'TemplateSource';
}

/** A parameters file or value is malformed. Exit 2. */
export class ParameterFormatError extends KeylessError {
  readonly code = 'ParameterFormat';
  override readonly exitCode = 2;
}

/** A parameter the template does not declare. Exit 2. */
/** CloudFormation refused a parameter value (AllowedValues, AllowedPattern, lengths, numbers). */
export class ParameterValueError extends KeylessError {
  readonly code = 'ParameterValue';
  override readonly exitCode = 2;
}

export class UnknownParameterError extends KeylessError {
  readonly code = 'UnknownParameter';
  override readonly exitCode = 2;
  constructor(
    readonly unknown: string[],
    readonly declared: string[],
    message: string,
    fix: string,
  ) {
    super(message, fix);
  }
}

/** Parameters the template requires that have no value, default or previous value. Exit 2. */
export class MissingParameterError extends KeylessError {
  readonly code = 'MissingParameter';
  override readonly exitCode = 2;
  constructor(
    readonly missing: string[],
    message: string,
    fix: string,
  ) {
    super(message, fix);
  }
}

/** The template creates IAM resources (or uses macros) and the capability was not acknowledged. Exit 2. */
export class InsufficientCapabilitiesError extends KeylessError {
  readonly code = 'InsufficientCapabilities';
  override readonly exitCode = 2;
  constructor(
    readonly required: string[],
    message: string,
    fix: string,
  ) {
    super(message, fix);
  }
}

/** The stack is in ROLLBACK_COMPLETE and recreating it was disabled. */
export class StackInRollbackCompleteError extends KeylessError {
  readonly code = 'StackInRollbackComplete';
}

/** The stack is in a state nothing but a person can resolve (UPDATE_ROLLBACK_FAILED, DELETE_FAILED, …). */
export class StackNotUpdatableError extends KeylessError {
  readonly code = 'StackNotUpdatable';
  constructor(
    readonly stackName: string,
    readonly status: string,
    message: string,
    fix: string,
  ) {
    super(message, fix);
  }
}

/** One failed resource event: the root cause of a failed stack operation. */
export interface FailedResource {
  logicalId: string;
  type: string;
  status: string;
  reason: string;
}

/** A stack operation ended in a failure state. Names the first failed resources and why they failed. */
export class StackOperationFailedError extends KeylessError {
  readonly code = 'StackOperationFailed';
  constructor(
    readonly stackName: string,
    readonly status: string,
    readonly rootCauses: FailedResource[],
    message: string,
    fix: string,
  ) {
    super(message, fix);
  }
}

/** We stopped waiting; the stack operation may still be running. */
export class StackOperationTimeoutError extends KeylessError {
  readonly code = 'StackOperationTimeout';
  constructor(
    readonly stackName: string,
    readonly lastStatus: string | undefined,
    message: string,
    fix: string,
  ) {
    super(message, fix);
  }
}

/** The change set could not be created (other than being empty). */
export class ChangeSetFailedError extends KeylessError {
  readonly code = 'ChangeSetFailed';
}

/** The change set to execute does not exist (wrong name, wrong stack or region, or already deleted). */
export class ChangeSetNotFoundError extends KeylessError {
  readonly code = 'ChangeSetNotFound';
}

/** The change set exists but cannot be executed (already executed, obsolete, or being executed). */
export class ChangeSetNotExecutableError extends KeylessError {
  readonly code = 'ChangeSetNotExecutable';
}

/** The change set was empty and the caller asked for that to be a failure. */
export class EmptyChangeSetError extends KeylessError {
  readonly code = 'EmptyChangeSet';
}

/** DeleteStack refused: termination protection is on. */
export class TerminationProtectionError extends KeylessError {
  readonly code = 'TerminationProtection';
}

/** CloudFormation refused a request for a reason the user must fix (access denied, limits, validation). */
export class CloudFormationRequestError extends KeylessError {
  readonly code = 'CloudFormationRequest';
}
