/**
 * Every ValidationError text the engine produces, in one place so each carries its provenance.
 * "Seen" means the exact text was found in a public report of a real AWS response; "wording unverified"
 * means no such report was found and the text follows the nearest verified sibling.
 */

const list = (names: readonly string[]): string => `[${names.join(', ')}]`;

export const messages = {
  // Seen: awslabs/amazon-eks-ami#621, aws-solutions/aws-control-tower-customizations#103.
  yamlNotWellFormed: (line: number, column: number) =>
    `Template format error: YAML not well-formed. (line ${line}, column ${column})`,
  // Seen: an `aws cloudformation validate-template` transcript (ValidationError body) on GitHub.
  jsonNotWellFormed: (line: number, column: number) =>
    `Template format error: JSON not well-formed. (line ${line}, column ${column})`,
  // Seen: keaeriksson/hugo-s3-cloudfront#1 (a body that parses to a plain string).
  unsupportedStructure: () => 'Template format error: unsupported structure.',
  // Seen: mbj/stratosphere#91, aws/aws-cli#2858.
  invalidTopLevelProperties: (names: readonly string[]) =>
    `Template format error: Invalid template property or properties ${list(names)}`,
  // Seen: a user report quoting AWS (cdk/amplify notes); matches Eucalyptus' clone.
  unsupportedFormatVersion: () => 'Template format error: unsupported value for AWSTemplateFormatVersion.',
  // Seen: OpenStack Heat's AWS-compatible API and localstack, both matching AWS.
  noResources: () => 'Template format error: At least one Resources member must be defined.',
  // Seen: many serverless-framework reports of the text with the old limit of 200 (500 since October 2020).
  tooManyResources: (count: number, limit: number) =>
    `Template format error: Number of resources, ${count}, is greater than maximum allowed, ${limit}`,
  // Seen: a validate-template transcript quoted in a Japanese blog post; localstack uses the same text.
  resourceWithoutType: (logicalId: string) =>
    `Template format error: [/Resources/${logicalId}] Every Resources object must contain a Type member.`,
  // localstack's text (its CloudFormation tests snapshot real AWS responses); wording unverified.
  invalidResourceAttribute: (attribute: string) => `Invalid template resource property '${attribute}'`,
  // Seen (resources): a changelog quoting "Template format error: Resource name ... is non alphanumeric".
  // The Parameter/Output/Mapping variants follow it; wording unverified.
  nonAlphanumericName: (kind: 'Resource' | 'Parameter' | 'Output' | 'Mapping' | 'Condition', name: string) =>
    `Template format error: ${kind} name ${name} is non alphanumeric.`,
  // Eucalyptus' AWS clone; wording unverified.
  dependsOnShape: () => 'Template format error: DependsOn must be a string or list of strings.',
  // Eucalyptus' AWS clone; wording unverified.
  unrecognizedDeletionPolicy: (policy: string, logicalId: string) =>
    `Template format error: Unrecognized DeletionPolicy ${policy} for resource ${logicalId}`,
  // Wording unverified (follows the DeletionPolicy text).
  unrecognizedUpdateReplacePolicy: (policy: string, logicalId: string) =>
    `Template format error: Unrecognized UpdateReplacePolicy ${policy} for resource ${logicalId}`,
  // localstack's text (snapshot-tested against AWS).
  nullValue: (path: string) => `[${path}] 'null' values are not allowed in templates`,
  // Wording unverified.
  notAnObject: (path: string) => `Template format error: [${path}] must be a JSON object.`,
  // Seen: cfn-lint#92 quoting the CreateStack ValidationError.
  conditionNotDefined: (name: string) => `Template format error: Condition ${name} is not defined.`,
  // Seen: a CDK source comment quoting AWS ("Template error: unresolved condition dependency X in Fn::If").
  unresolvedConditionInIf: (name: string) =>
    `Template error: unresolved condition dependency ${name} in Fn::If`,
  // Eucalyptus' AWS clone; wording unverified.
  unresolvedConditionsInConditions: (names: readonly string[]) =>
    `Template format error: Unresolved condition dependencies ${list(names)} in the Conditions block of the template`,
  // Wording unverified.
  circularConditions: (names: readonly string[]) =>
    `Template format error: Circular dependency between conditions: ${list(names)}`,
  // Seen: cfn-lint#99 and aws-samples/aws-refarch-moodle#64 quoting AWS.
  resourceInConditions: (names: readonly string[]) =>
    `Template format error: Unresolved dependencies ${list(names)}. Cannot reference resources in the Conditions block of the template`,
  // Wording unverified (AWS's "every Fn::X object requires …" family).
  conditionFunctionArity: (fn: string) =>
    fn === 'Fn::Not'
      ? 'Template error: every Fn::Not object requires a list with exactly one boolean parameter.'
      : fn === 'Fn::Equals'
        ? 'Template error: every Fn::Equals object requires a list of 2 string parameters.'
        : `Template error: every ${fn} object requires a list of at least 2 and at most 10 boolean parameters.`,
  // Wording unverified.
  notACondition: (name: string) =>
    `Template format error: Conditions can only be boolean operations on parameters and other conditions (condition ${name})`,
  // Seen: many reports, e.g. aws/serverless-application-model#832, serverless/serverless#4535.
  unresolvedResources: (names: readonly string[]) =>
    `Template format error: Unresolved resource dependencies ${list(names)} in the Resources block of the template`,
  // Seen without the "Template format error: " prefix in moto's exact-match test, terraform-provider-aws'
  // acceptance tests and several user reports, unlike the Resources variant.
  unresolvedOutputs: (names: readonly string[]) =>
    `Unresolved resource dependencies ${list(names)} in the Outputs block of the template`,
  // Seen: aws/serverless-application-model#1044 and many CDK reports.
  circularResources: (names: readonly string[]) => `Circular dependency between resources: ${list(names)}`,
  // Eucalyptus' AWS clone; wording unverified.
  nameClash: (names: readonly string[]) =>
    `Template error: all resources and parameters must have unique names. Common name(s):${list(names)}`,
  // localstack's text (snapshot-tested against AWS).
  outputWithoutValue: () => 'Template format error: Every Outputs member must contain a Value object',
  // Wording unverified.
  exportWithoutName: (logicalId: string) =>
    `Template format error: [/Outputs/${logicalId}/Export] Every Export member must contain a Name.`,
  // Eucalyptus' AWS clone; wording unverified.
  parameterWithoutType: () => 'Template format error: Every Parameters object must contain a Type member.',
  // Eucalyptus' AWS clone (which mirrors AWS's wording closely elsewhere); wording unverified.
  unrecognizedParameterType: (type: string) => `Template format error: Unrecognized parameter type: ${type}`,
  // Eucalyptus' AWS clone; wording unverified.
  invalidParameterAttributes: (names: readonly string[]) =>
    `Invalid template parameter property or properties ${list(names)}`,
  // Wording unverified.
  parameterAttributeNotNumber: (name: string, attribute: string) =>
    `Template format error: Parameter '${name}' ${attribute} must be a number.`,
  // Wording unverified.
  parameterDefaultNotString: (name: string) =>
    `Template format error: Parameter '${name}' Default must be a string.`,
  // Eucalyptus' AWS clone; wording unverified.
  mappingNotAMap: (name: string) => `Template format error: Every Mappings member ${name} must be a map`,
  // Eucalyptus' AWS clone; wording unverified.
  mappingAttributeValue: () => 'Template format error: Every Mappings attribute must be a String or a List.',
  // Seen: aws/aws-cdk#19278 quoting a deploy-time CloudFormation error.
  mappingAttributeName: (name: string) =>
    `Template format error: Mappings attribute name '${name}' must contain only alphanumeric characters.`,
  // Wording unverified.
  transformShape: () => 'Template format error: Transform must be a string or list of strings.',
  // Wording unverified.
  descriptionNotString: () => 'Template format error: Every Description member must be a string.',

  // Seen: "Unrecognized resource types: [AWS::Lambda::MicrovmImage]" in a deployment guide; the AWS
  // Verified Permissions guide quotes the list without brackets. Order of several types is unverified.
  unrecognizedResourceTypes: (types: readonly string[]) =>
    `Template format error: Unrecognized resource types: ${list(types)}`,
  // Seen: ValidateTemplate outputs quoted in several repositories.
  capabilitiesReason: (types: readonly string[]) =>
    `The following resource(s) require capabilities: ${list(types)}`,

  // Seen: openedx configuration#1993, sat-utils/sat-api#25, boto/botocore#2598.
  parametersMustHaveValues: (names: readonly string[]) => `Parameters: ${list(names)} must have values`,
  // Seen: deployment notes quoting the console and CLI ("Parameters: [AdminEmail] do not exist in the template").
  parametersDoNotExist: (names: readonly string[]) =>
    `Parameters: ${list(names)} do not exist in the template`,
  // Seen: widdix/cfn-create-or-update#15.
  previousValueWithValue: (key: string) =>
    `Invalid input for parameter key ${key}. Cannot specify usePreviousValue as true and non empty value for a parameter`,
  // Seen for CreateChangeSet: mapbox/cfn-config#182, aws/serverless-application-model#122. CreateStack's own
  // wording is unverified; the engine has no way to tell the two apart and uses this one.
  previousValueOnCreate: () => 'Cannot specify UsePreviousValue on Parameters when ChangeSetType is CREATE',
  // Seen: rackerlabs/ebs_snapper#56.
  previousValueMissing: () =>
    'Cannot specify usePreviousValue as true for a parameter key not in the previous template',
  // Seen (the second sentence): eugene-manuilov/cfpack#40; the "Invalid input …" prefix is unverified.
  parameterWithoutValue: (key: string) =>
    `Invalid input for parameter key ${key}. Need to specify either usePreviousValue as true or a value for the parameter`,
  // Seen: several deployment logs quoting CloudFormation ("Parameter 'Stage' must be one of AllowedValues").
  notAllowedValue: (name: string) => `Parameter '${name}' must be one of AllowedValues`,
  // Seen: aws/aws-connected-device-framework#183, aws-quickstart/quickstart-pivotal-cloudfoundry#9.
  patternMismatch: (name: string, pattern: string) => `Parameter '${name}' must match pattern ${pattern}`,
  // Seen: aws-cloudformation/cloudformation-coverage-roadmap#930.
  tooShort: (name: string, min: number) => `Parameter '${name}' must contain at least ${min} characters`,
  // Wording unverified (mirrors tooShort).
  tooLong: (name: string, max: number) => `Parameter '${name}' must contain at most ${max} characters`,
  // Seen: aws/aws-cli#7992.
  notANumber: (name: string) => `Parameter '${name}' must be a number.`,
  // Eucalyptus' AWS clone; wording unverified.
  tooSmall: (name: string, min: number) => `Parameter '${name}' must be a number not less than ${min}`,
  // Eucalyptus' AWS clone; wording unverified.
  tooLarge: (name: string, max: number) => `Parameter '${name}' must be a number not greater than ${max}`,
  // Eucalyptus' AWS clone; wording unverified.
  invalidAllowedPattern: (name: string) =>
    `Parameter '${name}' AllowedPattern must be a valid regular expression.`,
  // Seen: aws/aws-cli#7750, awslabs/aws-config-engine-for-compliance-as-code#12.
  constraintFailed: (name: string, constraintDescription: string) =>
    `Parameter ${name} failed to satisfy constraint: ${constraintDescription}`,

  // Wording unverified.
  refShape: () => 'Template format error: Every Ref object must have a single String value.',
  // Seen: AWS-South-Wales-User-Group/qldb-bicycle-licence#26, smoketurner/serverless-vpc-plugin#705.
  getAttShape: () =>
    'Template error: every Fn::GetAtt object requires two non-empty parameters, the resource name and the resource attribute',
  // Seen: localstack#2372's title and moto's exception text; a Serverless report adds a trailing period.
  unsupportedAttribute: (logicalId: string, attribute: string) =>
    `Template error: resource ${logicalId} does not support attribute type ${attribute} in Fn::GetAtt`,
  // Wording unverified.
  subShape: () =>
    "Template error: One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string",
  // Wording unverified.
  subVariableNotString: (name: string) =>
    `Template error: variable ${name} in Fn::Sub expression does not resolve to a string`,
  // Wording unverified (AWS's long Fn::Join text as commonly quoted).
  joinShape: () =>
    'Template error: every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined.',
  // Wording unverified.
  ifShape: () =>
    'Template error: every Fn::If object requires three parameters, the condition, the value if true and the value if false',
  // Wording unverified.
  selectShape: () =>
    'Template error: every Fn::Select object requires two parameters, (1) an index and (2) a list of strings or a function that returns a list of strings',
  // Seen: aws-samples/1click-hpc#1, aws-samples/amazon-chime-live-events#43.
  selectOutOfRange: (index: number | string) =>
    `Template error: Fn::Select cannot select nonexistent value at index ${index}`,
  // Wording unverified.
  splitShape: () =>
    'Template error: every Fn::Split object requires two parameters, (1) a string delimiter and (2) a string to be split or a function that returns a string to be split.',
  // Seen: cloudtools/troposphere#479, aws/aws-cdk#27987.
  findInMapShape: () =>
    'Template error: every Fn::FindInMap object requires three parameters, the map name, map key and the attribute for return value',
  // Seen: aws-quickstart/quickstart-tableau-server#77, amiracle/grand_central#16.
  mappingNotFound: (map: string, top: string, second: string) =>
    `Template error: Unable to get mapping for ${map}::${top}::${second}`,
  // Wording unverified.
  base64Shape: () => 'Template error: every Fn::Base64 object requires a String value',
  // The reference (§2 Limits and rules) and many user reports ("No export named X found").
  noExport: (name: string) => `No export named ${name} found.`,
  // Wording unverified.
  importValueShape: () => 'Template error: every Fn::ImportValue object requires a String value',
  // Wording unverified.
  getAzsShape: () =>
    'Template error: every Fn::GetAZs object requires a String value (a region name, or empty)',
  // Wording unverified.
  cidrShape: () =>
    'Template error: every Fn::Cidr object requires three parameters, an IP block, the number of subnets and the number of subnet bits',
  // Wording unverified.
  cidrTooSmall: (block: string) => `Template error: Fn::Cidr cannot fit the requested subnets into ${block}`,
  // Wording unverified; the sandbox runs no macros.
  transformUnsupported: () => 'Template error: Fn::Transform (macros) is not supported by the sandbox',
  // Wording unverified.
  unsupportedFunction: (name: string) => `Template format error: Encountered unsupported function: ${name}`,
  // Wording unverified.
  conditionFunctionOutsideConditions: (name: string) =>
    `Template error: ${name} can only be used in the Conditions block of the template`,
} as const;
